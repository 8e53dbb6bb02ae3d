package io.replikon.value;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Scanning UTF-8 eight bytes at a time: where the next byte that needs a look is (non-ASCII, or
 * in JSON a character to escape), and the check of one multi-byte sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), as {@link CborDecoder#wellFormedUtf8} checks.
 */
final class Utf8Scan {
  /** Reads and writes eight bytes of a byte array at once, little-endian. */
  static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final long HIGH = 0x8080808080808080L;
  private static final long ONES = 0x0101010101010101L;

  private Utf8Scan() {}

  /** Returns the index of the first byte in {@code [i, stop)} that is not ASCII, or stop. */
  static int asciiRun(byte[] b, int i, int stop) {
    while (stop - i >= 8) {
      long high = (long) LONG.get(b, i) & HIGH;
      if (high != 0) {
        return i + (Long.numberOfTrailingZeros(high) >>> 3);
      }
      i += 8;
    }
    while (i < stop && b[i] >= 0) {
      i++;
    }
    return i;
  }

  /**
   * Returns the index of the first byte in {@code [i, stop)} that JSON text cannot hold as it is:
   * not ASCII, a control character, {@code "} or {@code \}; or stop.
   */
  static int plainJsonRun(byte[] b, int i, int stop) {
    while (stop - i >= 8) {
      long flags = special((long) LONG.get(b, i));
      if (flags != 0) {
        return i + (Long.numberOfTrailingZeros(flags) >>> 3);
      }
      i += 8;
    }
    while (i < stop) {
      int c = b[i];
      if (c < 0x20 || c == '"' || c == '\\') { // non-ASCII bytes are negative
        return i;
      }
      i++;
    }
    return i;
  }

  /**
   * Returns the high bit of each byte of {@code w} (eight bytes, the first lowest) that JSON text
   * cannot hold as it is: not ASCII, a control character, {@code "} or {@code \}. Borrows only
   * reach bytes above one rightly flagged, so the lowest flag is exact; the ones above it may not
   * be.
   */
  static long special(long w) {
    return (w | (w - 0x2020202020202020L) & ~w | zero(w ^ 0x2222222222222222L)
        | zero(w ^ 0x5c5c5c5c5c5c5c5cL)) & HIGH;
  }

  /**
   * Returns {@code flags} without the flags of the bytes from the {@code n}-th on, if n is below
   * 8: for a word that runs past the end of what is scanned.
   */
  static long first(long flags, int n) {
    return n < 8 ? flags & ((1L << (n << 3)) - 1) : flags;
  }

  /** High bit set in the bytes of {@code v} that are zero (and possibly in bytes above them). */
  private static long zero(long v) {
    return (v - ONES) & ~v;
  }

  /**
   * Returns the length (2 to 4) of the well-formed multi-byte sequence that starts at {@code i},
   * a byte at or above 0x80, or -1 if it is not one or does not end by {@code stop}.
   */
  static int sequence(byte[] b, int i, int stop) {
    int c = b[i] & 0xff;
    if (c < 0xe0) {
      return c >= 0xc2 && i + 1 < stop && (b[i + 1] & 0xc0) == 0x80 ? 2 : -1;
    }
    if (c < 0xf0) {
      if (i + 2 >= stop) {
        return -1;
      }
      int c1 = b[i + 1] & 0xff;
      if ((c1 & 0xc0) != 0x80 || (b[i + 2] & 0xc0) != 0x80 || (c == 0xe0 && c1 < 0xa0)
          || (c == 0xed && c1 > 0x9f)) {
        return -1;
      }
      return 3;
    }
    if (c > 0xf4 || i + 3 >= stop) {
      return -1;
    }
    int c1 = b[i + 1] & 0xff;
    if ((c1 & 0xc0) != 0x80 || (b[i + 2] & 0xc0) != 0x80 || (b[i + 3] & 0xc0) != 0x80
        || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) {
      return -1;
    }
    return 4;
  }
}
