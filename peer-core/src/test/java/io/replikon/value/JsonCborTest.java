package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JSON text straight to canonical CBOR, against the tree path it replaces: Jackson's
 * {@code readTree} then {@link CanonicalCbor#encode}. Same bytes for every value, and a refusal
 * for every text that path refuses.
 */
class JsonCborTest {
  private static final HexFormat HEX = HexFormat.of();
  /** As the collector parsed before: strict about trailing content and duplicate keys. */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
  private static final ObjectMapper PRETTY = new ObjectMapper();

  private static byte[] viaTree(byte[] json) throws Exception {
    return CanonicalCbor.encode(JSON.readTree(json));
  }

  private static byte[] direct(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return JsonCbor.encode(bytes, 0, bytes.length);
  }

  private static void assertSameAsTree(byte[] json) throws Exception {
    byte[] expected = viaTree(json);
    // inside a larger array, at an offset, as callers hand it over
    byte[] padded = new byte[json.length + 7];
    System.arraycopy(json, 0, padded, 3, json.length);
    assertThat(HEX.formatHex(JsonCbor.encode(padded, 3, json.length)))
        .as("%s", new String(json, StandardCharsets.UTF_8))
        .isEqualTo(HEX.formatHex(expected));
  }

  @RepeatedTest(400)
  void encode_randomValues_givesTheTreesEncoding(RepetitionInfo info) throws Exception {
    RandomValues values = new RandomValues(info.getCurrentRepetition());
    for (int i = 0; i < 10; i++) {
      JsonNode value = values.value(4);
      assertSameAsTree(PRETTY.writeValueAsBytes(value));
      assertSameAsTree(PRETTY.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
    }
  }

  @RepeatedTest(100)
  void encode_randomTextWithEscapesAndWhitespace_givesTheTreesEncoding(RepetitionInfo info)
      throws Exception {
    Random random = new Random(info.getCurrentRepetition());
    for (int i = 0; i < 20; i++) {
      assertSameAsTree(randomJson(random, 3).getBytes(StandardCharsets.UTF_8));
    }
  }

  /** JSON text as people and other encoders write it: any escape, any whitespace. */
  private static String randomJson(Random random, int depth) {
    StringBuilder out = new StringBuilder();
    String ws = List.of("", " ", "\n", "\t", "\r\n  ").get(random.nextInt(5));
    int kind = random.nextInt(depth <= 0 ? 4 : 6);
    switch (kind) {
      case 0 -> out.append(randomString(random));
      case 1 -> out.append(List.of("0", "-0", "1", "-1", "23", "24", "-24", "-25", "255", "256",
          "65535", "65536", "4294967295", "4294967296", "9223372036854775807",
          "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
          "18446744073709551615", "18446744073709551616", "-18446744073709551616",
          "-18446744073709551617", "123456789012345678", "1234567890123456789",
          "99999999999999999999999999999999999").get(random.nextInt(25)));
      case 2 -> out.append(List.of("0.0", "-0.0", "1.5", "1e2", "1E+2", "1e-2", "-1.5e-3",
          "0.1", "1.0", "65504.0", "65505", "4.9e-324", "1e-400",
          "3.4028234663852886e38", "2.5e-8", "12345.6789e-3", "1.7976931348623157e308")
          .get(random.nextInt(17)));
      case 3 -> out.append(List.of("true", "false", "null").get(random.nextInt(3)));
      case 4 -> {
        out.append('[').append(ws);
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
          out.append(i > 0 ? "," + ws : "").append(randomJson(random, depth - 1)).append(ws);
        }
        out.append(']');
      }
      default -> {
        out.append('{').append(ws);
        int n = random.nextInt(6);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          String key;
          do {
            key = randomString(random);
          } while (keys.contains(decode(key)));
          keys.add(decode(key));
          out.append(i > 0 ? "," + ws : "").append(key).append(ws).append(':').append(ws)
              .append(randomJson(random, depth - 1)).append(ws);
        }
        out.append('}');
      }
    }
    return out.toString();
  }

  private static String decode(String jsonString) {
    try {
      return JSON.readTree(jsonString).textValue();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JSON string literal mixing raw and escaped characters of every width. */
  private static String randomString(Random random) {
    StringBuilder out = new StringBuilder("\"");
    int n = random.nextInt(4) == 0 ? List.of(22, 23, 24, 255, 256, 300).get(random.nextInt(6))
        : random.nextInt(10);
    for (int i = 0; i < n; i++) {
      int cp = switch (random.nextInt(6)) {
        case 0 -> random.nextInt(0x20);
        case 1 -> 0x80 + random.nextInt(0x780);
        case 2 -> {
          int c = 0x800 + random.nextInt(0x10000 - 0x800);
          yield Character.isSurrogate((char) c) ? 'q' : c;
        }
        case 3 -> 0x10000 + random.nextInt(0x100000);
        default -> 0x20 + random.nextInt(0x5f);
      };
      boolean escape = cp < 0x20 || cp == '"' || cp == '\\' || random.nextInt(5) == 0;
      if (!escape) {
        out.appendCodePoint(cp);
      } else if (cp == '"' || cp == '\\' || cp == '/' && random.nextBoolean()) {
        out.append('\\').append((char) cp);
      } else if (cp == '\n' && random.nextBoolean()) {
        out.append("\\n");
      } else {
        for (char c : Character.toChars(cp)) {
          out.append(String.format(random.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
        }
      }
    }
    return out.append('"').toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-0", "-1", "1e2", "-0.0", "1e-400", "-1e-400",
      "18446744073709551616", "-18446744073709551617", "1234567890123456789012", "\"\"",
      "\"\\u0000\"", "\"\\ud83d\\ude00\"", "\"😀\"", "\"\\/\"", "[]", "{}", "[[[]]]",
      " \t\r\n{ \"b\" : 1 , \"a\" : [ 1 , 2 ] } \n", "{\"aa\":1,\"b\":2,\"a\":3,\"\":4}",
      "{\"k\":{\"z\":1,\"y\":{\"x\":[{\"b\":0,\"a\":1}]}},\"a\":\"\\n\"}"})
  void encode_edgeCases_giveTheTreesEncoding(String json) throws Exception {
    assertSameAsTree(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void encode_sizesAtHeaderBoundaries_giveTheTreesEncoding() throws Exception {
    for (int n : new int[] {23, 24, 255, 256, 65535, 65536}) {
      String text = "x".repeat(n);
      assertSameAsTree(("\"" + text + "\"").getBytes(StandardCharsets.UTF_8));
      StringBuilder array = new StringBuilder("[");
      StringBuilder object = new StringBuilder("{");
      for (int i = 0; i < n; i++) {
        array.append(i > 0 ? "," : "").append(i);
        object.append(i > 0 ? "," : "").append('"').append(n - i).append("\":").append(i);
      }
      assertSameAsTree(array.append(']').toString().getBytes(StandardCharsets.UTF_8));
      assertSameAsTree(object.append('}').toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void encode_objectKeys_areInCanonicalOrderAtEveryDepth() {
    // shorter keys first, then bytewise: "b" < "aa"
    assertThat(HEX.formatHex(direct("{\"aa\":{\"b\":1,\"a\":2},\"b\":true}")))
        .isEqualTo("a2" + "6162" + "f5" + "626161" + "a2" + "6161" + "02" + "6162" + "01");
  }

  @Test
  void encode_objectsLikeOnesReadBefore_giveTheTreesEncoding() throws Exception {
    // Each reader caches the key order of objects it has read: objects whose keys differ from a
    // cached sequence only past their first eight bytes, in the middle or at the end of a long
    // key, in their number, or by a duplicate, must not be taken for it.
    String longKey = "profile_background_image_url";
    List<String> objects = new ArrayList<>();
    for (String variant : List.of(longKey, longKey.replace("image", "imagf"),
        longKey.replace("url", "urm"), longKey + "_https", "profile_", "profile_a")) {
      objects.add("{\"" + variant + "\":1,\"id\":2,\"a\":3}");
      objects.add("{\"" + variant + "\":1,\"id\":2,\"a\":3,\"b\":4}");
      objects.add("{\"a\":1,\"id\":2,\"" + variant + "\":3}");
    }
    for (int round = 0; round < 2; round++) {
      for (String object : objects) {
        assertSameAsTree(object.getBytes(StandardCharsets.UTF_8));
      }
    }
    assertThatThrownBy(() -> direct("{\"id\":2,\"id\":2,\"a\":3}"))
        .hasMessageContaining("duplicate key \"id\"");
    assertThatThrownBy(() -> direct("{\"" + longKey + "\":1,\"id\":2,\"" + longKey + "\":3}"))
        .hasMessageContaining("duplicate key \"" + longKey + "\"");
  }

  @Test
  void encode_byteOrderMark_isSkipped() throws Exception {
    byte[] json = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '[', '1', ']'};
    assertThat(JsonCbor.encode(json, 0, json.length)).isEqualTo(HEX.parseHex("8101"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "01", "-01",
      "1.", ".5", "-", "+1", "1e", "1e+", "tru", "nul", "falsey", "[1 2]", "{\"a\" 1}", "{a:1}",
      "'a'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\tb\"", "1 2", "[1]]", "NaN",
      "Infinity", "-Infinity", "{\"a\":1,\"a\":2}", "{\"b\":{\"x\":1,\"y\":2,\"x\":1}}",
      "{\"a\":1,\"b\":2,\"a\":1}", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
      "\"\\ud800x\"", "[\"\\udfff\\ud800\"]", "{\"a\":1}{", "/* c */ 1", "[1]//"})
  void encode_whatTheTreePathRefuses_isRefused(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> viaTree(bytes)).as("the tree path").isNotNull();
    assertThatThrownBy(() -> JsonCbor.encode(bytes, 0, bytes.length))
        .isInstanceOf(ReplikonException.class)
        .hasMessageStartingWith("invalid JSON: ")
        .matches(e -> ((ReplikonException) e).reason() == ReplikonException.Reason.INVALID_INPUT);
  }

  @Test
  void encode_invalidUtf8_isRefused() {
    for (String hex : List.of("22ff22", "22c08022", "22c122", "22e0808022", "22eda08022",
        "22f4908080" + "22", "22f880808080" + "22", "22e282" + "22", "22c3")) {
      byte[] json = HEX.parseHex(hex);
      assertThatThrownBy(() -> JsonCbor.encode(json, 0, json.length)).as(hex)
          .isInstanceOf(ReplikonException.class).hasMessageContaining("invalid");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e400", "-1e400", "1.8e308", "[0, 2E+999]", "{\"a\": -9.9e99999}"})
  void encode_aNumberThatIsNotAFiniteDouble_isRefused_whereJacksonWouldMakeItInfinity(
      String json) throws Exception {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    assertThat(viaTree(bytes)).as("the tree path would encode Infinity").isNotEmpty();
    assertThatThrownBy(() -> JsonCbor.encode(bytes, 0, bytes.length))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("is not a finite 64-bit float").hasMessageContaining("column")
        .matches(e -> ((ReplikonException) e).reason() == ReplikonException.Reason.INVALID_INPUT);
  }

  @Test
  void encode_integersOfAnySize_andUnderflowingFloats_areStillAccepted() {
    assertThat(direct("1" + "0".repeat(400))).hasSizeGreaterThan(160);
    assertThat(HEX.formatHex(direct("1e-400"))).isEqualTo("f90000");
    assertThat(HEX.formatHex(direct("1.7976931348623157e308"))).isEqualTo("fb7fefffffffffffff");
  }

  @Test
  void encode_errors_nameWhatAndWhere() {
    assertThatThrownBy(() -> direct("{\n  \"a\": 1,\n  \"a\": 2\n}"))
        .hasMessage("invalid JSON: duplicate key \"a\" in the object that ends here at line 4"
            + " column 2");
    assertThatThrownBy(() -> direct("[1,\n 2 x]"))
        .hasMessage("invalid JSON: expected ',' or ']' but found 'x' at line 2 column 4");
    assertThatThrownBy(() -> direct("{\"a\":1} 2"))
        .hasMessage("invalid JSON: trailing content after the value: '2' at line 1 column 9");
    assertThatThrownBy(() -> direct("\"ab\\u00"))
        .hasMessage("invalid JSON: a \\u escape needs four hex digits at line 1 column 4");
  }

  @Test
  void encode_deepNesting_isRefusedAtTheDecodersLimit() {
    int limit = CborDecoder.MAX_DEPTH;
    String ok = "[".repeat(limit) + "]".repeat(limit);
    assertThat(direct(ok)).hasSize(limit);
    String deep = "[".repeat(limit + 1) + "]".repeat(limit + 1);
    assertThatThrownBy(() -> direct(deep)).hasMessageContaining("nests deeper than 512");
    // with a prefix the value sits one level down, as the tree inside [fn, params] does
    byte[] okBytes = ok.getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> JsonCbor.encode(new byte[] {(byte) 0x82}, okBytes, 0,
        okBytes.length)).hasMessageContaining("nests deeper than 512");
  }

  @Test
  void encode_withPrefix_putsThePrefixFirst() {
    byte[] json = "{\"b\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8);
    byte[] prefix = HEX.parseHex("82626f70");
    assertThat(HEX.formatHex(JsonCbor.encode(prefix, json, 0, json.length)))
        .isEqualTo("82626f70" + "a2" + "616102" + "616201");
  }

  @Test
  void encodeElements_anArray_givesEachElementAfterThePrefix() throws Exception {
    byte[] prefix = HEX.parseHex("8261" + "66");
    String body = " [ {\"b\":1,\"a\":[true]} , 5,\"x\" ,[ ] ] ";
    byte[] json = body.getBytes(StandardCharsets.UTF_8);
    List<byte[]> out = JsonCbor.encodeElements(prefix, json, 0, json.length);
    assertThat(out).hasSize(4);
    JsonNode tree = JSON.readTree(json);
    for (int i = 0; i < 4; i++) {
      byte[] element = CanonicalCbor.encode(tree.get(i));
      byte[] expected = Arrays.copyOf(prefix, prefix.length + element.length);
      System.arraycopy(element, 0, expected, prefix.length, element.length);
      assertThat(HEX.formatHex(out.get(i))).isEqualTo(HEX.formatHex(expected));
    }
  }

  @Test
  void encodeElements_otherValues_giveOne_andEmptyArraysNone() {
    byte[] prefix = HEX.parseHex("82616600");
    byte[] object = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    assertThat(JsonCbor.encodeElements(new byte[] {0x11}, object, 0, object.length))
        .singleElement().satisfies(b -> assertThat(HEX.formatHex(b)).isEqualTo("11a1616101"));
    byte[] empty = " [ ] ".getBytes(StandardCharsets.UTF_8);
    assertThat(JsonCbor.encodeElements(prefix, empty, 0, empty.length)).isEmpty();
    for (String bad : List.of("[1,]", "[1] x", "[1", "[{\"a\":1,\"a\":1}]", "")) {
      byte[] json = bad.getBytes(StandardCharsets.UTF_8);
      assertThatThrownBy(() -> JsonCbor.encodeElements(prefix, json, 0, json.length)).as(bad)
          .isInstanceOf(ReplikonException.class).hasMessageStartingWith("invalid JSON: ");
    }
  }

  @Test
  void encode_afterAFailure_theNextValueIsWhole() {
    assertThatThrownBy(() -> direct("{\"a\":{\"b\":[1,2,{\"c\":1,\"c\":2}]}}"));
    assertThat(HEX.formatHex(direct("{\"b\":0,\"a\":1}"))).isEqualTo("a2616101616200");
  }
}
