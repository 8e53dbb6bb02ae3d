package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CanonicalCborDecodeTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static void assertMalformed(byte[] bytes, String mentions) {
    assertThatThrownBy(() -> CanonicalCbor.decode(bytes))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE))
        .hasMessageContaining("offset")
        .hasMessageContaining(mentions);
    assertThat(CanonicalCbor.isCanonical(bytes)).isFalse();
  }

  @ParameterizedTest(name = "{0}: {2}")
  @CsvSource({
    "empty input,               '',                         the input is empty",
    "truncated uint,            19ff,                       truncated input",
    "truncated text,            6361,                       declares 3 bytes but only 1 remain",
    "truncated array,           8301,                       declares 3 items but only 1",
    "truncated map value,       a16161,                     truncated input",
    "unterminated indefinite,   9f0102,                     has no break",
    "unterminated chunks,       5f4101,                     has no break",
    "truncated float64,         fb3ff19999,                 truncated input",
    "trailing bytes,            0000,                       1 trailing byte(s)",
    "trailing break,            80ff,                       1 trailing byte(s)",
    "unknown tag,               c074323031332d30,           tag 0 is not supported",
    "huge tag,                  db7fffffffffffffff00,       tag 9223372036854775807 is not",
    "bignum of text,            c26161,                     bignum tag 2 is a text string",
    "integer key,               a10102,                     map key is an unsigned integer",
    "array key,                 a1800102,                   map key is an array",
    "duplicate key,             a2616101616102,             duplicate map key \"a\"",
    "duplicate key indefinite,  bf616101616102ff,           duplicate map key \"a\"",
    "undefined,                 f7,                         undefined",
    "simple 16,                 f0,                         simple(16)",
    "simple 255,                f8ff,                       simple(255)",
    "reserved ai,               1c,                         reserved additional information 28",
    "reserved ai major 7,       fc,                         reserved additional information 28",
    "lone break,                ff,                         break (0xff) outside",
    "break as map value,        bf6161ff,                   break (0xff) outside",
    "indefinite integer,        1f,                         cannot have indefinite length",
    "nested indefinite chunk,   5f5f4100ffff,               expected a definite-length byte string",
    "wrong chunk type,          7f4100ff,                   expected a definite-length text string",
    "huge byte string,          5b7fffffffffffffff00,       declares 9223372036854775807 bytes",
    "huge uint64 string,        7bffffffffffffffff00,       declares 18446744073709551615 bytes",
    "huge array,                9bffffffffffffffff00,       declares 18446744073709551615 items",
    "huge map,                  ba7fffffff00,               declares 2147483647 entries",
    "array over remaining,      8a00000000,                 declares 10 items but only 4 bytes",
    "bad utf8 continuation,     62c328,                     not well-formed UTF-8",
    "overlong utf8,             62c080,                     not well-formed UTF-8",
    "utf8 surrogate,            63eda080,                   not well-formed UTF-8",
    "split code point,          7f61c361bcff,               not well-formed UTF-8",
  })
  void decode_malformedInput_isRejected(String what, String hex, String mentions) {
    assertMalformed(HEX.parseHex(hex), mentions);
  }

  @Test
  void decode_truncatedInput_everyPrefixIsRejected() {
    RandomValues values = new RandomValues(5);
    for (int i = 0; i < 200; i++) {
      byte[] full = CanonicalCbor.encode(values.value(4));
      for (int len = 0; len < full.length; len++) {
        byte[] prefix = Arrays.copyOf(full, len);
        assertThatThrownBy(() -> CanonicalCbor.decode(prefix))
            .as("prefix of %d of %s", len, HEX.formatHex(full))
            .isInstanceOfSatisfying(ReplikonException.class,
                e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE));
      }
    }
  }

  @Test
  void decode_depthBomb_isRejectedWithoutStackOverflow() {
    byte[] arrays = new byte[1_000_000];
    Arrays.fill(arrays, (byte) 0x81);
    assertMalformed(arrays, "nesting deeper than 512");
    byte[] indefinite = new byte[1_000_000];
    Arrays.fill(indefinite, (byte) 0x9f);
    assertMalformed(indefinite, "nesting deeper than 512");
    byte[] maps = new byte[300_000];
    for (int i = 0; i + 1 < maps.length; i += 2) {
      maps[i] = (byte) 0xa1; // a map of one entry
      maps[i + 1] = 0x60; // whose key is "" and whose value is the next map
    }
    assertMalformed(maps, "nesting deeper than 512");
  }

  @Test
  void decode_nestingAtLimit_isAccepted() {
    byte[] bytes = new byte[513];
    Arrays.fill(bytes, 0, 512, (byte) 0x81);
    bytes[512] = (byte) 0xf6;
    JsonNode v = CanonicalCbor.decode(bytes);
    for (int i = 0; i < 512; i++) {
      v = v.get(0);
    }
    assertThat(v.isNull()).isTrue();
    byte[] tooDeep = new byte[514];
    tooDeep[0] = (byte) 0x81;
    System.arraycopy(bytes, 0, tooDeep, 1, 513);
    assertMalformed(tooDeep, "nesting deeper than 512");
  }

  @Test
  void decode_errorMessage_namesOffsetOfProblem() {
    assertMalformed(HEX.parseHex("83010203" + "04"), "offset 4");
    assertMalformed(HEX.parseHex("8301" + "c100" + "03"), "offset 2: tag 1");
    assertMalformed(HEX.parseHex("a2" + "616101" + "6161" + "02"), "offset 4: duplicate");
  }

  @Test
  void decode_integers_comeBackAsNodeTypeBySize() {
    assertThat(CanonicalCbor.decode(HEX.parseHex("1a7fffffff"))).isEqualTo(
        NODES.numberNode(Integer.MAX_VALUE));
    assertThat(CanonicalCbor.decode(HEX.parseHex("1a80000000"))).isEqualTo(
        NODES.numberNode(0x80000000L));
    assertThat(CanonicalCbor.decode(HEX.parseHex("3b7fffffffffffffff"))).isEqualTo(
        NODES.numberNode(Long.MIN_VALUE));
    assertThat(CanonicalCbor.decode(HEX.parseHex("1b8000000000000000"))).isEqualTo(
        NODES.numberNode(BigInteger.ONE.shiftLeft(63)));
    assertThat(CanonicalCbor.decode(HEX.parseHex("3b8000000000000000"))).isEqualTo(
        NODES.numberNode(BigInteger.ONE.shiftLeft(63).negate().subtract(BigInteger.ONE)));
    // A bignum that is small (non-canonical) decodes by value, and is not canonical.
    byte[] smallBignum = HEX.parseHex("c2420005");
    assertThat(CanonicalCbor.decode(smallBignum)).isEqualTo(NODES.numberNode(5));
    assertThat(CanonicalCbor.isCanonical(smallBignum)).isFalse();
    assertThat(CanonicalCbor.decode(HEX.parseHex("c35f4101ff"))).isEqualTo(NODES.numberNode(-2));
    assertThat(CanonicalCbor.decode(HEX.parseHex("c240"))).isEqualTo(NODES.numberNode(0));
  }

  @Test
  void isCanonical_nonCanonicalForms_areRecognised() {
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("1817"))).isFalse(); // 23 in two bytes
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("a2616201616102"))).isFalse(); // unsorted
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("a2616102616201"))).isTrue();
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("fa3fc00000"))).isFalse(); // 1.5 as f32
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("f97e01"))).isFalse(); // NaN payload
    assertThat(CanonicalCbor.isCanonical(HEX.parseHex("780161"))).isFalse(); // long text header
  }

  @RepeatedTest(300)
  void decode_encodedRandomValue_givesValueBack(RepetitionInfo repetition) {
    long seed = repetition.getCurrentRepetition();
    JsonNode value = new RandomValues(seed).value(5);
    byte[] encoded = CanonicalCbor.encode(value);
    JsonNode decoded = CanonicalCbor.decode(encoded);
    assertThat(decoded).as("seed %d", seed).isEqualTo(RandomValues.normalize(value));
    assertThat(CanonicalCbor.encode(decoded)).as("seed %d", seed).isEqualTo(encoded);
    assertThat(CanonicalCbor.isCanonical(encoded)).as("seed %d", seed).isTrue();
    assertThat(CanonicalCbor.hash(decoded)).isEqualTo(Hash.sha256(encoded));
  }

  @Test
  void decode_mutatedBytes_neverFailsOtherThanMalformed() {
    RandomValues values = new RandomValues(99);
    java.util.Random random = new java.util.Random(99);
    for (int i = 0; i < 3000; i++) {
      byte[] bytes = CanonicalCbor.encode(values.value(3));
      for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      }
      try {
        JsonNode v = CanonicalCbor.decode(bytes);
        CanonicalCbor.encode(v); // whatever decodes is a value
      } catch (ReplikonException e) {
        assertThat(e.reason()).as(HEX.formatHex(bytes)).isEqualTo(
            ReplikonException.Reason.MALFORMED_VALUE);
      }
    }
  }
}
