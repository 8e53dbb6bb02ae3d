package io.replikon.collector;

/*
 * Design note: the check reads the canonical CBOR the event was encoded to, not a JSON tree, so it
 * costs a few bytes of the encoding: [fn, params] is a two-element array, fn a text; params must
 * be a map. Its keys are walked (skipping values item by item, definite lengths only, as the
 * encoding is canonical) until "id" or "id_str" is found: canonical order sorts shorter keys
 * first, so both come early in a tweet. Every read is bounded by the array's length.
 */
/**
 * Checks that an encoded {@code add-tweet} transaction is one a sink can apply: its params a JSON
 * object with an integer {@code id} or an {@code id_str} of decimal digits. Stateless.
 */
final class TweetCheck {
  /** The function whose events are checked. */
  static final String FN = "add-tweet";

  private TweetCheck() {}

  /**
   * Returns why the encoded transaction {@code [fn, params]} is not a tweet, or null if it is.
   *
   * @param encoded a canonical encoding from {@link io.replikon.cdvcs.Chunk#encodeJson}
   */
  static String problem(byte[] encoded) {
    try {
      int[] at = {0};
      if ((encoded[0] & 0xff) != 0x82) {
        return "not a transaction";
      }
      at[0] = 1;
      skip(encoded, at); // fn
      int ib = encoded[at[0]] & 0xff;
      if (ib >>> 5 != 5) {
        return "an add-tweet event must be a JSON object with an integer \"id\" or a numeric"
            + " \"id_str\", not " + kind(ib >>> 5);
      }
      long entries = argument(encoded, at);
      for (long i = 0; i < entries; i++) {
        int keyAt = at[0];
        int kb = encoded[keyAt] & 0xff;
        if (kb == 0x62 && encoded[keyAt + 1] == 'i' && encoded[keyAt + 2] == 'd') {
          at[0] = keyAt + 3;
          int vb = encoded[at[0]] & 0xff;
          if (vb >>> 5 == 0 || vb >>> 5 == 1) {
            return null;
          }
          skip(encoded, at);
          continue; // "id" of another kind: "id_str" may still do
        }
        if (kb == 0x66 && new String(encoded, keyAt + 1, 6,
            java.nio.charset.StandardCharsets.US_ASCII).equals("id_str")) {
          at[0] = keyAt + 7;
          int vb = encoded[at[0]] & 0xff;
          if (vb >>> 5 == 3) {
            int start = at[0];
            long n = argument(encoded, at);
            if (n > 0 && n <= 40 && digits(encoded, at[0], (int) n)) {
              return null;
            }
            at[0] = start;
          }
          skip(encoded, at);
          continue;
        }
        skip(encoded, at); // key
        skip(encoded, at); // value
      }
      return "an add-tweet event needs an integer \"id\" or a numeric \"id_str\"";
    } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
      return "not a well-formed transaction";
    }
  }

  private static boolean digits(byte[] b, int from, int n) {
    for (int i = from; i < from + n; i++) {
      if (b[i] < '0' || b[i] > '9') {
        return false;
      }
    }
    return true;
  }

  private static String kind(int major) {
    return switch (major) {
      case 0, 1 -> "a number";
      case 3 -> "a string";
      case 4 -> "an array";
      case 7 -> "a number, true, false or null";
      default -> "a value of CBOR major type " + major;
    };
  }

  /** Reads the header at {@code at[0]}, moves past it, returns its argument. */
  private static long argument(byte[] b, int[] at) {
    int ib = b[at[0]++] & 0xff;
    int ai = ib & 0x1f;
    if (ai < 24) {
      return ai;
    }
    int width = switch (ai) {
      case 24 -> 1;
      case 25 -> 2;
      case 26 -> 4;
      case 27 -> 8;
      default -> throw new IllegalArgumentException("indefinite length");
    };
    long v = 0;
    for (int i = 0; i < width; i++) {
      v = (v << 8) | (b[at[0]++] & 0xff);
    }
    return v;
  }

  /** Moves {@code at[0]} past one whole item (iteratively: no recursion on hostile depth). */
  private static void skip(byte[] b, int[] at) {
    long items = 1;
    while (items > 0) {
      items--;
      int major = (b[at[0]] & 0xff) >>> 5;
      long n = argument(b, at);
      switch (major) {
        case 2, 3 -> {
          if (n > b.length - at[0]) {
            throw new IllegalArgumentException("string past the end");
          }
          at[0] += (int) n;
        }
        case 4 -> items += n;
        case 5 -> items += 2 * n;
        case 6 -> items += 1;
        default -> { } // integers and simple values: the header is all
      }
      if (items > b.length) {
        throw new IllegalArgumentException("more items than bytes");
      }
    }
  }
}
