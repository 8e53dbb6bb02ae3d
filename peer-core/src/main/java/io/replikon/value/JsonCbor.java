package io.replikon.value;

import io.replikon.error.ReplikonException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Reads JSON text straight into its canonical CBOR encoding, without building a tree: for
 * collectors that take events as JSON (lines, HTTP bodies, stream messages) and commit them.
 *
 * <p><b>Same bytes as the tree.</b> The result is byte for byte what {@link CanonicalCbor#encode}
 * gives for the tree that Jackson's default {@code ObjectMapper.readTree} builds from the same
 * text: integers by value (any size; {@code -0} is 0), numbers with a fraction or an exponent as
 * the double {@link Double#parseDouble} gives, strings as UTF-8, objects with their keys in
 * canonical order.
 *
 * <p><b>Strict input.</b> RFC 8259 JSON, one value with only whitespace around it (a UTF-8 byte
 * order mark may come first). Refused, with what is wrong and its line and column: anything that
 * is not JSON, trailing content, duplicate keys in one object (which a tree would silently
 * collapse), invalid UTF-8 (overlong forms, surrogates, above U+10FFFF), an escaped unpaired
 * surrogate (it has no UTF-8 form; the tree path refuses it too), numbers longer than 1,000
 * characters, and nesting deeper than 512 arrays and objects.
 *
 * <p>Design note. One pass over the input, writing into one growable array:
 *
 * <ul>
 *   <li>Containers and strings do not announce their size in JSON, so a one-byte header is
 *       reserved and the content moved along if a longer header turns out to be needed: rare for
 *       containers (24 entries or more), and for strings a copy of the string only.
 *   <li>Strings are copied in runs: {@link Utf8Scan#plainJsonRun} finds the next byte that needs a
 *       look eight bytes at a time; only escapes and multi-byte sequences are handled one by one.
 *   <li>An object's entries are written as they come, each key encoded once; the start of each
 *       key, its end and its first eight encoded bytes (a number that decides most comparisons)
 *       go on a stack. At the closing brace the entries are sorted (insertion sort of indexes:
 *       objects are small) and, only if they are out of order, the object's bytes are copied to a
 *       scratch array and written back in order. Equal keys meet in the sort, so duplicates cost
 *       nothing extra.
 *   <li>Recursion is bounded by the depth limit, so hostile input cannot overflow the stack.
 * </ul>
 *
 * <p>Stateless and thread-safe: each thread reuses one reader (its buffers dropped after a value
 * larger than 16 MiB). A null argument throws {@code NullPointerException}.
 */
public final class JsonCbor {
  private static final ThreadLocal<JsonCbor> READER = ThreadLocal.withInitial(JsonCbor::new);
  /** The longest number accepted, in characters (as Jackson's default limit). */
  static final int MAX_NUMBER_CHARS = 1000;
  private static final int RETAINED_BUFFER_MAX = (16 << 20) + (64 << 10);
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

  private byte[] in;
  private int start;
  private int p;
  private int end;

  private byte[] buf = new byte[8192];
  private int pos;
  private byte[] scratch = new byte[8192];

  // The entries of the objects being read, one region per nesting level.
  private int[] keyStart = new int[256];
  private int[] keyEnd = new int[256];
  private long[] keyPrefix = new long[256];
  private int[] order = new int[256];
  private int top;
  private boolean busy;

  private JsonCbor() {}

  /**
   * Returns the canonical encoding of the JSON value in {@code json[offset, offset + length)}.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT}, saying what is wrong and at which
   *     line and column, if the text is not one JSON value that the data model holds
   * @throws IndexOutOfBoundsException if the range is not inside {@code json}
   */
  public static byte[] encode(byte[] json, int offset, int length) {
    return encode(new byte[0], json, offset, length);
  }

  /**
   * Returns {@code prefix} followed by the canonical encoding of the JSON value in
   * {@code json[offset, offset + length)}, in one array: for a value inside a larger encoding (a
   * transaction's {@code [fn, params]}) without copying it again. With a prefix the value counts
   * as nested one level deep, as inside the array it will be part of.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} as {@link #encode(byte[], int,
   *     int)}
   * @throws IndexOutOfBoundsException if the range is not inside {@code json}
   */
  public static byte[] encode(byte[] prefix, byte[] json, int offset, int length) {
    Objects.requireNonNull(prefix, "prefix");
    Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(json, "json").length);
    JsonCbor reader = acquire(json, offset, length);
    try {
      reader.skipByteOrderMark();
      reader.append(prefix);
      reader.readValue(prefix.length == 0 ? 0 : 1);
      reader.expectEnd();
      return Arrays.copyOf(reader.buf, reader.pos);
    } finally {
      reader.release();
    }
  }

  /**
   * Reads a JSON array as a list of values, each returned as {@code prefix} followed by its
   * canonical encoding, in order; any other JSON value gives a list of one. For bodies that hold
   * one event or an array of events. The whole text is checked before anything is returned.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} as {@link #encode(byte[], int,
   *     int)}
   * @throws IndexOutOfBoundsException if the range is not inside {@code json}
   */
  public static List<byte[]> encodeElements(byte[] prefix, byte[] json, int offset, int length) {
    Objects.requireNonNull(prefix, "prefix");
    Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(json, "json").length);
    JsonCbor reader = acquire(json, offset, length);
    try {
      reader.skipByteOrderMark();
      reader.skipWhitespace();
      if (reader.p == reader.end || reader.in[reader.p] != '[') {
        reader.append(prefix);
        reader.readValue(prefix.length == 0 ? 0 : 1);
        reader.expectEnd();
        return List.of(Arrays.copyOf(reader.buf, reader.pos));
      }
      List<byte[]> out = new ArrayList<>();
      reader.p++;
      reader.skipWhitespace();
      if (reader.p < reader.end && reader.in[reader.p] == ']') {
        reader.p++;
      } else {
        while (true) {
          reader.pos = 0;
          reader.append(prefix);
          reader.readValue(1);
          out.add(Arrays.copyOf(reader.buf, reader.pos));
          if (reader.nextInContainer(']')) {
            break;
          }
        }
      }
      reader.expectEnd();
      return out;
    } finally {
      reader.release();
    }
  }

  private static JsonCbor acquire(byte[] json, int offset, int length) {
    JsonCbor reader = READER.get();
    if (reader.busy) {
      reader = new JsonCbor();
    }
    reader.busy = true;
    reader.in = json;
    reader.start = offset;
    reader.p = offset;
    reader.end = offset + length;
    reader.pos = 0;
    reader.top = 0;
    return reader;
  }

  private void release() {
    in = null;
    busy = false;
    if (buf.length > RETAINED_BUFFER_MAX) {
      buf = new byte[8192];
    }
    if (scratch.length > RETAINED_BUFFER_MAX) {
      scratch = new byte[8192];
    }
  }

  private void skipByteOrderMark() {
    if (end - p >= 3 && in[p] == (byte) 0xef && in[p + 1] == (byte) 0xbb
        && in[p + 2] == (byte) 0xbf) {
      p += 3;
    }
  }

  private void expectEnd() {
    skipWhitespace();
    if (p < end) {
      throw invalid("trailing content after the value: " + describe(p));
    }
  }

  private void skipWhitespace() {
    byte[] b = in;
    int i = p;
    while (i < end) {
      byte c = b[i];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        break;
      }
      i++;
    }
    p = i;
  }

  /**
   * After an element of a container: skips a comma and returns false, or skips {@code close} and
   * returns true.
   */
  private boolean nextInContainer(char close) {
    skipWhitespace();
    if (p < end) {
      byte c = in[p];
      if (c == ',') {
        p++;
        return false;
      }
      if (c == close) {
        p++;
        return true;
      }
    }
    throw invalid("expected ',' or '" + close + "' but found " + describe(p));
  }

  private void readValue(int depth) {
    skipWhitespace();
    if (p >= end) {
      throw invalid("expected a value but the input ended");
    }
    switch (in[p]) {
      case '{' -> readObject(depth);
      case '[' -> readArray(depth);
      case '"' -> readString();
      case 't' -> literal("true", (byte) 0xf5);
      case 'f' -> literal("false", (byte) 0xf4);
      case 'n' -> literal("null", (byte) 0xf6);
      case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> readNumber();
      default -> throw invalid("expected a value but found " + describe(p));
    }
  }

  private void literal(String word, byte encoded) {
    int n = word.length();
    if (end - p < n) {
      throw invalid("expected a value but found " + describe(p));
    }
    for (int i = 0; i < n; i++) {
      if (in[p + i] != word.charAt(i)) {
        throw invalid("expected a value but found " + describe(p));
      }
    }
    p += n;
    ensure(1);
    buf[pos++] = encoded;
  }

  private void readArray(int depth) {
    checkDepth(depth);
    p++;
    int header = pos;
    ensure(1);
    pos++;
    int count = 0;
    skipWhitespace();
    if (p < end && in[p] == ']') {
      p++;
    } else {
      do {
        readValue(depth + 1);
        count++;
      } while (!nextInContainer(']'));
    }
    closeHeader(header, 4, count);
  }

  /**
   * Writes the header of a container whose content follows the one byte reserved at
   * {@code header}, moving the content along if the header needs more.
   */
  private void closeHeader(int header, int major, int count) {
    int size = CborEncoder.headerSize(count);
    if (size > 1) {
      ensure(size - 1);
      System.arraycopy(buf, header + 1, buf, header + size, pos - header - 1);
      pos += size - 1;
    }
    CborEncoder.putHeader(buf, header, major, count);
  }

  private void readObject(int depth) {
    checkDepth(depth);
    p++;
    int header = pos;
    ensure(1);
    pos++;
    int base = top;
    boolean sorted = true;
    skipWhitespace();
    if (p < end && in[p] == '}') {
      p++;
    } else {
      do {
        skipWhitespace();
        if (p >= end || in[p] != '"') {
          throw invalid("expected a key (a string) but found " + describe(p));
        }
        int k = top;
        if (k == keyStart.length) {
          growEntries();
        }
        int ks = pos;
        readString();
        keyStart[k] = ks;
        keyEnd[k] = pos;
        long prefix = prefixOf(ks, pos);
        keyPrefix[k] = prefix;
        top = k + 1;
        if (sorted && k > base && compareKeys(k - 1, k) >= 0) {
          sorted = false;
        }
        skipWhitespace();
        if (p >= end || in[p] != ':') {
          throw invalid("expected ':' after a key but found " + describe(p));
        }
        p++;
        readValue(depth + 1);
      } while (!nextInContainer('}'));
    }
    int n = top - base;
    if (!sorted) {
      writeInOrder(header + 1, base, n);
    }
    top = base;
    closeHeader(header, 5, n);
  }

  /**
   * Sorts the {@code n} entries from stack index {@code base} whose bytes start at {@code from}
   * and end at {@code pos}, and writes them back in canonical order; refuses duplicate keys.
   */
  private void writeInOrder(int from, int base, int n) {
    int[] ord = order;
    if (n > CborEncoder.INSERTION_SORT_MAX) {
      sortLarge(base, n);
    } else {
      insertionSort(base, n);
    }
    int length = pos - from;
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
    }
    System.arraycopy(buf, from, scratch, 0, length);
    int at = from;
    for (int i = 0; i < n; i++) {
      int k = ord[base + i];
      int entryStart = keyStart[k];
      int entryEnd = k + 1 < base + n ? keyStart[k + 1] : pos;
      System.arraycopy(scratch, entryStart - from, buf, at, entryEnd - entryStart);
      at += entryEnd - entryStart;
    }
  }

  /** Puts the stack indexes of the entries in canonical order into {@code order}; few entries. */
  private void insertionSort(int base, int n) {
    int[] ord = order;
    ord[base] = base;
    for (int i = 1; i < n; i++) {
      int k = base + i;
      int j = i - 1;
      int c;
      while (j >= 0 && (c = compareKeys(ord[base + j], k)) >= 0) {
        if (c == 0) {
          throw duplicate(k);
        }
        ord[base + j + 1] = ord[base + j];
        j--;
      }
      ord[base + j + 1] = k;
    }
  }

  /** As {@link #insertionSort}, in n log n for large objects (hostile input included). */
  private void sortLarge(int base, int n) {
    Integer[] boxed = new Integer[n];
    for (int i = 0; i < n; i++) {
      boxed[i] = base + i;
    }
    Arrays.sort(boxed, this::compareKeys);
    for (int i = 0; i < n; i++) {
      if (i > 0 && compareKeys(boxed[i - 1], boxed[i]) == 0) {
        throw duplicate(boxed[i]);
      }
      order[base + i] = boxed[i];
    }
  }

  private ReplikonException duplicate(int k) {
    int info = buf[keyStart[k]] & 0x1f;
    int header = info < 24 ? 1 : info == 24 ? 2 : info == 25 ? 3 : 5;
    int length = keyEnd[k] - keyStart[k];
    String key = new String(buf, keyStart[k] + header, length - header, StandardCharsets.UTF_8);
    return invalid("duplicate key \"" + abbreviate(key) + "\" in the object that ends here");
  }

  /** Compares the encoded keys of stack entries {@code a} and {@code b} bytewise. */
  private int compareKeys(int a, int b) {
    long pa = keyPrefix[a];
    long pb = keyPrefix[b];
    if (pa != pb) {
      return Long.compareUnsigned(pa, pb);
    }
    int la = keyEnd[a] - keyStart[a];
    if (la <= 8) {
      return 0; // same first eight bytes, and the header fixes the length
    }
    return Arrays.compareUnsigned(buf, keyStart[a], keyEnd[a], buf, keyStart[b], keyEnd[b]);
  }

  /** The first eight bytes of {@code buf[from, to)} as an unsigned big-endian number, zero-padded. */
  private long prefixOf(int from, int to) {
    if (to - from >= 8) {
      return Long.reverseBytes((long) Utf8Scan.LONG.get(buf, from));
    }
    long prefix = 0;
    for (int i = 0; i < 8; i++) {
      prefix = prefix << 8 | (from + i < to ? buf[from + i] & 0xffL : 0);
    }
    return prefix;
  }

  private void growEntries() {
    int cap = keyStart.length * 2;
    keyStart = Arrays.copyOf(keyStart, cap);
    keyEnd = Arrays.copyOf(keyEnd, cap);
    keyPrefix = Arrays.copyOf(keyPrefix, cap);
    order = Arrays.copyOf(order, cap);
  }

  /** Reads a string at {@code p} (its opening quote) and writes it as a text item. */
  private void readString() {
    int open = p;
    p++;
    // Room for the longest header and the content: never more bytes than the input has left.
    ensure(9 + (end - p));
    int header = pos;
    byte[] b = in;
    byte[] out = buf;
    int o = header + 1;
    int i = p;
    while (true) {
      int run = Utf8Scan.plainJsonRun(b, i, end);
      System.arraycopy(b, i, out, o, run - i);
      o += run - i;
      i = run;
      if (i >= end) {
        p = open;
        throw invalid("a string that never ends");
      }
      int c = b[i];
      if (c == '"') {
        i++;
        break;
      } else if (c == '\\') {
        i = escape(i, o);
        o = pos;
      } else if (c < 0) {
        int n = Utf8Scan.sequence(b, i, end);
        if (n < 0) {
          throw invalidAt(i, "invalid UTF-8 in a string");
        }
        for (int k = 0; k < n; k++) {
          out[o + k] = b[i + k];
        }
        o += n;
        i += n;
      } else {
        throw invalidAt(i, "a control character (U+" + String.format("%04X", c)
            + ") in a string must be escaped");
      }
    }
    p = i;
    int length = o - header - 1;
    int size = CborEncoder.headerSize(length);
    if (size > 1) {
      System.arraycopy(out, header + 1, out, header + size, length);
    }
    CborEncoder.putHeader(out, header, 3, length);
    pos = header + size + length;
  }

  /**
   * Decodes the escape at {@code in[i]} (a backslash) into {@code buf} at {@code o}; returns the
   * input offset after it and leaves the output offset after it in {@code pos}.
   */
  private int escape(int i, int o) {
    if (i + 1 >= end) {
      throw invalidAt(i, "a string that never ends");
    }
    byte[] out = buf;
    int c = in[i + 1];
    int code;
    switch (c) {
      case '"', '\\', '/' -> code = c;
      case 'b' -> code = '\b';
      case 'f' -> code = '\f';
      case 'n' -> code = '\n';
      case 'r' -> code = '\r';
      case 't' -> code = '\t';
      case 'u' -> {
        int unit = hex4(i + 2);
        int next = i + 6;
        if (Character.isHighSurrogate((char) unit)) {
          int low = end - next >= 6 && in[next] == '\\' && in[next + 1] == 'u' ? hex4(next + 2)
              : -1;
          if (!Character.isLowSurrogate((char) low) || low < 0) {
            throw invalidAt(i, "an unpaired surrogate \\u" + String.format("%04X", unit)
                + " in a string: it has no UTF-8 form");
          }
          int cp = Character.toCodePoint((char) unit, (char) low);
          out[o] = (byte) (0xf0 | cp >> 18);
          out[o + 1] = (byte) (0x80 | cp >> 12 & 0x3f);
          out[o + 2] = (byte) (0x80 | cp >> 6 & 0x3f);
          out[o + 3] = (byte) (0x80 | cp & 0x3f);
          pos = o + 4;
          return next + 6;
        }
        if (Character.isLowSurrogate((char) unit)) {
          throw invalidAt(i, "an unpaired surrogate \\u" + String.format("%04X", unit)
              + " in a string: it has no UTF-8 form");
        }
        if (unit < 0x80) {
          out[o] = (byte) unit;
          pos = o + 1;
        } else if (unit < 0x800) {
          out[o] = (byte) (0xc0 | unit >> 6);
          out[o + 1] = (byte) (0x80 | unit & 0x3f);
          pos = o + 2;
        } else {
          out[o] = (byte) (0xe0 | unit >> 12);
          out[o + 1] = (byte) (0x80 | unit >> 6 & 0x3f);
          out[o + 2] = (byte) (0x80 | unit & 0x3f);
          pos = o + 3;
        }
        return next;
      }
      default -> throw invalidAt(i, "an unknown escape \\" + printable(c) + " in a string");
    }
    out[o] = (byte) code;
    pos = o + 1;
    return i + 2;
  }

  /** Reads four hex digits at {@code i}. */
  private int hex4(int i) {
    if (end - i < 4) {
      throw invalidAt(i - 2, "a \\u escape needs four hex digits");
    }
    int v = 0;
    for (int k = 0; k < 4; k++) {
      int d = Character.digit(in[i + k], 16);
      if (d < 0) {
        throw invalidAt(i - 2, "a \\u escape needs four hex digits");
      }
      v = v << 4 | d;
    }
    return v;
  }

  private void readNumber() {
    byte[] b = in;
    int s = p;
    int i = p;
    boolean negative = b[i] == '-';
    if (negative) {
      i++;
    }
    int digits = i;
    if (i >= end || !isDigit(b[i])) {
      throw invalidAt(s, "a number needs a digit after '-'");
    }
    if (b[i] == '0') {
      i++;
      if (i < end && isDigit(b[i])) {
        throw invalidAt(s, "a number must not start with 0 (leading zeros are not JSON)");
      }
    } else {
      while (i < end && isDigit(b[i])) {
        i++;
      }
    }
    int integerEnd = i;
    boolean integer = true;
    if (i < end && b[i] == '.') {
      integer = false;
      i++;
      if (i >= end || !isDigit(b[i])) {
        throw invalidAt(s, "a number needs a digit after '.'");
      }
      while (i < end && isDigit(b[i])) {
        i++;
      }
    }
    if (i < end && (b[i] == 'e' || b[i] == 'E')) {
      integer = false;
      i++;
      if (i < end && (b[i] == '+' || b[i] == '-')) {
        i++;
      }
      if (i >= end || !isDigit(b[i])) {
        throw invalidAt(s, "a number needs a digit in its exponent");
      }
      while (i < end && isDigit(b[i])) {
        i++;
      }
    }
    if (i - s > MAX_NUMBER_CHARS) {
      throw invalidAt(s, "a number of " + (i - s) + " characters; at most " + MAX_NUMBER_CHARS
          + " are accepted");
    }
    p = i;
    ensure(9);
    if (integer && integerEnd - digits <= 18) {
      long v = 0;
      for (int k = digits; k < integerEnd; k++) {
        v = v * 10 + (b[k] - '0');
      }
      // -0 is the integer 0; -v is written as major type 1 with argument v - 1
      pos += negative && v != 0 ? CborEncoder.putHeader(buf, pos, 1, v - 1)
          : CborEncoder.putHeader(buf, pos, 0, v);
    } else if (integer) {
      append(CborEncoder.encodeInteger(
          new BigInteger(new String(b, s, i - s, StandardCharsets.ISO_8859_1))));
    } else {
      pos += CborEncoder.putDouble(buf, pos,
          Double.parseDouble(new String(b, s, i - s, StandardCharsets.ISO_8859_1)));
    }
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  private void append(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  private void ensure(int more) {
    if (buf.length - pos < more) {
      long need = (long) pos + more;
      if (need > MAX_ARRAY) {
        throw invalid("the value's encoding would exceed " + MAX_ARRAY + " bytes");
      }
      buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(need, 2L * buf.length)));
    }
  }

  private void checkDepth(int depth) {
    if (depth >= CborDecoder.MAX_DEPTH) {
      throw invalid("the value nests deeper than " + CborDecoder.MAX_DEPTH + " arrays and objects");
    }
  }

  /** What is at {@code i}, for a message: a quoted character, or the end of the input. */
  private String describe(int i) {
    if (i >= end) {
      return "the end of the input";
    }
    return "'" + printable(in[i]) + "'";
  }

  private static String printable(int c) {
    c &= 0xff;
    return c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("byte 0x%02x", c);
  }

  private static String abbreviate(String s) {
    return s.length() <= 100 ? s : s.substring(0, 100) + "…";
  }

  private ReplikonException invalid(String what) {
    return invalidAt(p, what);
  }

  /** An error naming the line and column (in bytes, both from 1) of input offset {@code at}. */
  private ReplikonException invalidAt(int at, String what) {
    int line = 1;
    int lineStart = start;
    int stop = Math.min(at, end);
    for (int i = start; i < stop; i++) {
      if (in[i] == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
        "invalid JSON: " + what + " at line " + line + " column " + (stop - lineStart + 1));
  }
}
