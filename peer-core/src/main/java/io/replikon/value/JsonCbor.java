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
 * canonical order. (Where Jackson would make a number too large for a double, {@code 1e400},
 * into Infinity, this refuses it.)
 *
 * <p><b>The one JSON to CBOR path.</b> Every way JSON becomes a value goes through this class:
 * the collector's ingest, {@code replikon hash} and {@code replikon transact}. So the rules below
 * are the rules of every path.
 *
 * <p><b>Strict input.</b> RFC 8259 JSON, one value with only whitespace around it (a UTF-8 byte
 * order mark may come first). Refused, with what is wrong and its line and column: anything that
 * is not JSON, trailing content, duplicate keys in one object (which a tree would silently
 * collapse), invalid UTF-8 (overlong forms, surrogates, above U+10FFFF), an escaped unpaired
 * surrogate (it has no UTF-8 form; the tree path refuses it too), numbers longer than 1,000
 * characters, a number with a fraction or an exponent that is not a finite double
 * ({@code 1e400}, {@code -1e400}; one that underflows, {@code 1e-400}, is 0.0 as in every JSON
 * reader), and nesting deeper than 512 arrays and objects.
 *
 * <p>Design note. One pass over the input, writing into one growable array:
 *
 * <ul>
 *   <li>Containers do not announce their size in JSON, so a one-byte header is reserved and the
 *       content moved along if a longer header turns out to be needed (24 entries or more).
 *   <li>Strings: {@link Utf8Scan#plainJsonRun} finds the next byte that needs a look eight bytes
 *       at a time. A string that ends before such a byte (most) has its length, so its header,
 *       known before it is copied; one shorter than eight bytes is one word read and written. A
 *       string with escapes or multi-byte sequences is copied in runs after a one-byte header
 *       (moved if it needs a longer one); only those are handled one by one, a run of multi-byte
 *       sequences (a word in most scripts) without a rescan between them. A short key's first
 *       eight encoded bytes are made from the word read, not read back from the output.
 *   <li>Whitespace: a byte above the space is never whitespace, so compact JSON costs one test,
 *       made where the next byte is looked at (a key's quote, a comma, a value's first byte).
 *   <li>An object's entries are written as they come, each key encoded once; the start of each
 *       key, its end and its first eight encoded bytes (a number that decides most comparisons,
 *       and fixes the key's length, as it holds the header) go on a stack, and the eight bytes
 *       into a running hash of the object's key sequence. At the closing brace the order to write
 *       the entries in comes from a small cache of shapes (key sequences seen before, up to 64
 *       keys and 2 KiB of keys; 512 slots, four probes, replace on overflow), as events of one
 *       kind repeat their keys in the same order. A hit is checked exactly: same number of keys,
 *       same eight-byte prefixes, and the bytes past eight compared eight at a time. On a miss
 *       the entries are checked for order and, if out of order, sorted (insertion sort of
 *       positions: objects are small), and the shape is cached. If the order is not the order
 *       read, the span from the first entry that moves to the last is copied to a scratch array
 *       and written back in order (all of it, one byte further on, if the object needs a longer
 *       header: that move and the reordering are one copy). The outermost object is not
 *       reordered in place: its entries are copied in order straight into the result array,
 *       which is a copy anyway. Equal keys meet in the sort, so duplicates cost nothing extra;
 *       a shape is only cached for keys found distinct, so a hit has none either.
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
  private static final int SHAPE_CACHE_BITS = 9;
  private static final int SHAPE_CACHE_SIZE = 1 << SHAPE_CACHE_BITS;
  private static final int CACHE_PROBES = 4;
  /** Objects with more keys, or more bytes of encoded keys, are sorted every time. */
  private static final int SHAPE_MAX_KEYS = 64;
  private static final int SHAPE_MAX_KEY_BYTES = 2048;

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
  // Where the value being read starts, and if it is an object, its size and canonical order
  // (null if in order; its entries are still at the bottom of the stack), else -1.
  private int rootAt;
  private int rootEntries;
  private int[] rootOrder;
  // Key sequences of recently read objects and their canonical order.
  private final Shape[] shapes = new Shape[SHAPE_CACHE_SIZE];

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
      reader.startRoot();
      reader.readValue(prefix.length == 0 ? 0 : 1);
      reader.expectEnd();
      return reader.result();
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
        reader.startRoot();
        reader.readValue(prefix.length == 0 ? 0 : 1);
        reader.expectEnd();
        return List.of(reader.result());
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
          reader.startRoot();
          reader.readValue(1);
          out.add(reader.result());
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
    reader.rootAt = -1;
    reader.rootOrder = null;
    return reader;
  }

  private void release() {
    in = null;
    rootOrder = null;
    busy = false;
    if (buf.length > CborEncoder.RETAINED_BUFFER_MAX) {
      buf = new byte[8192];
    }
    if (scratch.length > CborEncoder.RETAINED_BUFFER_MAX) {
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
    if (i < end && b[i] > ' ') {
      return; // compact JSON: nothing to skip (bytes above the space are never whitespace)
    }
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
    if (p < end) { // compact JSON: the comma or the close comes next
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
    if (p >= end || in[p] <= ' ') {
      skipWhitespace();
    }
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
    long shapeHash = 0;
    skipWhitespace();
    if (p < end && in[p] == '}') {
      p++;
    } else {
      do {
        if (p >= end || in[p] != '"') {
          skipWhitespace();
          if (p >= end || in[p] != '"') {
            throw invalid("expected a key (a string) but found " + describe(p));
          }
        }
        int k = top;
        if (k == keyStart.length) {
          growEntries();
        }
        int ks = pos;
        long prefix = readKey();
        keyStart[k] = ks;
        keyEnd[k] = pos;
        keyPrefix[k] = prefix;
        shapeHash = (shapeHash + prefix) * 0x9e3779b97f4a7c15L;
        top = k + 1;
        if (p >= end || in[p] != ':') {
          skipWhitespace();
          if (p >= end || in[p] != ':') {
            throw invalid("expected ':' after a key but found " + describe(p));
          }
        }
        p++;
        readValue(depth + 1);
      } while (!nextInContainer('}'));
    }
    int n = top - base;
    int[] perm = n > 1 ? canonicalOrder(base, n, shapeHash) : null;
    top = base;
    if (header == rootAt) {
      // The whole value: written in order straight into the result, by result().
      rootOrder = perm;
      rootEntries = n;
      return;
    }
    if (perm == null) {
      closeHeader(header, 5, n);
    } else {
      int shift = CborEncoder.headerSize(n) - 1;
      writeInOrder(base, n, perm, shift);
      pos += shift;
      CborEncoder.putHeader(buf, header, 5, n);
    }
  }

  /**
   * Starts reading a value at {@code pos}: if it is an object, {@link #result} writes its entries
   * in order.
   */
  private void startRoot() {
    rootAt = pos;
    rootEntries = -1;
  }

  /**
   * Returns the encoding read since {@link #startRoot} (and what came before it in {@code buf}):
   * a copy, or if the value is an object, its entries written straight into the result in
   * canonical order behind its header.
   */
  private byte[] result() {
    int n = rootEntries;
    if (n < 0) {
      return Arrays.copyOf(buf, pos);
    }
    int header = rootAt;
    int size = CborEncoder.headerSize(n);
    byte[] out = new byte[pos + size - 1];
    System.arraycopy(buf, 0, out, 0, header);
    CborEncoder.putHeader(out, header, 5, n);
    int[] perm = rootOrder;
    if (perm == null) {
      System.arraycopy(buf, header + 1, out, header + size, pos - header - 1);
    } else {
      int at = header + size;
      for (int i = 0; i < n; i++) {
        int k = perm[i];
        int entryStart = keyStart[k];
        int length = (k + 1 < n ? keyStart[k + 1] : pos) - entryStart;
        System.arraycopy(buf, entryStart, out, at, length);
        at += length;
      }
    }
    return out;
  }

  /**
   * Returns the canonical order of the {@code n} entries from stack index {@code base} as their
   * positions 0 to n - 1, or null if they are in order: the order of the cached shape with the
   * same keys in the same order if there is one, else sorted now (and cached); refuses duplicate
   * keys. The array returned must not be changed.
   */
  private int[] canonicalOrder(int base, int n, long shapeHash) {
    boolean cacheable = n <= SHAPE_MAX_KEYS;
    int home = (int) (shapeHash >>> (64 - SHAPE_CACHE_BITS));
    int free = -1;
    for (int probe = 0; cacheable && probe < CACHE_PROBES; probe++) {
      int slot = (home + probe) & (SHAPE_CACHE_SIZE - 1);
      Shape candidate = shapes[slot];
      if (candidate == null) {
        free = slot;
        break; // shapes are never removed, only replaced, so this one is not further on
      }
      if (candidate.hash == shapeHash && candidate.matches(this, base, n)) {
        return candidate.order;
      }
    }
    int[] perm = null;
    for (int i = base + 1; i < base + n; i++) {
      if (compareKeys(i - 1, i) >= 0) {
        if (n > CborEncoder.INSERTION_SORT_MAX) {
          sortLarge(base, n);
        } else {
          insertionSort(base, n);
        }
        perm = Arrays.copyOfRange(order, base, base + n);
        break;
      }
    }
    if (cacheable && keyBytes(base, n) <= SHAPE_MAX_KEY_BYTES) {
      shapes[free >= 0 ? free : home] = new Shape(this, shapeHash, base, n, perm);
    }
    return perm;
  }

  /** The number of bytes of the encoded keys of the {@code n} entries from {@code base}. */
  private int keyBytes(int base, int n) {
    int total = 0;
    for (int k = base; k < base + n; k++) {
      total += keyEnd[k] - keyStart[k];
    }
    return total;
  }

  /**
   * Writes the {@code n} entries from stack index {@code base} (which end at {@code pos}) back in
   * the order {@code perm}, a permutation of 0 to n - 1, and {@code shift} bytes further on (for
   * a longer header than the one reserved). Only the span from the first entry that moves to the
   * last is copied, all of them if they shift.
   */
  private void writeInOrder(int base, int n, int[] perm, int shift) {
    int lo = 0;
    int hi = n - 1;
    if (shift == 0) {
      while (perm[lo] == lo) {
        lo++;
      }
      while (perm[hi] == hi) {
        hi--;
      }
    } else {
      ensure(shift);
    }
    int spanStart = keyStart[base + lo];
    int spanEnd = hi + 1 < n ? keyStart[base + hi + 1] : pos;
    int length = spanEnd - spanStart;
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
    }
    System.arraycopy(buf, spanStart, scratch, 0, length);
    int at = spanStart + shift;
    for (int i = lo; i <= hi; i++) {
      int k = base + perm[i];
      int entryStart = keyStart[k];
      int entryEnd = k + 1 < base + n ? keyStart[k + 1] : pos;
      System.arraycopy(scratch, entryStart - spanStart, buf, at, entryEnd - entryStart);
      at += entryEnd - entryStart;
    }
  }

  /**
   * Puts the entries' positions (0 to n - 1) in canonical order into {@code order} from
   * {@code base}; few entries.
   */
  private void insertionSort(int base, int n) {
    int[] ord = order;
    ord[base] = 0;
    for (int i = 1; i < n; i++) {
      int k = base + i;
      int j = i - 1;
      int c;
      while (j >= 0 && (c = compareKeys(base + ord[base + j], k)) >= 0) {
        if (c == 0) {
          throw duplicate(k);
        }
        ord[base + j + 1] = ord[base + j];
        j--;
      }
      ord[base + j + 1] = i;
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
      order[base + i] = boxed[i] - base;
    }
  }

  /**
   * The keys of an object read before, as they came, and the order to write its entries in. A
   * shape is only made from keys that were sorted without finding a duplicate, so an object whose
   * keys match one has none either.
   */
  private static final class Shape {
    final long hash;
    /** Each key's first eight encoded bytes, as on the stack; they fix the key's length. */
    final long[] prefixes;
    /** The keys' encodings (headers and UTF-8), one after another. */
    final byte[] keys;
    /** The canonical order as positions 0 to n - 1, or null if the keys came in that order. */
    final int[] order;

    Shape(JsonCbor reader, long hash, int base, int n, int[] order) {
      this.hash = hash;
      this.order = order;
      prefixes = Arrays.copyOfRange(reader.keyPrefix, base, base + n);
      keys = new byte[reader.keyBytes(base, n)];
      int at = 0;
      for (int k = base; k < base + n; k++) {
        int length = reader.keyEnd[k] - reader.keyStart[k];
        System.arraycopy(reader.buf, reader.keyStart[k], keys, at, length);
        at += length;
      }
    }

    /** Whether the {@code n} keys from stack index {@code base} are exactly these keys. */
    boolean matches(JsonCbor reader, int base, int n) {
      long[] own = prefixes;
      if (own.length != n) {
        return false;
      }
      long[] prefix = reader.keyPrefix;
      int[] keyStart = reader.keyStart;
      int[] keyEnd = reader.keyEnd;
      byte[] b = reader.buf;
      byte[] bytes = keys;
      int at = 0;
      for (int i = 0; i < n; i++) {
        int k = base + i;
        if (prefix[k] != own[i]) {
          return false;
        }
        // Same first eight bytes, so the same header and length; past eight bytes, compare the
        // rest eight at a time, the last eight bytes overlapping what came before.
        int s = keyStart[k];
        int length = keyEnd[k] - s;
        if (length > 8) {
          for (int j = 8; j < length - 8; j += 8) {
            if ((long) Utf8Scan.LONG.get(b, s + j) != (long) Utf8Scan.LONG.get(bytes, at + j)) {
              return false;
            }
          }
          if ((long) Utf8Scan.LONG.get(b, s + length - 8)
              != (long) Utf8Scan.LONG.get(bytes, at + length - 8)) {
            return false;
          }
        }
        at += length;
      }
      return true;
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
    int length = to - from;
    if (length >= 8 || buf.length - from >= 8) {
      long word = Long.reverseBytes((long) Utf8Scan.LONG.get(buf, from));
      return length >= 8 ? word : word & -1L << (64 - 8 * length); // length is at least 1
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

  /**
   * Reads a key (a string) at {@code p} as {@link #readString} and returns its first eight
   * encoded bytes, as {@link #prefixOf} gives them.
   */
  private long readKey() {
    byte[] b = in;
    int i = p + 1;
    int scanFrom = i;
    if (end - i >= 8) {
      long word = (long) Utf8Scan.LONG.get(b, i);
      long flags = Utf8Scan.special(word);
      int n = Long.numberOfTrailingZeros(flags) >>> 3; // 8 if none
      if (flags != 0 && b[i + n] == '"') {
        int header = 0x60 | n;
        writeShort(header, word, i + n + 1);
        // from the word itself: reading back what was just written would stall the store
        return ((long) header << 56 | Long.reverseBytes(word) >>> 8) & -1L << (56 - 8 * n);
      }
      scanFrom = i + n;
    }
    int from = pos;
    readLongerString(scanFrom);
    return prefixOf(from, pos);
  }

  /** Reads a string at {@code p} (its opening quote) and writes it as a text item. */
  private void readString() {
    byte[] b = in;
    int i = p + 1;
    int scanFrom = i;
    if (end - i >= 8) {
      // Shorter than eight bytes and plain (most keys): one word in, one word out.
      long word = (long) Utf8Scan.LONG.get(b, i);
      long flags = Utf8Scan.special(word);
      int n = Long.numberOfTrailingZeros(flags) >>> 3; // 8 if none
      if (flags != 0 && b[i + n] == '"') {
        writeShort(0x60 | n, word, i + n + 1);
        return;
      }
      scanFrom = i + n;
    }
    readLongerString(scanFrom);
  }

  /**
   * Writes a text item of fewer than eight bytes: {@code header}, then as many of the bytes of
   * {@code word} (first lowest) as it says; the input goes on at {@code next}.
   */
  private void writeShort(int header, long word, int next) {
    ensure(9);
    buf[pos] = (byte) header;
    Utf8Scan.LONG.set(buf, pos + 1, word);
    pos += 1 + (header & 0x1f);
    p = next;
  }

  /**
   * Reads a string at {@code p} (its opening quote), whose bytes before {@code scanFrom} are
   * known to be plain.
   */
  private void readLongerString(int scanFrom) {
    byte[] b = in;
    int i = p + 1;
    int run = Utf8Scan.plainJsonRun(b, scanFrom, end);
    if (run < end && b[run] == '"') {
      // Plain all through: the length is known before writing, so the header is too.
      int length = run - i;
      ensure(9 + length);
      int size = CborEncoder.putHeader(buf, pos, 3, length);
      System.arraycopy(b, i, buf, pos + size, length);
      pos += size + length;
      p = run + 1;
      return;
    }
    readEscapedString(run);
  }

  /**
   * Reads a string at {@code p} (its opening quote) that holds an escape or a multi-byte sequence
   * (or never ends), whose first such byte is at {@code firstRun}.
   */
  private void readEscapedString(int firstRun) {
    int open = p;
    p++;
    // Room for the longest header and the content: never more bytes than the input has left.
    ensure(9 + (end - p));
    int header = pos;
    byte[] b = in;
    byte[] out = buf;
    int o = header + 1;
    int i = p;
    int run = firstRun;
    while (true) {
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
        do { // a run of multi-byte sequences (a word in most scripts) without a rescan
          int n = Utf8Scan.sequence(b, i, end);
          if (n < 0) {
            throw invalidAt(i, "invalid UTF-8 in a string");
          }
          for (int k = 0; k < n; k++) {
            out[o + k] = b[i + k];
          }
          o += n;
          i += n;
        } while (i < end && b[i] < 0);
      } else {
        throw invalidAt(i, "a control character (U+" + String.format("%04X", c)
            + ") in a string must be escaped");
      }
      run = Utf8Scan.plainJsonRun(b, i, end);
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
      String text = new String(b, s, i - s, StandardCharsets.ISO_8859_1);
      double d = Double.parseDouble(text);
      if (Double.isInfinite(d)) {
        // JSON has no infinity: a number that overflows a double is refused, not made Infinity.
        throw invalidAt(s, "the number " + abbreviate(text) + " is not a finite 64-bit float "
            + "(a number with a fraction or an exponent must be; an integer may be any size)");
      }
      pos += CborEncoder.putDouble(buf, pos, d);
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
      byte[] larger = CborEncoder.grown(buf, pos, more);
      if (larger == null) {
        throw invalid(CborEncoder.tooLarge());
      }
      buf = larger;
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
