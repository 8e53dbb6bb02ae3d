package io.replikon.value;

import static io.replikon.value.CborDecoder.malformed;

/**
 * Checks that bytes are the canonical encoding of a value, in one pass and without building
 * anything: what {@link CanonicalCbor#isCanonical} answers by decoding and re-encoding, at the
 * cost of a scan.
 *
 * <p>Design note. A value whose id is its hash (a commit value, a chunk) has exactly one accepted
 * encoding, or one value would have two ids. Decoding a 1 MiB chunk into a tree and encoding it
 * again costs about 13 times the SHA-256 of it; this scan about twice (ValueCheckBench, a 1 MiB
 * chunk of tweets: hash 1,370/s, scan 620/s, both 510/s, decode and re-encode 105/s, on a shared
 * two-core machine). It accepts exactly
 * the bytes that the encoder ({@link CborEncoder}) writes for the trees the decoder
 * ({@link CborDecoder}) reads, rule by rule:
 *
 * <ul>
 *   <li>every head has the shortest argument, every length is definite;
 *   <li>text is well-formed UTF-8; map keys are text, strictly increasing by their encoded bytes
 *       (which also excludes duplicates);
 *   <li>only tags 2 and 3, written {@code c2}/{@code c3}, around a byte string without leading
 *       zero bytes and longer than 8 bytes (smaller integers are major type 0 or 1);
 *   <li>the simple values false, true and null; floats in the shortest exact width, NaN only as
 *       {@code f97e00};
 *   <li>nesting of arrays, maps and tags below {@link CborDecoder#MAX_DEPTH}.
 * </ul>
 *
 * <p>The fuzz test {@code CborDecoderFuzzTest} holds it to the decode-and-re-encode definition.
 * An instance reads one input once; not thread-safe.
 */
final class CanonicalCheck {
  private final byte[] in;
  private final int end;
  private int pos;

  private CanonicalCheck(byte[] in, int offset, int end) {
    this.in = in;
    this.pos = offset;
    this.end = end;
  }

  /** Checks the one canonical data item that fills {@code in[offset, end)}. */
  static void check(byte[] in, int offset, int end) {
    int itemEnd = itemEnd(in, offset, end);
    if (itemEnd != end) {
      throw malformed(itemEnd, (end - itemEnd) + " trailing byte(s) after the data item");
    }
  }

  /** Checks the canonical data item at {@code offset} (ending by {@code limit}); returns its end. */
  static int itemEnd(byte[] in, int offset, int limit) {
    CanonicalCheck c = new CanonicalCheck(in, offset, limit);
    if (offset >= limit) {
      throw malformed(offset, "truncated input: expected a data item, found end of input");
    }
    c.item(0);
    return c.pos;
  }

  private void item(int depth) {
    int start = pos;
    int ib = in[pos++] & 0xff;
    int major = ib >>> 5;
    int ai = ib & 0x1f;
    switch (major) {
      case 0, 1 -> argument(ai, start);
      case 2 -> skipBytes(length(ai, start), start);
      case 3 -> text(ai, start);
      case 4 -> {
        depth(depth, start);
        long n = argument(ai, start);
        if (n < 0 || n > end - pos) {
          throw malformed(start, "an array declares more items than bytes remain");
        }
        for (long i = 0; i < n; i++) {
          next(start);
          item(depth + 1);
        }
      }
      case 5 -> map(ai, start, depth);
      case 6 -> bignum(ai, start, depth);
      default -> simple(ai, start);
    }
  }

  private void map(int ai, int start, int depth) {
    depth(depth, start);
    long n = argument(ai, start);
    if (n < 0 || n > (end - pos) / 2) {
      throw malformed(start, "a map declares more entries than bytes remain");
    }
    int lastKey = -1;
    int lastKeyEnd = -1;
    for (long i = 0; i < n; i++) {
      int keyStart = pos;
      next(start);
      int ib = in[pos] & 0xff;
      if (ib >>> 5 != 3) {
        throw malformed(keyStart, "a map key is not a text string");
      }
      pos++;
      text(ib & 0x1f, keyStart);
      if (lastKey >= 0 && java.util.Arrays.compareUnsigned(
          in, lastKey, lastKeyEnd, in, keyStart, pos) >= 0) {
        throw malformed(keyStart, "map keys are not in canonical order (or repeat)");
      }
      lastKey = keyStart;
      lastKeyEnd = pos;
      next(start);
      item(depth + 1);
    }
  }

