package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashTest {
  @Test
  void sha256_knownVectors() {
    assertThat(Hash.sha256(new byte[0]).hex())
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Hash.sha256("abc".getBytes(StandardCharsets.US_ASCII)).hex())
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    byte[] padded = "xxabcxx".getBytes(StandardCharsets.US_ASCII);
    assertThat(Hash.sha256(padded, 2, 3)).isEqualTo(Hash.sha256("abc".getBytes()));
  }

  @Test
  void hex_parse_roundTrips() {
    Random random = new Random(1);
    for (int i = 0; i < 1000; i++) {
      byte[] bytes = new byte[Hash.BYTES];
      random.nextBytes(bytes);
      Hash h = Hash.fromBytes(bytes);
      assertThat(Hash.parse(h.hex())).isEqualTo(h);
      assertThat(Hash.parse(h.hex().toUpperCase())).isEqualTo(h);
      assertThat(h.toBytes()).isEqualTo(bytes);
      assertThat(h.shortHex()).isEqualTo(h.hex().substring(0, 12)).isEqualTo(h.toString());
    }
  }

  @Test
  void compareTo_agreesWithHexOrder() {
    Random random = new Random(2);
    List<Hash> hashes = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      byte[] bytes = new byte[Hash.BYTES];
      random.nextBytes(bytes);
      if (i % 3 == 0) {
        bytes[0] = (byte) (i % 2 == 0 ? 0x80 : 0x7f); // straddle the sign bit of the first word
      }
      hashes.add(Hash.fromBytes(bytes));
    }
    List<Hash> byCompare = new ArrayList<>(hashes);
    byCompare.sort(Comparator.naturalOrder());
    List<Hash> byHex = new ArrayList<>(hashes);
    byHex.sort(Comparator.comparing(Hash::hex));
    assertThat(byCompare).isEqualTo(byHex);
  }

  @Test
  void parse_badInput_isInvalidInput() {
    for (String bad : List.of("", "abc", "g".repeat(64), "0".repeat(63), "0".repeat(65))) {
      assertThatThrownBy(() -> Hash.parse(bad))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT));
    }
  }
}
