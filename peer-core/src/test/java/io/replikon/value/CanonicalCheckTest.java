package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CanonicalCheckTest {
  private static final HexFormat HEX = HexFormat.of();

  /** The definition: the bytes decode, and encoding the result gives the same bytes. */
  static boolean canonicalByReencoding(byte[] bytes) {
    JsonNode value;
    try {
      value = CanonicalCbor.decode(bytes);
    } catch (ReplikonException e) {
      return false;
    }
    return Arrays.equals(CanonicalCbor.encode(value), bytes);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "23 in two bytes, 1817",
      "256 in four bytes, 1a00000100",
      "indefinite array, 9f01ff",
      "indefinite text, 7f6161ff",
      "unsorted keys, a2616201616102",
      "repeated key, a2616101616102",
      "longer key first, a2626161016162",
      "1.5 as float32, fa3fc00000",
      "1.5 as float64, fb3ff8000000000000",
      "NaN with a payload, f97e01",
      "negative NaN, f9fe00",
      "NaN as float32, fa7fc00000",
      "bignum that fits 64 bits, c2420005",
      "bignum with a leading zero, c24a00010000000000000000",
      "tag 2 in a long head, d80249010000000000000000",
      "tag 0, c060",
      "undefined, f7",
      "text not UTF-8, 62c328",
      "trailing byte, 0000",
  })
  void requireCanonical_aNonCanonicalForm_isRefused(String what, String hex) {
    byte[] bytes = HEX.parseHex(hex);
    assertThat(canonicalByReencoding(bytes)).as("the definition agrees").isFalse();
    assertThatThrownBy(() -> CanonicalCbor.requireCanonical(bytes))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason())
        .isEqualTo(ReplikonException.Reason.MALFORMED_VALUE);
  }

  @Test
  void requireCanonical_agreesWithDecodeAndReencode_onValuesAndTheirMutations() {
    RandomValues values = new RandomValues(5);
    Random random = new Random(5);
    for (int i = 0; i < 5000; i++) {
      byte[] bytes = CanonicalCbor.encode(values.value(4));
      assertThat(CanonicalCbor.isCanonical(bytes)).isTrue();
      if (i % 2 == 1) {
        for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
      }
      assertThat(CanonicalCbor.isCanonical(bytes)).as(HEX.formatHex(bytes))
          .isEqualTo(canonicalByReencoding(bytes));
    }
  }

  @Test
  void canonicalItemEnd_returnsWhereTheItemEnds() {
    byte[] two = HEX.parseHex("8201026161");
    assertThat(CanonicalCbor.canonicalItemEnd(two, 0, two.length)).isEqualTo(3);
    assertThat(CanonicalCbor.canonicalItemEnd(two, 3, two.length)).isEqualTo(5);
  }
}
