package io.replikon.value;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Reads one CBOR data item into a Jackson tree, strictly, as it arrives from untrusted peers.
 *
 * <p>Design note. Hand-written rather than Jackson's {@code CBORParser} so that every rule of the
 * value model is enforced in one place and every failure says what was wrong and at which offset:
 *
 * <ul>
 *   <li>The input is exactly one data item; trailing bytes are an error.
 *   <li>Definite and indefinite lengths are both accepted (canonical form is checked separately by
 *       re-encoding, see {@link CanonicalCbor#isCanonical}). An indefinite string's chunks must be
 *       definite strings of the same major type.
 *   <li>No length is trusted: a string's length must fit in the remaining input before anything is
 *       allocated, and an array or map may not declare more items than there are bytes left (each
 *       item takes at least one byte). Nesting of arrays, maps and tags is limited to
 *       {@link #MAX_DEPTH}, so hostile input cannot overflow the stack.
 *   <li>Only tags 2 and 3 (bignums, whose content must be a byte string) are accepted; only the
 *       simple values false, true and null; map keys must be text strings and must not repeat;
 *       text must be well-formed UTF-8 (no surrogate code points, no overlong forms).
 * </ul>
 *
 * <p>Integers come back by value: {@code IntNode} if they fit an int, {@code LongNode} if they fit
 * a long, else {@code BigIntegerNode} (uint64 above {@code Long.MAX_VALUE} and bignums), so the
 * result equals what Jackson's JSON parser builds for the same numbers. Floats of every width come
 * back as {@code DoubleNode}, byte strings as {@code BinaryNode}.
 *
 * <p>An instance reads one input once; not thread-safe.
 */
final class CborDecoder {
  /** The deepest nesting of arrays, maps and tags accepted, by both decoder and encoder. */
  static final int MAX_DEPTH = 512;

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int BREAK = 0xff;

  private final byte[] in;
  private final int end;
  private int pos;

  private CborDecoder(byte[] in, int offset, int end) {
    this.in = in;
    this.pos = offset;
    this.end = end;
  }

  /** Decodes exactly one data item that fills {@code bytes}. */
  static JsonNode decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  /**
   * Decodes exactly one data item that fills {@code bytes[offset, end)}; offsets in messages are
   * offsets in {@code bytes}.
   */
  static JsonNode decode(byte[] bytes, int offset, int end) {
    CborDecoder d = new CborDecoder(bytes, offset, end);
    if (offset == end) {
      throw malformed(offset, "the input is empty, expected a data item");
    }
    JsonNode value = d.readItem(0);
    if (d.pos != d.end) {
      throw malformed(
          d.pos, (d.end - d.pos) + " trailing byte(s) after the data item, expected end of input");
    }
    return value;
  }

  /**
   * Decodes the one data item that starts at {@code offset} and ends by {@code limit}; returns
   * it, and where it ends in {@code end[0]}.
   */
  static JsonNode decodeItem(byte[] bytes, int offset, int limit, int[] end) {
    CborDecoder d = new CborDecoder(bytes, offset, limit);
    JsonNode value = d.readItem(0);
    end[0] = d.pos;
    return value;
  }

  private JsonNode readItem(int depth) {
    int start = pos;
    int ib = readByte("a data item");
    int major = ib >>> 5;
    int ai = ib & 0x1f;
    switch (major) {
      case 0: {
        long u = readArgument(ai, start, "an unsigned integer");
        return u >= 0 ? integer(u) : NODES.numberNode(unsigned(u));
      }
      case 1: {
        long u = readArgument(ai, start, "a negative integer");
        return u >= 0 ? integer(-1 - u) : NODES.numberNode(unsigned(u).not());
      }
      case 2:
        return NODES.binaryNode(readString(2, ai, start));
      case 3:
        return NODES.textNode(readText(ai, start));
      case 4:
        return readArray(ai, start, depth);
      case 5:
        return readMap(ai, start, depth);
      case 6:
        return readTagged(ai, start, depth);
      default:
        return readSimple(ai, start);
    }
  }

  private JsonNode readArray(int ai, int start, int depth) {
    checkDepth(depth, start);
    if (ai == 31) {
      ArrayNode array = NODES.arrayNode();
      while (peek(start, "an indefinite-length array") != BREAK) {
        array.add(readItem(depth + 1));
      }
      pos++;
      return array;
    }
    long n = readArgument(ai, start, "an array");
    if (n < 0 || n > end - pos) {
      throw malformed(start, "an array declares " + Long.toUnsignedString(n)
          + " items but only " + (end - pos) + " bytes remain");
    }
    // Each item takes a byte of input but a reference or more of memory: cap the pre-sizing so
    // that a huge declared count cannot make us allocate many times the input's size up front.
    ArrayNode array = NODES.arrayNode((int) Math.min(n, 1024));
    for (long i = 0; i < n; i++) {
      array.add(readItem(depth + 1));
    }
    return array;
  }

  private JsonNode readMap(int ai, int start, int depth) {
    checkDepth(depth, start);
    ObjectNode map = NODES.objectNode();
    if (ai == 31) {
      while (peek(start, "an indefinite-length map") != BREAK) {
        readEntry(map, depth);
      }
      pos++;
      return map;
    }
    long n = readArgument(ai, start, "a map");
    if (n < 0 || n > (end - pos) / 2) {
      throw malformed(start, "a map declares " + Long.toUnsignedString(n)
          + " entries but only " + (end - pos) + " bytes remain");
    }
    for (long i = 0; i < n; i++) {
      readEntry(map, depth);
    }
    return map;
  }

  private void readEntry(ObjectNode map, int depth) {
    int keyStart = pos;
    int ib = readByte("a map key");
    if (ib >>> 5 != 3) {
      throw malformed(keyStart, "a map key is " + describe(ib) + "; only text keys are allowed");
    }
    String key = readText(ib & 0x1f, keyStart);
    JsonNode value = readItem(depth + 1);
    if (map.replace(key, value) != null) {
      throw malformed(keyStart, "duplicate map key \"" + abbreviate(key) + "\"");
    }
  }

  private JsonNode readTagged(int ai, int start, int depth) {
    long tag = readArgument(ai, start, "a tag");
    if (tag != 2 && tag != 3) {
      throw malformed(start, "tag " + Long.toUnsignedString(tag)
          + " is not supported; only tags 2 and 3 (bignums) are");
    }
    checkDepth(depth, start);
    int contentStart = pos;
    int ib = readByte("the content of tag " + tag);
    if (ib >>> 5 != 2) {
      throw malformed(contentStart, "the content of bignum tag " + tag + " is " + describe(ib)
          + ", expected a byte string");
    }
    BigInteger magnitude = new BigInteger(1, readString(2, ib & 0x1f, contentStart));
    return number(tag == 2 ? magnitude : magnitude.not()); // not() is -1 - magnitude
  }

  private JsonNode readSimple(int ai, int start) {
    switch (ai) {
      case 20:
        return NODES.booleanNode(false);
      case 21:
        return NODES.booleanNode(true);
      case 22:
        return NODES.nullNode();
      case 23:
        throw malformed(start, "undefined is not a value; only false, true and null are");
      case 24: {
        int n = readByte("a simple value");
        throw malformed(start, "simple(" + n + ") is not a value; only false, true and null are");
      }
      case 25: {
        need(2, start, "a float16");
        int half = (in[pos] & 0xff) << 8 | in[pos + 1] & 0xff;
        pos += 2;
        return NODES.numberNode(halfToDouble(half));
      }
      case 26: {
        need(4, start, "a float32");
        int bits = (int) readBig(4);
        return NODES.numberNode((double) Float.intBitsToFloat(bits));
      }
      case 27: {
        need(8, start, "a float64");
        return NODES.numberNode(Double.longBitsToDouble(readBig(8)));
      }
      case 31:
        throw malformed(start, "a break (0xff) outside an indefinite-length item");
      default:
        if (ai < 20) {
          throw malformed(start,
              "simple(" + ai + ") is not a value; only false, true and null are");
        }
        throw malformed(start, "reserved additional information " + ai + " in major type 7");
    }
  }

  static double halfToDouble(int half) {
    int sign = half & 0x8000;
    int exp = half >>> 10 & 0x1f;
    int mant = half & 0x3ff;
    double v;
    if (exp == 0) {
      v = Math.scalb((double) mant, -24);
    } else if (exp == 31) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      v = Math.scalb((double) (mant | 0x400), exp - 25);
    }
    return sign != 0 ? -v : v;
  }

  private String readText(int ai, int start) {
    if (ai == 31) {
      StringBuilder chars = new StringBuilder();
      int chunkStart;
      while ((chunkStart = nextChunk(3, start)) >= 0) {
        int len = readLength(3, in[chunkStart] & 0x1f, chunkStart);
        chars.append(utf8(in, pos, len, chunkStart)); // a chunk must be whole code points
        pos += len;
      }
      return chars.toString();
    }
    int len = readLength(3, ai, start);
    String s = utf8(in, pos, len, start);
    pos += len;
    return s;
  }

  private byte[] readString(int major, int ai, int start) {
    if (ai == 31) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int chunkStart;
      while ((chunkStart = nextChunk(major, start)) >= 0) {
        int len = readLength(major, in[chunkStart] & 0x1f, chunkStart);
        bytes.write(in, pos, len);
        pos += len;
      }
      return bytes.toByteArray();
    }
    int len = readLength(major, ai, start);
    byte[] out = new byte[len];
    System.arraycopy(in, pos, out, 0, len);
    pos += len;
    return out;
  }

  /**
   * Steps over the initial byte of the next chunk of an indefinite-length string and returns its
   * offset, or consumes the break and returns -1.
   */
  private int nextChunk(int major, int start) {
    String kind = major == 2 ? "byte string" : "text string";
    int chunkStart = pos;
    int ib = peek(start, "an indefinite-length " + kind);
    pos++;
    if (ib == BREAK) {
      return -1;
    }
    if (ib >>> 5 != major || (ib & 0x1f) == 31) {
      throw malformed(chunkStart, "a chunk of an indefinite-length " + kind + " is "
          + describe(ib) + ", expected a definite-length " + kind);
    }
    return chunkStart;
  }

  /** Reads a string length and checks that that many bytes remain. */
  private int readLength(int major, int ai, int start) {
    long len = readArgument(ai, start, major == 2 ? "a byte string" : "a text string");
    if (len < 0 || len > end - pos) {
      throw malformed(start, (major == 2 ? "a byte string" : "a text string") + " declares "
          + Long.toUnsignedString(len) + " bytes but only " + (end - pos) + " remain");
    }
    return (int) len;
  }

  /** Decodes well-formed UTF-8, with a fast path for ASCII. */
  private static String utf8(byte[] b, int off, int len, int start) {
    int i = off;
    int stop = off + len;
    while (i < stop && b[i] >= 0) {
      i++;
    }
    if (i == stop) {
      return new String(b, off, len, StandardCharsets.ISO_8859_1);
    }
    if (!wellFormedUtf8(b, i, stop)) {
      throw malformed(start, "a text string is not well-formed UTF-8");
    }
    return new String(b, off, len, StandardCharsets.UTF_8);
  }

  /**
   * Checks UTF-8 strictly (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF)
   * without allocating: the JDK's own decoding then runs on bytes known to be good.
   */
  static boolean wellFormedUtf8(byte[] b, int i, int stop) {
    while (i < stop) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int n;
      if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
      } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
      } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
      } else {
        return false;
      }
      if (i + n >= stop) {
        return false;
      }
      int c1 = b[i + 1] & 0xff;
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90)
          || (c == 0xf4 && c1 > 0x8f)) {
        return false;
      }
      for (int k = 1; k <= n; k++) {
        if ((b[i + k] & 0xc0) != 0x80) {
          return false;
        }
      }
      i += n + 1;
    }
    return true;
  }

  /** Reads an item's argument as an unsigned 64-bit value (negative means above 2^63 - 1). */
  private long readArgument(int ai, int start, String what) {
    long v = argument(in, pos, end, ai, start, what);
    pos += argumentWidth(ai);
    return v;
  }

  private long readBig(int n) {
    long v = bigEndian(in, pos, n);
    pos += n;
    return v;
  }

  private void need(int n, int start, String what) {
    need(end - pos, n, start, what);
  }

  /**
   * Returns the argument of an item whose initial byte, at {@code start}, has additional
   * information {@code ai}; its bytes (if any) start at {@code at} and must end by {@code end}.
   * Unsigned 64-bit (negative means above 2^63 - 1). For each reader of this package; the reader
   * then moves on by {@link #argumentWidth}.
   *
   * @throws ReplikonException {@code MALFORMED_VALUE}, naming {@code what}, for an indefinite
   *     length, reserved additional information, or input that ends too soon
   */
  static long argument(byte[] in, int at, int end, int ai, int start, String what) {
    if (ai < 24) {
      return ai;
    }
    switch (ai) {
      case 24, 25, 26, 27:
        int width = argumentWidth(ai);
        need(end - at, width, start, what);
        return bigEndian(in, at, width);
      case 31:
        throw malformed(start, what + " cannot have indefinite length");
      default:
        throw malformed(start, "reserved additional information " + ai + " in " + what);
    }
  }

  /** The number of bytes after the initial byte that hold the argument (ai below 28). */
  static int argumentWidth(int ai) {
    return ai < 24 ? 0 : 1 << (ai - 24);
  }

  /** Returns {@code n} bytes from {@code in[at]} as a big-endian unsigned number. */
  static long bigEndian(byte[] in, int at, int n) {
    long v = 0;
    for (int i = 0; i < n; i++) {
      v = v << 8 | in[at + i] & 0xffL;
    }
    return v;
  }

  /** Refuses input with only {@code remaining} bytes left where {@code what} needs {@code n}. */
  static void need(int remaining, int n, int start, String what) {
    if (remaining < n) {
      throw malformed(start, "truncated input: " + what + " needs " + n
          + " more byte(s) but only " + remaining + " remain");
    }
  }


  private int readByte(String what) {
    if (pos >= end) {
      throw malformed(pos, "truncated input: expected " + what + ", found end of input");
    }
    return in[pos++] & 0xff;
  }

  private int peek(int start, String what) {
    if (pos >= end) {
      throw malformed(pos, "truncated input: " + what + " that starts at offset " + start
          + " has no break (0xff)");
    }
    return in[pos] & 0xff;
  }

  private void checkDepth(int depth, int start) {
    if (depth >= MAX_DEPTH) {
      throw malformed(start, "nesting deeper than " + MAX_DEPTH + " levels");
    }
  }

  private static JsonNode integer(long v) {
    return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
  }

  private static JsonNode number(BigInteger v) {
    return v.bitLength() < 64 ? integer(v.longValue()) : NODES.numberNode(v);
  }

  private static BigInteger unsigned(long u) {
    return new BigInteger(Long.toUnsignedString(u));
  }

  static String describe(int ib) {
    switch (ib >>> 5) {
      case 0:
        return "an unsigned integer";
      case 1:
        return "a negative integer";
      case 2:
        return (ib & 0x1f) == 31 ? "an indefinite-length byte string" : "a byte string";
      case 3:
        return (ib & 0x1f) == 31 ? "an indefinite-length text string" : "a text string";
      case 4:
        return "an array";
      case 5:
        return "a map";
      case 6:
        return "a tag";
      default:
        return ib == BREAK ? "a break (0xff)" : "a simple value or float";
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  static ReplikonException malformed(int offset, String what) {
    return new ReplikonException(
        ReplikonException.Reason.MALFORMED_VALUE,
        "malformed CBOR at offset " + offset + ": " + what);
  }
}
