package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The transcoder against the tree path it replaces: JSON text byte for byte as Jackson writes the
 * decoded tree, and the same failures with the same messages.
 */
class CborJsonTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** What the JSON lines sink wrote before: Jackson over the decoded tree. */
  private static String viaTree(byte[] cbor) throws Exception {
    return new String(JSON.writeValueAsBytes(CanonicalCbor.decode(cbor)), StandardCharsets.UTF_8);
  }

  private static String transcoded(byte[] cbor) {
    ByteBuilder out = new ByteBuilder(4);
    int end = CborJson.write(cbor, 0, cbor.length, out);
    assertThat(end).isEqualTo(cbor.length);
    assertThat(CborJson.skip(cbor, 0, cbor.length)).isEqualTo(cbor.length);
    return new String(out.array(), 0, out.size(), StandardCharsets.UTF_8);
  }

  private static void assertSameAsTree(byte[] cbor) throws Exception {
    assertThat(transcoded(cbor)).as(HEX.formatHex(cbor)).isEqualTo(viaTree(cbor));
  }

  @RepeatedTest(400)
  void write_randomValue_isWhatJacksonWritesForTheDecodedTree(RepetitionInfo repetition)
      throws Exception {
    long seed = repetition.getCurrentRepetition();
    JsonNode value = new RandomValues(seed).value(5);
    assertSameAsTree(CanonicalCbor.encode(value));
  }

  @RepeatedTest(200)
  void write_unescapedAstral_isWhatJacksonWritesAsAString(RepetitionInfo repetition)
      throws Exception {
    long seed = 1000 + repetition.getCurrentRepetition();
    byte[] cbor = CanonicalCbor.encode(new RandomValues(seed).value(5));
    ByteBuilder out = new ByteBuilder(0);
    assertThat(CborJson.write(cbor, 0, cbor.length, out, false)).isEqualTo(cbor.length);
    assertThat(new String(out.toByteArray(), StandardCharsets.UTF_8)).as("seed %d", seed)
        .isEqualTo(JSON.writeValueAsString(CanonicalCbor.decode(cbor)));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "a", "\"quoted\"", "back\\slash", "slash/", "tab\there", "new\nline\r\n", "\b\f",
    "\u0000\u0001\u001f\u007f", "é", "水", "日本語", "😀", "👍🏽", "🇩🇪", "x😀y", "𝄞",
    "\uffff",
    "\ue000", "\u2028\u2029", "\u0080\u07ff\u0800", "</script>", "mixed \"é\"\n😀\\",
  })
  void write_text_escapesAsJackson(String text) throws Exception {
    assertSameAsTree(CanonicalCbor.encode(NODES.textNode(text)));
    ObjectNode keyed = NODES.objectNode();
    keyed.put(text, text);
    keyed.put(text + "2", 2);
    assertSameAsTree(CanonicalCbor.encode(keyed));
    ByteBuilder out = new ByteBuilder(0);
    CborJson.writeString(text, out);
    assertThat(new String(out.toByteArray(), StandardCharsets.UTF_8))
        .isEqualTo(new String(JSON.writeValueAsBytes(text), StandardCharsets.UTF_8));
    byte[] cbor = CanonicalCbor.encode(keyed);
    ByteBuilder asString = new ByteBuilder(0);
    CborJson.write(cbor, 0, cbor.length, asString, false);
    assertThat(new String(asString.toByteArray(), StandardCharsets.UTF_8))
        .isEqualTo(JSON.writeValueAsString(CanonicalCbor.decode(cbor)));
  }

  @Test
  void write_numbers_asJackson() throws Exception {
    for (long v : new long[] {0, 1, -1, 23, 24, -24, -25, 255, 256, Integer.MAX_VALUE,
        Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, 1_100_000_000_000_000_000L}) {
      assertSameAsTree(CanonicalCbor.encode(NODES.numberNode(v)));
    }
    BigInteger two64 = BigInteger.ONE.shiftLeft(64);
    for (BigInteger v : new BigInteger[] {two64, two64.subtract(BigInteger.ONE),
        two64.negate(), two64.negate().subtract(BigInteger.ONE), two64.pow(3).negate(),
        BigInteger.TEN.pow(40)}) {
      assertSameAsTree(CanonicalCbor.encode(NODES.numberNode(v)));
    }
    for (double d : new double[] {0.0, -0.0, 1.5, 0.1, 1e300, -1e-300, 65504.0,
        5.960464477539063e-8, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1.0 / 3}) {
      assertSameAsTree(CanonicalCbor.encode(NODES.numberNode(d)));
    }
    assertSameAsTree(CanonicalCbor.encode(NODES.numberNode(0.1f)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "uint64 max,                1bffffffffffffffff",
    "nint64 max,                3bffffffffffffffff",
    "long max as uint64,        1b7fffffffffffffff",
    "long min,                  3b7fffffffffffffff",
    "uint64 above long,         1b8000000000000000",
    "small bignum,              c24105",
    "small negative bignum,     c35f4101ff",
    "empty bignum,              c240",
    "bignum 2^64,               c249010000000000000000",
    "bignum -2^64-1,            c349010000000000000000",
    "half 1.5,                  f93e00",
    "half subnormal,            f90001",
    "half NaN,                  f97e00",
    "half -inf,                 f9fc00",
    "float 0.1,                 fa3dcccccd",
    "float 1.5,                 fa3fc00000",
    "double 1.1,                fb3ff199999999999a",
    "non-shortest uint,         1817",
    "indefinite text,           7f62c3a96161ff",
    "indefinite bytes,          5f42010243030405ff",
    "empty indefinite bytes,    5fff",
    "bytes,                     4401020304",
    "indefinite array,          9f0102f6f5f4ff",
    "nested indefinite,         9f9fff80bfffa0ff",
    "indefinite map,            bf61610161628102ff",
    "unsorted keys,             a3616302616201616103",
    "longer key first,          a262616101616102",
    "indefinite key,            a27f6161ff017f6162ff02",
    "two keys,                  a261610162616202",
    "null true false,           83f6f5f4",
  })
  void write_edgeEncodings_asJackson(String what, String hex) throws Exception {
    assertSameAsTree(HEX.parseHex(hex));
  }

  @Test
  void write_bytes_asBase64() throws Exception {
    Random random = new Random(7);
    for (int n = 0; n < 70; n++) {
      byte[] b = new byte[n];
      random.nextBytes(b);
      assertSameAsTree(CanonicalCbor.encode(NODES.binaryNode(b)));
    }
  }

  @Test
  void write_insideLargerInput_readsOneItemAndReturnsItsEnd() {
    byte[] cbor = HEX.parseHex("ff82616101ff"); // [ "a", 1 ] between two other bytes
    ByteBuilder out = new ByteBuilder(0);
    assertThat(CborJson.write(cbor, 1, cbor.length, out)).isEqualTo(5);
    assertThat(new String(out.toByteArray(), StandardCharsets.UTF_8)).isEqualTo("[\"a\",1]");
    assertThat(CborJson.skip(cbor, 1, cbor.length)).isEqualTo(5);
    assertThat(CborJson.skip(cbor, 2, 4)).isEqualTo(4);
    assertThat(CanonicalCbor.decode(cbor, 1, 4)).isEqualTo(
        NODES.arrayNode().add("a").add(1));
    assertThatThrownBy(() -> CborJson.skip(cbor, 1, 4))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("offset 4");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "duplicate key,             a2616101616102",
    "duplicate key indefinite,  bf616101616102ff",
    "duplicate after others,    a461610161620261630361620a",
    "duplicate key in chunks,   a27f6161ff017f6161ff02",
    "duplicate of chunked key,  a27f6161ff01616102",
    "malformed value first,     a26161016161f7",
    "truncated float64,         fb3ff19999",
    "unknown tag,               c074323031332d30",
    "integer key,               a10102",
    "undefined,                 f7",
    "lone break,                ff",
    "bad utf8,                  62c328",
    "utf8 surrogate,            63eda080",
    "split code point,          7f61c361bcff",
    "bignum of text,            c26161",
    "huge map,                  ba7fffffff00",
  })
  void write_malformed_failsAsTheDecoder(String what, String hex) {
    assertFailsAsDecoder(HEX.parseHex(hex));
  }

  private static void assertFailsAsDecoder(byte[] bytes) {
    String expected = null;
    try {
      CanonicalCbor.decode(bytes);
    } catch (ReplikonException e) {
      expected = e.getMessage();
    }
    assertThat(expected).as("the decoder rejects %s", HEX.formatHex(bytes)).isNotNull();
    for (int mode = 0; mode < 2; mode++) {
      boolean write = mode == 1;
      assertThatThrownBy(() -> {
        if (write) {
          CborJson.write(bytes, 0, bytes.length, new ByteBuilder(0));
        } else {
          CborJson.skip(bytes, 0, bytes.length);
        }
      }).isInstanceOfSatisfying(ReplikonException.class,
          e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE))
          .hasMessage(expected);
    }
  }

  @Test
  void write_nestingAtTheLimit_asTheDecoder() throws Exception {
    byte[] deepest = new byte[CborDecoder.MAX_DEPTH + 1];
    java.util.Arrays.fill(deepest, (byte) 0x81);
    deepest[CborDecoder.MAX_DEPTH] = (byte) 0xf6;
    assertSameAsTree(deepest);
    byte[] tooDeep = new byte[CborDecoder.MAX_DEPTH + 2];
    java.util.Arrays.fill(tooDeep, (byte) 0x81);
    tooDeep[CborDecoder.MAX_DEPTH + 1] = (byte) 0xf6;
    assertFailsAsDecoder(tooDeep);
    byte[] bomb = new byte[100_000];
    java.util.Arrays.fill(bomb, (byte) 0x9f);
    assertFailsAsDecoder(bomb);
  }

  @Test
  void write_mutatedBytes_agreesWithTheDecoder() throws Exception {
    RandomValues values = new RandomValues(41);
    Random random = new Random(41);
    for (int i = 0; i < 4000; i++) {
      byte[] bytes = CanonicalCbor.encode(values.value(3));
      for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      }
      JsonNode tree = null;
      String failure = null;
      try {
        tree = CanonicalCbor.decode(bytes);
      } catch (ReplikonException e) {
        failure = e.getMessage();
      }
      ByteBuilder out = new ByteBuilder(16);
      int end;
      try {
        end = CborJson.write(bytes, 0, bytes.length, out);
      } catch (ReplikonException e) {
        assertThat(e.getMessage()).as(HEX.formatHex(bytes)).isEqualTo(failure);
        assertThatThrownBy(() -> CborJson.skip(bytes, 0, bytes.length))
            .hasMessage(e.getMessage());
        continue;
      }
      assertThat(CborJson.skip(bytes, 0, bytes.length)).isEqualTo(end);
      if (end < bytes.length) {
        assertThat(failure).as(HEX.formatHex(bytes)).contains("trailing byte(s)");
      } else {
        assertThat(failure).as(HEX.formatHex(bytes)).isNull();
        assertThat(new String(out.array(), 0, out.size(), StandardCharsets.UTF_8))
            .as(HEX.formatHex(bytes))
            .isEqualTo(new String(JSON.writeValueAsBytes(tree), StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void utf8Scan_findsTheSameBytesAsALoop() {
    Random random = new Random(3);
    byte[] interesting = {0, 0x1f, 0x20, 0x21, '"', '\\', 0x5b, 0x5d, 0x7f, (byte) 0x80,
        (byte) 0xc3, (byte) 0xff, 'a', 'z'};
    for (int t = 0; t < 20_000; t++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        b[i] = random.nextInt(4) == 0 ? interesting[random.nextInt(interesting.length)]
            : (byte) (0x20 + random.nextInt(0x5f));
      }
      int from = b.length == 0 ? 0 : random.nextInt(b.length);
      int ascii = from;
      while (ascii < b.length && b[ascii] >= 0) {
        ascii++;
      }
      int plain = from;
      while (plain < b.length && b[plain] >= 0x20 && b[plain] != '"' && b[plain] != '\\') {
        plain++;
      }
      assertThat(Utf8Scan.asciiRun(b, from, b.length)).isEqualTo(ascii);
      assertThat(Utf8Scan.plainJsonRun(b, from, b.length)).isEqualTo(plain);
    }
  }

  @Test
  void byteBuilder_growsAndWritesDecimals() {
    ByteBuilder b = new ByteBuilder(0);
    for (long v : new long[] {0, 7, -7, 10, 99, 100, Long.MAX_VALUE, Long.MIN_VALUE, -10}) {
      b.clear();
      b.writeDecimal(v);
      assertThat(new String(b.toByteArray(), StandardCharsets.US_ASCII))
          .isEqualTo(Long.toString(v));
    }
    b.clear();
    for (int i = 0; i < 1000; i++) {
      b.write(i);
    }
    assertThat(b.size()).isEqualTo(1000);
    assertThat(b.array()[999]).isEqualTo((byte) 999);
  }
}
