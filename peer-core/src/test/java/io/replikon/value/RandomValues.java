package io.replikon.value;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Random value trees of every node kind, and the normal form a decoded tree comes back in. */
final class RandomValues {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String[] SAMPLES = {
    "", "a", "aa", "b", "é", "ü", "水", "日本語", "😀", "👍🏽", "🇩🇪", "\uffff", "\ue000", "x😀y",
    "Ω≈ç√", "tab\there", "\u0000", "\u007f", "\u0080", "\u07ff", "\u0800", "𝄞"
  };

  private final Random random;

  RandomValues(long seed) {
    this.random = new Random(seed);
  }

  JsonNode value(int depth) {
    int kind = random.nextInt(depth <= 0 ? 8 : 11);
    switch (kind) {
      case 0:
        return NODES.nullNode();
      case 1:
        return NODES.booleanNode(random.nextBoolean());
      case 2:
        return integer();
      case 3:
        return bigInteger();
      case 4:
      case 5:
        return floating();
      case 6:
        return NODES.textNode(string());
      case 7:
        byte[] bytes = new byte[lengthNearBoundary()];
        random.nextBytes(bytes);
        return NODES.binaryNode(bytes);
      case 8:
        ArrayNode array = NODES.arrayNode();
        int n = random.nextInt(6);
        for (int i = 0; i < n; i++) {
          array.add(value(depth - 1));
        }
        return array;
      default:
        ObjectNode object = NODES.objectNode();
        int m = random.nextInt(8);
        for (int i = 0; i < m; i++) {
          object.set(key(), value(depth - 1));
        }
        return object;
    }
  }

  JsonNode integer() {
    switch (random.nextInt(7)) {
      case 0:
        return NODES.numberNode(random.nextInt(50) - 25);
      case 1:
        return NODES.numberNode((short) random.nextInt());
      case 2:
        return NODES.numberNode(random.nextInt());
      case 3:
        return NODES.numberNode(random.nextLong());
      case 4:
        long[] edges = {Long.MIN_VALUE, Long.MAX_VALUE, 23, 24, 255, 256, 65535, 65536,
            -24, -25, -256, -257, 4294967295L, 4294967296L, Integer.MIN_VALUE, Integer.MAX_VALUE};
        return NODES.numberNode(edges[random.nextInt(edges.length)]);
      case 5:
        return NODES.numberNode(BigInteger.valueOf(random.nextInt(1000) - 500)); // small big int
      default:
        return NODES.numberNode(random.nextLong() >> random.nextInt(64));
    }
  }

  JsonNode bigInteger() {
    BigInteger two64 = BigInteger.ONE.shiftLeft(64);
    BigInteger v;
    switch (random.nextInt(4)) {
      case 0: // near the uint64 / bignum boundaries
        v = two64.add(BigInteger.valueOf(random.nextInt(5) - 3));
        break;
      case 1:
        v = new BigInteger(64, random); // often above Long.MAX_VALUE
        break;
      default:
        v = new BigInteger(65 + random.nextInt(200), random);
    }
    return NODES.numberNode(random.nextBoolean() ? v : v.negate());
  }

  JsonNode floating() {
    double d;
    switch (random.nextInt(8)) {
      case 0:
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0,
            -0.0, Double.MIN_VALUE, Double.MAX_VALUE, 65504.0, 65505.0, 5.960464477539063e-8,
            Float.MAX_VALUE, Float.MIN_VALUE, 1.1, 0.1, 1e300};
        d = specials[random.nextInt(specials.length)];
        break;
      case 1:
        d = Double.longBitsToDouble(random.nextLong());
        break;
      case 2:
        d = Float.intBitsToFloat(random.nextInt());
        break;
      case 3: // exactly representable in float16
        d = CborDecoder.halfToDouble(random.nextInt(0x10000));
        break;
      case 4:
        return NODES.numberNode(Float.intBitsToFloat(random.nextInt()));
      default:
        d = (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(40) - 20);
    }
    return NODES.numberNode(d);
  }

  String string() {
    if (random.nextInt(4) == 0) {
      return SAMPLES[random.nextInt(SAMPLES.length)];
    }
    int n = lengthNearBoundary();
    StringBuilder sb = new StringBuilder(n);
    int alphabet = random.nextInt(4);
    for (int i = 0; i < n; i++) {
      switch (random.nextInt(alphabet + 1)) {
        case 0:
          sb.append((char) (0x20 + random.nextInt(0x5f)));
          break;
        case 1:
          sb.append((char) (0x80 + random.nextInt(0x780)));
          break;
        case 2:
          char c = (char) (0x800 + random.nextInt(0x10000 - 0x800));
          sb.append(Character.isSurrogate(c) ? 'z' : c);
          break;
        default:
          sb.appendCodePoint(0x10000 + random.nextInt(0x10ffff - 0x10000));
      }
    }
    return sb.toString();
  }

  String key() {
    return random.nextInt(3) == 0 ? SAMPLES[random.nextInt(SAMPLES.length)] : string();
  }

  private int lengthNearBoundary() {
    int[] boundaries = {0, 1, 22, 23, 24, 25, 255, 256, 300};
    return random.nextInt(4) == 0
        ? boundaries[random.nextInt(boundaries.length)]
        : random.nextInt(12);
  }

  /**
   * Returns the tree that decoding the encoding of {@code v} must give: integers by value as
   * int/long/big nodes, floats as doubles.
   */
  static JsonNode normalize(JsonNode v) {
    if (v.isArray()) {
      List<JsonNode> items = new ArrayList<>();
      v.forEach(item -> items.add(normalize(item)));
      return NODES.arrayNode().addAll(items);
    }
    if (v.isObject()) {
      ObjectNode out = NODES.objectNode();
      for (Map.Entry<String, JsonNode> e : v.properties()) {
        out.set(e.getKey(), normalize(e.getValue()));
      }
      return out;
    }
    if (v.isIntegralNumber()) {
      BigInteger b = v.bigIntegerValue();
      if (b.bitLength() < 32) {
        return NODES.numberNode(b.intValue());
      }
      return b.bitLength() < 64 ? NODES.numberNode(b.longValue()) : NODES.numberNode(b);
    }
    if (v.isNumber()) {
      return NODES.numberNode(v.doubleValue());
    }
    return v;
  }
}