  private void bignum(int ai, int start, int depth) {
    if (ai != 2 && ai != 3) {
      throw malformed(start, "only tags 2 and 3 (bignums), in their shortest head, are canonical");
    }
    depth(depth, start);
    next(start);
    int contentStart = pos;
    int ib = in[pos++] & 0xff;
    if (ib >>> 5 != 2) {
      throw malformed(contentStart, "the content of a bignum is not a byte string");
    }
    int len = length(ib & 0x1f, contentStart);
    if (len <= 8 || in[pos] == 0) {
      throw malformed(start, "a bignum that is not canonical (leading zero, or fits 64 bits)");
    }
    skipBytes(len, contentStart);
  }

  private void simple(int ai, int start) {
    switch (ai) {
      case 20, 21, 22 -> { }
      case 25 -> {
        need(2, start);
        int half = (in[pos] & 0xff) << 8 | in[pos + 1] & 0xff;
        pos += 2;
        if ((half & 0x7c00) == 0x7c00 && (half & 0x3ff) != 0 && half != 0x7e00) {
          throw malformed(start, "a NaN other than f97e00");
        }
      }
      case 26 -> {
        need(4, start);
        float f = Float.intBitsToFloat((int) CborDecoder.bigEndian(in, pos, 4));
        pos += 4;
        if (f != f || CborEncoder.halfBits(f) >= 0) {
          throw malformed(start, "a float32 that is NaN or fits a float16");
        }
      }
      case 27 -> {
        need(8, start);
        double d = Double.longBitsToDouble(CborDecoder.bigEndian(in, pos, 8));
        pos += 8;
        if (d != d || (float) d == d) {
          throw malformed(start, "a float64 that is NaN or fits a float32");
        }
      }
      default -> throw malformed(start, "a simple value other than false, true and null, "
          + "or a float not in its shortest head");
    }
  }

  private void text(int ai, int start) {
    int len = length(ai, start);
    int from = pos;
    skipBytes(len, start);
    for (int i = from; i < pos; i++) {
      if (in[i] < 0) {
        if (!CborDecoder.wellFormedUtf8(in, i, pos)) {
          throw malformed(start, "a text string is not well-formed UTF-8");
        }
        return;
      }
    }
  }

  /** Reads a string length that must fit in what remains. */
  private int length(int ai, int start) {
    long len = argument(ai, start);
    if (len < 0 || len > end - pos) {
      throw malformed(start, "a string declares more bytes than remain");
    }
    return (int) len;
  }

  private void skipBytes(int n, int start) {
    need(n, start);
    pos += n;
  }

  /** Reads a shortest-form, definite argument (unsigned 64-bit; negative above 2^63 - 1). */
  private long argument(int ai, int start) {
    if (ai < 24) {
      return ai;
    }
    if (ai > 27) {
      throw malformed(start, ai == 31 ? "an indefinite length is not canonical"
          : "reserved additional information " + ai);
    }
    int width = CborDecoder.argumentWidth(ai);
    need(width, start);
    long v = CborDecoder.bigEndian(in, pos, width);
    pos += width;
    boolean shortest = switch (width) {
      case 1 -> v >= 24;
      case 2 -> v > 0xff;
      case 4 -> v > 0xffff;
      default -> Long.compareUnsigned(v, 0xffff_ffffL) > 0;
    };
    if (!shortest) {
      throw malformed(start, "an argument not in its shortest form");
    }
    return v;
  }

  private void need(int n, int start) {
    CborDecoder.need(end - pos, n, start, "a data item");
  }

  private void next(int start) {
    if (pos >= end) {
      throw malformed(pos, "truncated input: the item that starts at offset " + start
          + " is cut short");
    }
  }

  private static void depth(int depth, int start) {
    if (depth >= CborDecoder.MAX_DEPTH) {
      throw malformed(start, "nesting deeper than " + CborDecoder.MAX_DEPTH + " levels");
    }
  }
}
