package io.replikon.value;

import io.replikon.error.ReplikonException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Reads one CBOR data item straight into JSON text, or only checks it and finds where it ends,
 * without building a tree: for writers of JSON (the JSON lines sink, the SQL sinks' params) and
 * readers that skip what they do not need.
 *
 * <p><b>Same value, same text.</b> The JSON is byte for byte what Jackson's default
 * {@code ObjectMapper.writeValueAsBytes} writes for the tree {@link CanonicalCbor#decode} builds
 * from the same bytes: no whitespace; object members in encoded order; integers in decimal (any
 * size, bignums included); floats of every width widened to double and written by
 * {@link Double#toString(double)}, NaN and the infinities as the strings {@code "NaN"},
 * {@code "Infinity"}, {@code "-Infinity"}; byte strings as base64 strings (standard alphabet,
 * padded, no line breaks); text with {@code "} and {@code \} escaped, control characters as
 * {@code \b \t \n \f \r} or <code>&#92;u00XX</code>, code points above U+FFFF as their two
 * surrogates escaped the same way (upper-case hex), everything else as its UTF-8.
 *
 * <p><b>Same checks.</b> Input is held to exactly the rules of {@link CanonicalCbor#decode}, with
 * the same messages: well-formed UTF-8, no tags but bignums, only false/true/null, text map keys
 * that do not repeat, lengths that fit the input, nesting up to 512 levels. Duplicate keys cost
 * nothing extra when a map's keys are in canonical order (each one after the one before it), and a
 * set of the map's keys otherwise. On failure the builder holds part of the item.
 *
 * <p>Stateless and thread-safe (each call uses an instance of its own).
 */
public final class CborJson {
  private static final int BREAK = 0xff;
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
  /** Per ASCII character: 0 if written as it is, else the letter after the backslash. */
  private static final byte[] ESCAPE = new byte[128];

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPE[c] = 'u';
    }
    ESCAPE['\b'] = 'b';
    ESCAPE['\t'] = 't';
    ESCAPE['\n'] = 'n';
    ESCAPE['\f'] = 'f';
    ESCAPE['\r'] = 'r';
    ESCAPE['"'] = '"';
    ESCAPE['\\'] = '\\';
  }

  private final byte[] in;
  private final int end;
  private final ByteBuilder out;
  /** Whether code points above U+FFFF are written as escaped surrogates (else as UTF-8). */
  private final boolean escapeAstral;
  private int pos;

  private CborJson(byte[] in, int pos, int end, ByteBuilder out) {
    this(in, pos, end, out, true);
  }

  private CborJson(byte[] in, int pos, int end, ByteBuilder out, boolean escapeAstral) {
    this.in = in;
    this.pos = pos;
    this.end = end;
    this.out = out;
    this.escapeAstral = escapeAstral;
  }

  /**
   * Checks the data item that starts at {@code offset} and returns the offset just after it; it
   * must end at or before {@code end}. Offsets in messages are offsets in {@code in}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} for what
   *     {@link CanonicalCbor#decode} rejects (trailing bytes aside: the item may be followed by
   *     more)
   */
  public static int skip(byte[] in, int offset, int end) {
    Objects.checkFromToIndex(offset, end, in.length);
    CborJson r = new CborJson(in, offset, end, null);
    r.item(0);
    return r.pos;
  }

  /**
   * Writes the data item that starts at {@code offset} to {@code out} as JSON text and returns the
   * offset just after it, as {@link #skip} does.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} as {@link #skip}
   */
  public static int write(byte[] in, int offset, int end, ByteBuilder out) {
    return write(in, offset, end, out, true);
  }

  /**
   * Writes the data item that starts at {@code offset} as {@link #write(byte[], int, int,
   * ByteBuilder)} does if {@code escapeAstral}; else with code points above U+FFFF as their
   * UTF-8, which is what Jackson's {@code writeValueAsString} writes (its character writer does
   * not escape surrogates): for JSON that becomes a {@code String}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} as {@link #skip}
   */
  public static int write(byte[] in, int offset, int end, ByteBuilder out,
      boolean escapeAstral) {
    Objects.checkFromToIndex(offset, end, in.length);
    CborJson r = new CborJson(in, offset, end, Objects.requireNonNull(out, "out"), escapeAstral);
    r.item(0);
    return r.pos;
  }

  /**
   * Writes {@code s} as a JSON string, quoted and escaped as the transcoder writes text. {@code s}
   * must be well-formed UTF-16 (no unpaired surrogate).
   */
  public static void writeString(String s, ByteBuilder out) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    out.write('"');
    new CborJson(utf8, 0, utf8.length, out).string(0, utf8.length, 0);
    out.write('"');
  }

  private void item(int depth) {
    int start = pos;
    int ib = readByte("a data item");
    int ai = ib & 0x1f;
    switch (ib >>> 5) {
      case 0: {
        long u = readArgument(ai, start, "an unsigned integer");
        if (out != null) {
          if (u >= 0) {
            out.writeDecimal(u);
          } else {
            out.writeAscii(Long.toUnsignedString(u));
          }
        }
        return;
      }
      case 1: {
        long u = readArgument(ai, start, "a negative integer");
        if (out != null) {
          if (u >= 0) {
            out.writeDecimal(-1 - u);
          } else {
            out.writeAscii(new BigInteger(Long.toUnsignedString(u)).not().toString());
          }
        }
        return;
      }
      case 2:
        bytes(ai, start);
        return;
      case 3:
        text(ai, start);
        return;
      case 4:
        array(ai, start, depth);
        return;
      case 5:
        map(ai, start, depth);
        return;
      case 6:
        tagged(ai, start, depth);
        return;
      default:
        simple(ai, start);
    }
  }

  private void array(int ai, int start, int depth) {
    checkDepth(depth, start);
    if (out != null) {
      out.write('[');
    }
    if (ai == 31) {
      boolean first = true;
      while (peek(start, "an indefinite-length array") != BREAK) {
        if (!first && out != null) {
          out.write(',');
        }
        first = false;
        item(depth + 1);
      }
      pos++;
    } else {
      long n = readArgument(ai, start, "an array");
      if (n < 0 || n > end - pos) {
        throw CborDecoder.malformed(start, "an array declares " + Long.toUnsignedString(n)
            + " items but only " + (end - pos) + " bytes remain");
      }
      for (long i = 0; i < n; i++) {
        if (i > 0 && out != null) {
          out.write(',');
        }
        item(depth + 1);
      }
    }
    if (out != null) {
      out.write(']');
    }
  }

  private void map(int ai, int start, int depth) {
    checkDepth(depth, start);
    if (out != null) {
      out.write('{');
    }
    Keys keys = new Keys();
    if (ai == 31) {
      keys.first = pos;
      while (peek(start, "an indefinite-length map") != BREAK) {
        entry(keys, depth);
      }
      pos++;
    } else {
      long n = readArgument(ai, start, "a map");
      if (n < 0 || n > (end - pos) / 2) {
        throw CborDecoder.malformed(start, "a map declares " + Long.toUnsignedString(n)
            + " entries but only " + (end - pos) + " bytes remain");
      }
      keys.first = pos;
      for (long i = 0; i < n; i++) {
        entry(keys, depth);
      }
    }
    if (out != null) {
      out.write('}');
    }
  }

  /** What a map's keys have been so far, to reject a repeated one. */
  private static final class Keys {
    /** Where the first entry starts. */
    int first;
    int count;
    /** The last key, while every key came after the one before it; -1 when not known. */
    int lastOffset = -1;
    int lastLength;
    /** Every key so far, once the keys are out of order (or a key was in chunks). */
    Set<String> all;
  }

  private void entry(Keys keys, int depth) {
    int keyStart = pos;
    int ib = readByte("a map key");
    if (ib >>> 5 != 3) {
      throw CborDecoder.malformed(keyStart, "a map key is " + CborDecoder.describe(ib)
          + "; only text keys are allowed");
    }
    int ai = ib & 0x1f;
    boolean inOrder = false;
    if (ai != 31 && keys.all == null) {
      int len = readLength(3, ai, keyStart);
      int off = pos;
      if (out != null) {
        out.ensure(len + 36);
        byte[] o = out.array();
        int op = out.size();
        if (keys.count > 0) {
          o[op++] = ',';
        }
        o[op++] = '"';
        op = escaped(off, len, keyStart, op);
        o = out.array();
        o[op++] = '"';
        o[op++] = ':';
        out.setSize(op);
      } else {
        string(off, len, keyStart);
      }
      pos += len;
      if (keys.count == 0 || len > keys.lastLength || (len == keys.lastLength
          && Arrays.compareUnsigned(in, keys.lastOffset, keys.lastOffset + len, in, off,
              off + len) < 0)) {
        keys.lastOffset = off;
        keys.lastLength = len;
        inOrder = true;
      }
    } else {
      if (keys.count > 0 && out != null) {
        out.write(',');
      }
      text(ai, keyStart);
      if (out != null) {
        out.write(':');
      }
    }
    if (!inOrder && keys.all == null) {
      keys.all = keysBefore(keys.first, keyStart, depth);
    }
    keys.count++;
    item(depth + 1);
    if (!inOrder) {
      // after the value, as the decoder, so that the same error is reported first
      String key = keyText(keyStart);
      if (!keys.all.add(key)) {
        throw CborDecoder.malformed(keyStart,
            "duplicate map key \"" + CborDecoder.abbreviate(key) + "\"");
      }
    }
  }

  /** Returns the keys of the entries in {@code [first, stop)}, which were checked already. */
  private Set<String> keysBefore(int first, int stop, int depth) {
    Set<String> keys = new HashSet<>();
    CborJson r = new CborJson(in, first, stop, null);
    while (r.pos < stop) {
      keys.add(keyText(r.pos));
      r.pos = r.skipKey();
      r.item(depth + 1);
    }
    return keys;
  }

  /** Returns the position after the (checked) text item at {@code pos}. */
  private int skipKey() {
    int start = pos;
    int ib = readByte("a map key");
    text(ib & 0x1f, start);
    return pos;
  }

  /** Returns the (checked) text item at {@code at} as a string. */
  private String keyText(int at) {
    int ai = in[at] & 0x1f;
    CborJson r = new CborJson(in, at + 1, end, null);
    if (ai != 31) {
      int len = r.readLength(3, ai, at);
      return new String(in, r.pos, len, StandardCharsets.UTF_8);
    }
    StringBuilder chars = new StringBuilder();
    int chunkStart;
    while ((chunkStart = r.nextChunk(3, at)) >= 0) {
      int len = r.readLength(3, in[chunkStart] & 0x1f, chunkStart);
      chars.append(new String(in, r.pos, len, StandardCharsets.UTF_8));
      r.pos += len;
    }
    return chars.toString();
  }

  private void tagged(int ai, int start, int depth) {
    long tag = readArgument(ai, start, "a tag");
    if (tag != 2 && tag != 3) {
      throw CborDecoder.malformed(start, "tag " + Long.toUnsignedString(tag)
          + " is not supported; only tags 2 and 3 (bignums) are");
    }
    checkDepth(depth, start);
    int contentStart = pos;
    int ib = readByte("the content of tag " + tag);
    if (ib >>> 5 != 2) {
      throw CborDecoder.malformed(contentStart, "the content of bignum tag " + tag + " is "
          + CborDecoder.describe(ib) + ", expected a byte string");
    }
    byte[] magnitude = byteString(ib & 0x1f, contentStart);
    if (out != null) {
      BigInteger m = new BigInteger(1, magnitude);
      out.writeAscii((tag == 2 ? m : m.not()).toString());
    }
  }

  private void simple(int ai, int start) {
    switch (ai) {
      case 20:
        literal("false");
        return;
      case 21:
        literal("true");
        return;
      case 22:
        literal("null");
        return;
      case 23:
        throw CborDecoder.malformed(start,
            "undefined is not a value; only false, true and null are");
      case 24: {
        int n = readByte("a simple value");
        throw CborDecoder.malformed(start,
            "simple(" + n + ") is not a value; only false, true and null are");
      }
      case 25: {
        need(2, start, "a float16");
        int half = (in[pos] & 0xff) << 8 | in[pos + 1] & 0xff;
        pos += 2;
        number(CborDecoder.halfToDouble(half));
        return;
      }
      case 26: {
        need(4, start, "a float32");
        number(Float.intBitsToFloat((int) readBig(4)));
        return;
      }
      case 27: {
        need(8, start, "a float64");
        number(Double.longBitsToDouble(readBig(8)));
        return;
      }
      case 31:
        throw CborDecoder.malformed(start, "a break (0xff) outside an indefinite-length item");
      default:
        if (ai < 20) {
          throw CborDecoder.malformed(start,
              "simple(" + ai + ") is not a value; only false, true and null are");
        }
        throw CborDecoder.malformed(start,
            "reserved additional information " + ai + " in major type 7");
    }
  }

  private void literal(String s) {
    if (out != null) {
      out.writeAscii(s);
    }
  }

  /** Writes a double as Jackson does: not finite ones as strings. */
  private void number(double d) {
    if (out == null) {
      return;
    }
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      out.write('"');
      out.writeAscii(Double.toString(d));
      out.write('"');
    } else {
      out.writeAscii(Double.toString(d));
    }
  }

  private void bytes(int ai, int start) {
    if (out == null && ai != 31) {
      int len = readLength(2, ai, start);
      pos += len;
      return;
    }
    byte[] b = byteString(ai, start);
    if (out != null) {
      out.write('"');
      out.write(Base64.getEncoder().encode(b));
      out.write('"');
    }
  }

  private byte[] byteString(int ai, int start) {
    if (ai == 31) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int chunkStart;
      while ((chunkStart = nextChunk(2, start)) >= 0) {
        int len = readLength(2, in[chunkStart] & 0x1f, chunkStart);
        bytes.write(in, pos, len);
        pos += len;
      }
      return bytes.toByteArray();
    }
    int len = readLength(2, ai, start);
    byte[] b = Arrays.copyOfRange(in, pos, pos + len);
    pos += len;
    return b;
  }

  private void text(int ai, int start) {
    if (ai != 31 && out != null) {
      int len = readLength(3, ai, start);
      out.ensure(len + 34);
      byte[] o = out.array();
      int op = out.size();
      o[op++] = '"';
      op = escaped(pos, len, start, op);
      out.array()[op++] = '"';
      out.setSize(op);
      pos += len;
      return;
    }
    if (out != null) {
      out.write('"');
    }
    if (ai == 31) {
      int chunkStart;
      while ((chunkStart = nextChunk(3, start)) >= 0) {
        int len = readLength(3, in[chunkStart] & 0x1f, chunkStart);
        string(pos, len, chunkStart); // a chunk must be whole code points
        pos += len;
      }
    } else {
      int len = readLength(3, ai, start);
      string(pos, len, start);
      pos += len;
    }
    if (out != null) {
      out.write('"');
    }
  }

  /**
   * Checks the UTF-8 text in {@code [off, off + len)} and writes it escaped, unquoted. Eight bytes
   * at a time where the array has eight bytes left (reading past the text, not using what is
   * there); and written eight at a time too, into room kept beyond what is written.
   */
  private void string(int off, int len, int start) {
    byte[] b = in;
    int stop = off + len;
    int wordsUntil = b.length - 8; // a word may be read at i while i <= wordsUntil
    int i = off;
    if (out == null) {
      while (i < stop) {
        if (i <= wordsUntil) {
          long high = Utf8Scan.first((long) Utf8Scan.LONG.get(b, i) & Utf8Scan.HIGH, stop - i);
          if (high == 0) {
            i += Math.min(8, stop - i);
            continue;
          }
          i += Long.numberOfTrailingZeros(high) >>> 3;
        } else if (b[i] >= 0) {
          i++;
          continue;
        }
        int n = Utf8Scan.sequence(b, i, stop);
        if (n < 0) {
          throw notUtf8(start);
        }
        i += n;
      }
      return;
    }
    out.ensure(len + 32);
    out.setSize(escaped(off, len, start, out.size()));
  }

  /**
   * Writes the text in {@code [off, off + len)} escaped at {@code op} in the builder's array,
   * checking it, and returns where it ends. The caller made room for {@code len + 32} bytes at op
   * (the rest of the text, one escape, a word written past the end); at the end that much room is
   * left past what was written. The builder's size is not set.
   */
  private int escaped(int off, int len, int start, int op) {
    byte[] b = in;
    int stop = off + len;
    int wordsUntil = b.length - 8;
    int i = off;
    byte[] o = out.array();
    while (i < stop) {
      if (i <= wordsUntil) {
        long w = (long) Utf8Scan.LONG.get(b, i);
        Utf8Scan.LONG.set(o, op, w);
        long flags = Utf8Scan.first(Utf8Scan.special(w), stop - i);
        if (flags == 0) {
          int n = Math.min(8, stop - i);
          i += n;
          op += n;
          continue;
        }
        int k = Long.numberOfTrailingZeros(flags) >>> 3;
        i += k;
        op += k;
      } else {
        byte c = b[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
          o[op++] = c;
          i++;
          continue;
        }
      }
      int c = b[i];
      if (c >= 0) {
        i++;
        byte e = ESCAPE[c];
        o[op++] = '\\';
        o[op++] = e;
        if (e == 'u') {
          o[op++] = '0';
          o[op++] = '0';
          o[op++] = HEX[c >>> 4];
          o[op++] = HEX[c & 0xf];
        }
      } else {
        int n = Utf8Scan.sequence(b, i, stop);
        if (n < 0) {
          out.setSize(op);
          throw notUtf8(start);
        }
        if (n == 4 && escapeAstral) { // as Jackson's UTF-8 writer: surrogates, escaped
          int cp = (c & 0x07) << 18 | (b[i + 1] & 0x3f) << 12 | (b[i + 2] & 0x3f) << 6
              | b[i + 3] & 0x3f;
          op = unicodeEscape(Character.highSurrogate(cp), o, op);
          op = unicodeEscape(Character.lowSurrogate(cp), o, op);
        } else {
          o[op] = b[i];
          o[op + 1] = b[i + 1];
          if (n >= 3) {
            o[op + 2] = b[i + 2];
            if (n == 4) {
              o[op + 3] = b[i + 3];
            }
          }
          op += n;
        }
        i += n;
      }
      if (o.length - op < stop - i + 32) {
        out.setSize(op);
        out.ensure(stop - i + 32);
        o = out.array();
      }
    }
    return op;
  }

  private static ReplikonException notUtf8(int start) {
    return CborDecoder.malformed(start, "a text string is not well-formed UTF-8");
  }

  private static int unicodeEscape(char c, byte[] o, int op) {
    o[op] = '\\';
    o[op + 1] = 'u';
    o[op + 2] = HEX[c >>> 12];
    o[op + 3] = HEX[c >>> 8 & 0xf];
    o[op + 4] = HEX[c >>> 4 & 0xf];
    o[op + 5] = HEX[c & 0xf];
    return op + 6;
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
      throw CborDecoder.malformed(chunkStart, "a chunk of an indefinite-length " + kind + " is "
          + CborDecoder.describe(ib) + ", expected a definite-length " + kind);
    }
    return chunkStart;
  }

  /** Reads a string length and checks that that many bytes remain. */
  private int readLength(int major, int ai, int start) {
    long len = readArgument(ai, start, major == 2 ? "a byte string" : "a text string");
    if (len < 0 || len > end - pos) {
      throw CborDecoder.malformed(start, (major == 2 ? "a byte string" : "a text string")
          + " declares " + Long.toUnsignedString(len) + " bytes but only " + (end - pos)
          + " remain");
    }
    return (int) len;
  }

  /** Reads an item's argument as {@link CborDecoder#argument} does, and moves past it. */
  private long readArgument(int ai, int start, String what) {
    long v = CborDecoder.argument(in, pos, end, ai, start, what);
    pos += CborDecoder.argumentWidth(ai);
    return v;
  }

  private long readBig(int n) {
    long v = CborDecoder.bigEndian(in, pos, n);
    pos += n;
    return v;
  }

  private void need(int n, int start, String what) {
    CborDecoder.need(end - pos, n, start, what);
  }


  private int readByte(String what) {
    if (pos >= end) {
      throw CborDecoder.malformed(pos,
          "truncated input: expected " + what + ", found end of input");
    }
    return in[pos++] & 0xff;
  }

  private int peek(int start, String what) {
    if (pos >= end) {
      throw CborDecoder.malformed(pos, "truncated input: " + what + " that starts at offset "
          + start + " has no break (0xff)");
    }
    return in[pos] & 0xff;
  }

  private void checkDepth(int depth, int start) {
    if (depth >= CborDecoder.MAX_DEPTH) {
      throw CborDecoder.malformed(start, "nesting deeper than " + CborDecoder.MAX_DEPTH
          + " levels");
    }
  }
}
