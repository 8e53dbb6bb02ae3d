package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class CanonicalCborEncodeTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static String hex(JsonNode v) {
    return HEX.formatHex(CanonicalCbor.encode(v));
  }

  private static ObjectNode object(List<String> keys) {
    ObjectNode o = NODES.objectNode();
    for (String k : keys) {
      o.put(k, k.length());
    }
    return o;
  }

  @Test
  void encode_mapsInAnyInsertionOrder_giveSameBytes() {
    List<String> keys = new ArrayList<>(List.of(
        "b", "aa", "a", "", "ab", "é", "z", "zz", "水", "😀", "\uffff", "\ue000", "aaa",
        "key_with_24_chars_xxxxxx", "key_with_23_chars_xxxxx", "A", "Z", "é😀", "\u0080"));
    byte[] first = CanonicalCbor.encode(object(keys));
    Hash firstHash = CanonicalCbor.hash(object(keys));
    Random random = new Random(42);
    for (int i = 0; i < 50; i++) {
      Collections.shuffle(keys, random);
      ObjectNode shuffled = object(keys);
      ObjectNode outer = NODES.objectNode();
      outer.set("inner", shuffled);
      outer.put("x", 1);
      ObjectNode outerOtherOrder = NODES.objectNode();
      outerOtherOrder.put("x", 1);
      outerOtherOrder.set("inner", object(keys));
      assertThat(CanonicalCbor.encode(shuffled)).as("order %s", keys).isEqualTo(first);
      assertThat(CanonicalCbor.hash(shuffled)).isEqualTo(firstHash);
      assertThat(CanonicalCbor.encode(outer)).isEqualTo(CanonicalCbor.encode(outerOtherOrder));
    }
  }

  @Test
  void encode_mapKeys_sortedByEncodedBytes() {
    List<String> keys = new ArrayList<>(List.of(
        "b", "aa", "a", "", "é", "水", "😀", "\uffff", "\ue000", "\ud7ff", "𝄞", "zz", "\u007f",
        "\u0080", "x".repeat(23), "x".repeat(24), "y".repeat(255), "y".repeat(256),
        "aaaaaaaaab", "aaaaaaaaaa", "aaaaaaab", "aaaaaaaa"));
    // Many keys take the allocation-free insertion sort; make a second map large enough for the
    // other sort path.
    List<String> many = new ArrayList<>(keys);
    Random random = new Random(7);
    RandomValues values = new RandomValues(7);
    while (many.size() < 300) {
      String k = values.key();
      if (!many.contains(k)) {
        many.add(k);
      }
    }
    for (List<String> set : List.of(keys, many)) {
      Collections.shuffle(set, random);
      byte[] encoded = CanonicalCbor.encode(object(set));
      List<byte[]> encodedKeys = new ArrayList<>();
      for (String k : set) {
        encodedKeys.add(CanonicalCbor.encode(NODES.textNode(k)));
      }
      encodedKeys.sort(java.util.Arrays::compareUnsigned);
      // Walk the map: header, then key/value pairs with values encoding the key's char count.
      int pos = set.size() < 24 ? 1 : set.size() < 256 ? 2 : 3;
      for (byte[] key : encodedKeys) {
        assertThat(java.util.Arrays.copyOfRange(encoded, pos, pos + key.length))
            .as("key at %d", pos).isEqualTo(key);
        pos += key.length;
        int charCount = CanonicalCbor.decode(key).textValue().length();
        pos += CanonicalCbor.encode(NODES.numberNode(charCount)).length;
      }
      assertThat(pos).isEqualTo(encoded.length);
    }
  }

  /** A slow, obviously correct canonical encoding of arrays and maps, for comparison. */
  private static byte[] reference(JsonNode v) {
    if (!v.isContainerNode()) {
      return CanonicalCbor.encode(v);
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] header = CanonicalCbor.encode(NODES.numberNode(v.size()));
    header[0] |= (byte) (v.isArray() ? 0x80 : 0xa0);
    out.writeBytes(header);
    if (v.isArray()) {
      v.forEach(item -> out.writeBytes(reference(item)));
    } else {
      List<byte[][]> entries = new ArrayList<>();
      v.properties().forEach(e -> entries.add(new byte[][] {
          CanonicalCbor.encode(NODES.textNode(e.getKey())), reference(e.getValue())}));
      entries.sort((a, b) -> java.util.Arrays.compareUnsigned(a[0], b[0]));
      entries.forEach(e -> {
        out.writeBytes(e[0]);
        out.writeBytes(e[1]);
      });
    }
    return out.toByteArray();
  }

  @Test
  void encode_mapsOfRepeatedShapes_matchReferenceEncoding() {
    // Few distinct keys, so that maps repeat key sequences (and hit the encoder's caches) in the
    // same and in other orders, with keys both short and longer than the eight-byte sort prefix.
    String[] vocabulary = {"id", "b", "aa", "user", "😀", "é", "screen_name", "screen_names",
        "profile_image_url", "profile_image_url_https", "x".repeat(70), "x".repeat(71),
        "profile_link_color", "profile_text_color", "x".repeat(69) + "y"};
    Random random = new Random(17);
    RandomValues values = new RandomValues(17);
    List<JsonNode> trees = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ObjectNode o = NODES.objectNode();
      int n = random.nextInt(vocabulary.length + 1);
      for (int j = 0; j < n; j++) {
        String k = vocabulary[random.nextInt(i % 3 == 0 ? 4 : vocabulary.length)];
        o.set(k, random.nextBoolean() ? values.value(1) : NODES.objectNode().put(k, j));
      }
      trees.add(o);
    }
    for (int round = 0; round < 2; round++) {
      for (JsonNode tree : trees) {
        assertThat(HEX.formatHex(CanonicalCbor.encode(tree)))
            .as("%s", tree).isEqualTo(HEX.formatHex(reference(tree)));
      }
    }
  }

  @Test
  void encode_moreKeysAndShapesThanCached_matchReferenceEncoding() {
    Random random = new Random(23);
    List<String> vocabulary = new ArrayList<>();
    for (int i = 0; i < 6000; i++) {
      vocabulary.add("k" + Integer.toString(random.nextInt(1 << 20), 36));
    }
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 3000; i++) {
        ObjectNode o = NODES.objectNode();
        for (int j = 1 + random.nextInt(5); j > 0; j--) {
          o.put(vocabulary.get(random.nextInt(round == 1 ? 40 : vocabulary.size())), j);
        }
        byte[] actual = CanonicalCbor.encode(o);
        if (!java.util.Arrays.equals(actual, reference(o))) {
          assertThat(HEX.formatHex(actual)).as("%s", o).isEqualTo(HEX.formatHex(reference(o)));
        }
      }
    }
  }

  @Test
  void encode_keysWithCollidingHashCodes_sortCorrectly() {
    // "Aa" and "BB" have the same String.hashCode, so these key sequences hash alike too.
    assertThat("AaAa".hashCode()).isEqualTo("BBBB".hashCode()).isEqualTo("AaBB".hashCode());
    List<List<String>> orders = List.of(
        List.of("AaAa", "BBBB"), List.of("BBBB", "AaAa"), List.of("AaBB", "BBBB", "AaAa"),
        List.of("BBBB", "AaBB", "AaAa"), List.of("AaAa", "BBBB"));
    for (List<String> keys : orders) {
      ObjectNode o = object(keys);
      assertThat(HEX.formatHex(CanonicalCbor.encode(o))).as("%s", keys)
          .isEqualTo(HEX.formatHex(reference(o)));
    }
  }

  @Test
  void encode_integerNodeKinds_encodeByValue() {
    assertThat(hex(NODES.numberNode(5))).isEqualTo("05");
    assertThat(hex(NODES.numberNode(5L))).isEqualTo("05");
    assertThat(hex(NODES.numberNode((short) 5))).isEqualTo("05");
    assertThat(hex(NODES.numberNode(BigInteger.valueOf(5)))).isEqualTo("05");
    assertThat(hex(NODES.numberNode(Long.MIN_VALUE))).isEqualTo("3b7fffffffffffffff");
    assertThat(hex(NODES.numberNode(Long.MAX_VALUE))).isEqualTo("1b7fffffffffffffff");
    assertThat(hex(NODES.numberNode(new BigInteger("18446744073709551615"))))
        .isEqualTo("1bffffffffffffffff");
    assertThat(hex(NODES.numberNode(new BigInteger("-18446744073709551616"))))
        .isEqualTo("3bffffffffffffffff");
    assertThat(hex(NODES.numberNode(new BigInteger("18446744073709551616"))))
        .isEqualTo("c249010000000000000000");
    assertThat(hex(NODES.numberNode(new BigInteger("-18446744073709551617"))))
        .isEqualTo("c349010000000000000000");
    assertThat(hex(NODES.numberNode(BigInteger.ONE.shiftLeft(72).negate())))
        .isEqualTo("c349ffffffffffffffffff");
    assertThat(hex(NODES.numberNode(24))).isEqualTo("1818");
    assertThat(hex(NODES.numberNode(-24))).isEqualTo("37");
    assertThat(hex(NODES.numberNode(-25))).isEqualTo("3818");
    assertThat(hex(NODES.numberNode(65536))).isEqualTo("1a00010000");
    assertThat(hex(NODES.numberNode(4294967296L))).isEqualTo("1b0000000100000000");
  }

  @Test
  void encode_integersAndFloats_stayDistinct() {
    assertThat(hex(NODES.numberNode(1))).isEqualTo("01");
    assertThat(hex(NODES.numberNode(1.0))).isEqualTo("f93c00");
    assertThat(hex(NODES.numberNode(1.0f))).isEqualTo("f93c00");
  }

  @Test
  void encode_everyFloat16_usesThreeBytes() {
    for (int half = 0; half < 0x10000; half++) {
      double d = CborDecoder.halfToDouble(half);
      boolean nan = Double.isNaN(d);
      int expected = nan ? 0x7e00 : half;
      byte[] enc = CanonicalCbor.encode(NODES.numberNode(d));
      int bits = enc.length == 3 ? (enc[1] & 0xff) << 8 | enc[2] & 0xff : -1;
      if (enc.length != 3 || enc[0] != (byte) 0xf9 || bits != expected) {
        assertThat(HEX.formatHex(enc)).as("float16 %04x = %s", half, d)
            .isEqualTo(String.format("f9%04x", expected));
      }
      byte[] halfBytes = {(byte) 0xf9, (byte) (half >> 8), (byte) half};
      JsonNode decoded = CanonicalCbor.decode(halfBytes);
      if (!decoded.equals(NODES.numberNode(d))) {
        assertThat(decoded).as("decode f9%04x", half).isEqualTo(NODES.numberNode(d));
      }
      // The floats next to a float16 value lie between float16 values: they need float32.
      if (!nan && !Double.isInfinite(d)) {
        for (float near : new float[] {Math.nextUp((float) d), Math.nextDown((float) d)}) {
          byte[] nearEnc = CanonicalCbor.encode(NODES.numberNode(near));
          if (nearEnc.length != 5) {
            assertThat(HEX.formatHex(nearEnc)).as("float next to float16 %04x", half)
                .isEqualTo(String.format("fa%08x", Float.floatToRawIntBits(near)));
          }
        }
      }
    }
  }

  @Test
  void encode_floats_useShortestExactForm() {
    Random random = new Random(3);
    for (int i = 0; i < 20_000; i++) {
      float f = Float.intBitsToFloat(random.nextInt());
      if (Float.isNaN(f)) {
        continue;
      }
      byte[] enc = CanonicalCbor.encode(NODES.numberNode(f));
      if (enc.length == 3) { // float16 only if exact
        assertThat(CborDecoder.halfToDouble((enc[1] & 0xff) << 8 | enc[2] & 0xff))
            .isEqualTo((double) f);
      } else {
        assertThat(HEX.formatHex(enc))
            .isEqualTo(String.format("fa%08x", Float.floatToRawIntBits(f)));
      }
      double d = Double.longBitsToDouble(random.nextLong());
      if (!Double.isNaN(d) && (float) d != d) {
        assertThat(HEX.formatHex(CanonicalCbor.encode(NODES.numberNode(d))))
            .isEqualTo(String.format("fb%016x", Double.doubleToRawLongBits(d)));
      }
    }
    assertThat(hex(NODES.numberNode(65505.0))).isEqualTo("fa477fe100");
    assertThat(hex(NODES.numberNode(Float.MIN_VALUE))).isEqualTo("fa00000001");
    assertThat(hex(NODES.numberNode(Double.MIN_VALUE))).isEqualTo("fb0000000000000001");
    assertThat(hex(NODES.numberNode(Double.longBitsToDouble(0x7ff0000000000001L))))
        .isEqualTo("f97e00");
    assertThat(hex(NODES.numberNode(-0.0))).isEqualTo("f98000");
    assertThat(hex(NODES.numberNode(Math.scalb(1.0, -25)))).isEqualTo("fa33000000");
    assertThat(hex(NODES.numberNode(Math.scalb(3.0, -24)))).isEqualTo("f90003");
    assertThat(hex(NODES.numberNode(1.0 + Math.scalb(1.0, -10)))).isEqualTo("f93c01");
    assertThat(hex(NODES.numberNode(1.0 + Math.scalb(1.0, -11)))).isEqualTo("fa3f801000");
    assertThat(hex(NODES.numberNode(Math.scalb(1.5, -24)))).isEqualTo("fa33c00000");
    assertThat(hex(NODES.numberNode(65536.0))).isEqualTo("fa47800000");
  }

  @Test
  void encode_decimalNode_encodesExactDoubleOrRejects() {
    assertThat(hex(NODES.numberNode(new BigDecimal("1.5")))).isEqualTo("f93e00");
    assertThat(hex(NODES.numberNode(new BigDecimal("100000.000")))).isEqualTo("fa47c35000");
    assertInvalid(() -> CanonicalCbor.encode(NODES.numberNode(new BigDecimal("0.1"))),
        "no exact binary floating point form");
    assertInvalid(() -> CanonicalCbor.encode(NODES.numberNode(new BigDecimal("1e400"))),
        "no exact binary floating point form");
  }

  @Test
  void encode_strings_useUtf8WithSurrogatePairs() {
    assertThat(hex(NODES.textNode("😀"))).isEqualTo("64f09f9880");
    assertThat(hex(NODES.textNode("a\u00fc\u6c34"))).isEqualTo("6661c3bce6b0b4");
    Random random = new Random(11);
    RandomValues values = new RandomValues(11);
    for (int i = 0; i < 2000; i++) {
      String s = random.nextInt(10) == 0 ? "x".repeat(random.nextInt(70000)) : values.string();
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      byte[] enc = CanonicalCbor.encode(NODES.textNode(s));
      byte[] header = CanonicalCbor.encode(NODES.numberNode(utf8.length));
      header[0] |= 0x60; // the same argument in major type 3
      assertThat(java.util.Arrays.copyOf(enc, header.length)).isEqualTo(header);
      assertThat(java.util.Arrays.copyOfRange(enc, header.length, enc.length)).isEqualTo(utf8);
    }
  }

  @Test
  void encode_unpairedSurrogate_isRejected() {
    for (String s : List.of("\ud83d", "a\ude00", "\ude00\ud83d", "x\ud83dy", "\ud83d\ud83d")) {
      assertInvalid(() -> CanonicalCbor.encode(NODES.textNode(s)), "unpaired surrogate");
      ObjectNode keyed = NODES.objectNode();
      keyed.put(s, 1);
      assertInvalid(() -> CanonicalCbor.encode(keyed), "unpaired surrogate");
    }
  }

  @Test
  void encode_nonValueNodes_areRejected() {
    ArrayNode withPojo = NODES.arrayNode().add(NODES.pojoNode(new Object()));
    assertInvalid(() -> CanonicalCbor.encode(withPojo), "POJO");
    assertInvalid(() -> CanonicalCbor.encode(MissingNode.getInstance()), "MISSING");
    assertInvalid(() -> CanonicalCbor.hash(MissingNode.getInstance()), "MISSING");
  }

  @Test
  void encode_deepOrSelfContainingTree_isRejected() {
    ArrayNode self = NODES.arrayNode();
    self.add(self);
    assertInvalid(() -> CanonicalCbor.encode(self), "deeper than 512");
    JsonNode ok = NODES.nullNode();
    for (int i = 0; i < 512; i++) {
      ok = NODES.arrayNode().add(ok);
    }
    assertThat(CanonicalCbor.decode(CanonicalCbor.encode(ok))).isEqualTo(ok);
    JsonNode tooDeep = NODES.arrayNode().add(ok);
    assertInvalid(() -> CanonicalCbor.encode(tooDeep), "deeper than 512");
  }

  @Test
  void encode_afterFailure_encoderIsReusable() {
    JsonNode good = NODES.objectNode().put("b", 1).put("aa", 2);
    byte[] before = CanonicalCbor.encode(good);
    ObjectNode bad = NODES.objectNode().put("k", "x");
    bad.set("z", MissingNode.getInstance());
    assertInvalid(() -> CanonicalCbor.encode(bad), "MISSING");
    assertThat(CanonicalCbor.encode(good)).isEqualTo(before);
    assertThat(HEX.formatHex(before)).isEqualTo("a2616201626161" + "02");
  }

  @Test
  void encode_largeValue_growsBuffer() throws Exception {
    ArrayNode big = NODES.arrayNode();
    for (int i = 0; i < 50_000; i++) {
      big.add(NODES.objectNode().put("id", i).put("text", "value " + i + " ✓"));
    }
    byte[] enc = CanonicalCbor.encode(big);
    assertThat(enc.length).isGreaterThan(1 << 20);
    assertThat(CanonicalCbor.decode(enc)).isEqualTo(big);
    assertThat(CanonicalCbor.hash(big)).isEqualTo(Hash.sha256(enc));
    // Afterwards small values still encode correctly with a fresh buffer.
    assertThat(hex(new ObjectMapper().readTree("{\"a\":1,\"b\":[2,3]}")))
        .isEqualTo("a26161016162820203");
  }

  @Test
  void hash_isSha256OfEncoding_knownVector() {
    JsonNode v = NODES.objectNode().set("b", NODES.arrayNode().add(2).add(3));
    ((ObjectNode) v).put("a", 1);
    assertThat(CanonicalCbor.hash(v).hex())
        .isEqualTo("b44774f185e1268bc3bfc660f02b1153546030565dd1b71c517a7390dbb24e02");
    assertThat(CanonicalCbor.hash(NODES.nullNode()).hex())
        .isEqualTo("b0b2988b6bbe724bacda5e9e524736de0bc7dae41c46b4213c50e1d35d4e5f13");
  }

  static void assertInvalid(ThrowingCallable call, String mentions) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining(mentions);
  }

  /** The canonical encoding of {@code {key: index}} for keys of 0 to 23 entries, built by hand. */
  private static byte[] expectedMap(List<String> keys) {
    List<byte[]> entries = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      byte[] utf8 = keys.get(i).getBytes(StandardCharsets.UTF_8);
      byte[] header = utf8.length < 24
          ? new byte[] {(byte) (0x60 | utf8.length)}
          : new byte[] {0x78, (byte) utf8.length};
      byte[] entry = new byte[header.length + utf8.length + 1];
      System.arraycopy(header, 0, entry, 0, header.length);
      System.arraycopy(utf8, 0, entry, header.length, utf8.length);
      entry[entry.length - 1] = (byte) i; // the value, an int below 24
      entries.add(entry);
    }
    entries.sort(java.util.Arrays::compareUnsigned); // keys differ, so values never decide
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0xa0 | keys.size());
    entries.forEach(out::writeBytes);
    return out.toByteArray();
  }

  @Test
  void keysOfEveryLengthAroundTheEightAndSixteenByteStoresAreWrittenExactly() {
    for (String unit : List.of("k", "\u00e9", "z")) {
      List<String> keys = new ArrayList<>();
      for (int len = 0; len < 20; len++) {
        keys.add(unit.repeat(len));
      }
      for (int first = 0; first < keys.size(); first++) {
        List<String> rotated = new ArrayList<>(keys.subList(first, keys.size()));
        rotated.addAll(keys.subList(0, first));
        ObjectNode o = NODES.objectNode();
        for (int i = 0; i < rotated.size(); i++) {
          o.put(rotated.get(i), i);
        }
        assertThat(CanonicalCbor.encode(o)).isEqualTo(expectedMap(rotated));
      }
    }
  }

  @Test
  void keysWrittenAtTheEndOfTheBufferAreWrittenExactly() {
    List<String> keys =
        List.of("a", "seventeen-chars-k", "sixteen-chars-ke", "eight-ch", "nine-char");
    byte[] map = expectedMap(keys);
    ObjectNode o = NODES.objectNode();
    for (int i = 0; i < keys.size(); i++) {
      o.put(keys.get(i), i);
    }
    for (int fill = 4000; fill < 4100; fill++) {
      String s = "x".repeat(fill);
      ArrayNode a = NODES.arrayNode().add(s).add(o);
      byte[] text = CanonicalCbor.encode(NODES.textNode(s));
      byte[] expected = new byte[1 + text.length + map.length];
      expected[0] = (byte) 0x82;
      System.arraycopy(text, 0, expected, 1, text.length);
      System.arraycopy(map, 0, expected, 1 + text.length, map.length);
      assertThat(CanonicalCbor.encode(a)).isEqualTo(expected);
    }
  }
}
