package io.replikon.value;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.replikon.error.ReplikonException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;

/**
 * Writes a Jackson tree as deterministically encoded CBOR (RFC 8949 §4.2.1) into a growable byte
 * array.
 *
 * <p>Design note. Jackson's {@code CBORGenerator} is not used: it writes indefinite-length maps,
 * keeps the tree's key order, never writes float16, and goes through a generic token API and an
 * output stream. Canonical form needs the length of every container and string before its content,
 * keys sorted by their encoded bytes, and the shortest float, all of which are simple when writing
 * bytes straight into one array, and that also avoids a copy and per-token dispatch.
 *
 * <ul>
 *   <li>Key order. Deterministic order compares encoded keys (header and UTF-8) bytewise. Each
 *       key is encoded once into an {@link EncodedKey} that also holds its first eight bytes as a
 *       number, so almost every comparison is one unsigned long comparison. Two small caches per
 *       encoder (open addressing, four probes, replace on overflow) exploit that values of one
 *       kind share their keys and key order: encoded keys (up to 64 chars), so writing a key is
 *       two eight-byte stores (keys of up to 16 bytes) or an array copy, and for key sequences
 *       seen before (up to 64 keys, checked by identity of the cached keys) the order to write
 *       them in, so a repeated map shape is not sorted again. Otherwise the entries are sorted
 *       as indexes on a reusable stack, by insertion sort (maps are small) or, above {@link
 *       #INSERTION_SORT_MAX} keys, by {@code Arrays.sort}. An entry's slots on the stack are
 *       cleared as it is written, so that an idle encoder holds no tree.
 *   <li>Strings are written in one pass: the header is reserved for the char count (the UTF-8
 *       length if the string is ASCII) and the bytes are moved if the UTF-8 length needs a longer
 *       header. Unpaired surrogates cannot be encoded as UTF-8 and are rejected rather than
 *       replaced, so two different strings never hash alike.
 *   <li>Floats are written as float16, float32 or float64, whichever is shortest and exact; NaN is
 *       always {@code f97e00}. Integers of any Jackson node type are written by value: in major
 *       type 0/1 if they fit, else as tag 2/3 bignums.
 *   <li>Nesting is limited to {@link CborDecoder#MAX_DEPTH}, which also stops a tree that contains
 *       itself.
 * </ul>
 *
 * <p>Not thread-safe: one instance is used by one thread at a time ({@link CanonicalCbor} keeps one
 * per thread).
 */
final class CborEncoder {
  /** Maps with at most this many keys are sorted without allocating. */
  static final int INSERTION_SORT_MAX = 48;
  /**
   * A buffer that grew beyond this is not kept for the next value. Large enough for a whole
   * protocol message (16 MiB), so the threads that encode messages do not regrow it every time.
   */
  static final int RETAINED_BUFFER_MAX = (16 << 20) + (64 << 10);
  /** The largest array an encoding may fill. */
  static final int MAX_ARRAY = Integer.MAX_VALUE - 16;
  private static final int KEY_CACHE_SIZE = 2048;
  private static final int CACHE_PROBES = 4;
  private static final int KEY_CACHE_MAX_CHARS = 64;
  private static final int SHAPE_CACHE_SIZE = 512;
  private static final int SHAPE_MAX_KEYS = 64;
  private static final VarHandle BIG_ENDIAN_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private byte[] buf = new byte[4096];
  private int pos;

  // Stacks of the entries of the maps being written, one region per nesting level.
  private EncodedKey[] keys = new EncodedKey[256];
  private JsonNode[] values = new JsonNode[256];
  private int[] order = new int[256];
  private int top;
  // Cache of the key sequences of recently seen maps and their canonical order.
  private final Shape[] shapeCache = new Shape[SHAPE_CACHE_SIZE];
  // Cache of recently seen map keys: values of one kind share their keys.
  private final EncodedKey[] keyCache = new EncodedKey[KEY_CACHE_SIZE];
  private int highWater;

  /** Set while a value is being encoded, so that a re-entrant call takes a fresh encoder. */
  boolean busy;

  /** Clears the output; keeps the buffer unless it has grown large. */
  void reset() {
    pos = 0;
    top = 0;
    if (buf.length > RETAINED_BUFFER_MAX) {
      buf = new byte[4096];
    }
  }

  /**
   * Drops references to the tree after a failed encoding (a successful one clears them as it
   * goes), so an idle encoder does not keep a tree reachable.
   */
  void releaseReferences() {
    Arrays.fill(keys, 0, highWater, null);
    Arrays.fill(values, 0, highWater, null);
    highWater = 0;
    top = 0;
  }

  byte[] buffer() {
    return buf;
  }

  int size() {
    return pos;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  /** Appends the canonical encoding of {@code node}. */
  void write(JsonNode node) {
    write(node, 0);
  }

  private void write(JsonNode node, int depth) {
    if (node == null) {
      throw invalid("a value is a Java null, not a JSON null node");
    }
    // Exact-class checks first: cheaper than the megamorphic getNodeType() for common nodes.
    Class<?> type = node.getClass();
    if (type == TextNode.class) {
      writeText(node.textValue());
      return;
    } else if (type == ObjectNode.class) {
      writeMap(node, depth);
      return;
    } else if (type == IntNode.class || type == LongNode.class) {
      writeLong(node.longValue());
      return;
    }
    switch (node.getNodeType()) {
      case STRING:
        writeText(node.textValue());
        break;
      case OBJECT:
        writeMap(node, depth);
        break;
      case ARRAY:
        writeArray(node, depth);
        break;
      case NUMBER:
        writeNumber(node);
        break;
      case BOOLEAN:
        ensure(1);
        buf[pos++] = node.booleanValue() ? (byte) 0xf5 : (byte) 0xf4;
        break;
      case NULL:
        ensure(1);
        buf[pos++] = (byte) 0xf6;
        break;
      case BINARY:
        writeBytes(binaryValue(node));
        break;
      default:
        throw invalid(
            "a " + node.getNodeType() + " node (" + node.getClass().getSimpleName()
                + ") is not a value: only null, booleans, numbers, strings, binary, arrays and "
                + "objects are");
    }
  }

  private static byte[] binaryValue(JsonNode node) {
    try {
      return node.binaryValue();
    } catch (java.io.IOException e) {
      throw new ReplikonException(
          ReplikonException.Reason.INVALID_INPUT, "cannot read a binary node's bytes", e);
    }
  }

  private void writeArray(JsonNode array, int depth) {
    checkDepth(depth);
    int n = array.size();
    writeHeader(4, n);
    for (int i = 0; i < n; i++) {
      write(array.get(i), depth + 1);
    }
  }

  private void writeMap(JsonNode map, int depth) {
    checkDepth(depth);
    int n = map.size();
    writeHeader(5, n);
    if (n == 0) {
      return;
    }
    int base = top;
    reserveEntries(n);
    EncodedKey[] ks = keys;
    JsonNode[] vs = values;
    int i = base;
    int shapeHash = n;
    boolean allCacheable = n <= SHAPE_MAX_KEYS;
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      EncodedKey k = encodedKey(e.getKey());
      ks[i] = k;
      vs[i] = e.getValue();
      shapeHash = shapeHash * 31 + k.hash;
      allCacheable &= k.cacheable;
      i++;
    }
    if (i != base + n) {
      throw new IllegalStateException("an object node changed while being encoded");
    }
    top = base + n;

    // The order to write the entries in: from the shape cache, or sorted now.
    int[] perm;
    int permOffset;
    Shape shape = null;
    int home = (shapeHash ^ shapeHash >>> 16) & (SHAPE_CACHE_SIZE - 1);
    int free = -1;
    for (int probe = 0; allCacheable && probe < CACHE_PROBES; probe++) {
      int slot = (home + probe) & (SHAPE_CACHE_SIZE - 1);
      Shape candidate = shapeCache[slot];
      if (candidate == null) {
        free = slot;
        break;
      }
      if (candidate.hash == shapeHash && candidate.matches(ks, base, n)) {
        shape = candidate;
        break;
      }
    }
    if (shape != null) {
      perm = shape.order;
      permOffset = 0;
    } else {
      sortIndexes(base, n);
      perm = order;
      permOffset = base;
      if (allCacheable) {
        shapeCache[free >= 0 ? free : home] = new Shape(shapeHash,
            Arrays.copyOfRange(ks, base, base + n), Arrays.copyOfRange(order, base, base + n));
      }
    }
    for (int k = 0; k < n; k++) {
      int at = base + perm[permOffset + k];
      EncodedKey key = ks[at];
      JsonNode value = vs[at];
      ks[at] = null; // so that an idle encoder holds no tree
      vs[at] = null;
      writeKey(key);
      write(value, depth + 1);
      ks = keys; // the stacks may have grown
      vs = values;
    }
    top = base;
  }

  /** Writes an encoded key: keys of up to 16 bytes as two eight-byte stores. */
  private void writeKey(EncodedKey key) {
    byte[] bytes = key.bytes;
    int len = bytes.length;
    if (len <= 16) {
      ensure(16);
      byte[] b = buf;
      int p = pos;
      BIG_ENDIAN_LONG.set(b, p, key.prefix);
      BIG_ENDIAN_LONG.set(b, p + 8, key.second);
      pos = p + len;
    } else {
      ensure(len);
      System.arraycopy(bytes, 0, buf, pos, len);
      pos += len;
    }
  }

  private void reserveEntries(int n) {
    int need = top + n;
    if (need > keys.length) {
      int cap = Math.max(need, keys.length * 2);
      keys = Arrays.copyOf(keys, cap);
      values = Arrays.copyOf(values, cap);
      order = Arrays.copyOf(order, cap);
    }
    highWater = Math.max(highWater, need);
  }

  /** Puts into {@code order[base..base+n)} the indexes 0..n-1 of the keys in canonical order. */
  private void sortIndexes(int base, int n) {
    EncodedKey[] ks = keys;
    int[] ord = order;
    if (n > INSERTION_SORT_MAX) {
      Integer[] boxed = new Integer[n];
      for (int i = 0; i < n; i++) {
        boxed[i] = i;
      }
      Comparator<Integer> byKey = (a, b) -> ks[base + a].compareTo(ks[base + b]);
      Arrays.sort(boxed, byKey);
      for (int i = 0; i < n; i++) {
        ord[base + i] = boxed[i];
      }
      return;
    }
    ord[base] = 0;
    for (int i = 1; i < n; i++) {
      EncodedKey k = ks[base + i];
      int j = i - 1;
      while (j >= 0 && ks[base + ord[base + j]].compareTo(k) > 0) {
        ord[base + j + 1] = ord[base + j];
        j--;
      }
      ord[base + j + 1] = i;
    }
  }

  /** The key sequence of a map seen before, and the order its entries are written in. */
  private static final class Shape {
    final int hash;
    final EncodedKey[] keys;
    final int[] order;

    Shape(int hash, EncodedKey[] keys, int[] order) {
      this.hash = hash;
      this.keys = keys;
      this.order = order;
    }

    /** Whether {@code ks[base..base+n)} are the very same key objects in the same order. */
    boolean matches(EncodedKey[] ks, int base, int n) {
      if (keys.length != n) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (keys[i] != ks[base + i]) {
          return false;
        }
      }
      return true;
    }
  }

  /** Returns the encoding of a map key, from the cache if the key was seen recently. */
  private EncodedKey encodedKey(String key) {
    int h = key.hashCode();
    int home = (h ^ h >>> 16) & (KEY_CACHE_SIZE - 1);
    int free = -1;
    for (int probe = 0; probe < CACHE_PROBES; probe++) {
      int slot = (home + probe) & (KEY_CACHE_SIZE - 1);
      EncodedKey cached = keyCache[slot];
      if (cached == null) {
        free = slot;
        break; // keys are never removed, only replaced, so the key is not further on
      }
      if (cached.key == key || cached.hash == h && cached.key.equals(key)) {
        return cached;
      }
    }
    boolean cacheable = key.length() <= KEY_CACHE_MAX_CHARS;
    EncodedKey fresh = new EncodedKey(key, cacheable);
    if (cacheable) {
      keyCache[free >= 0 ? free : home] = fresh; // when the probed slots are full, evict one
    }
    return fresh;
  }

  /**
   * A map key with its canonical encoding (text header and UTF-8), and the first eight bytes of
   * that encoding as an unsigned big-endian number, zero-padded, which decides most comparisons.
   * Zero padding cannot mislead: the header fixes the length, so two different encodings differ at
   * a byte that both have.
   */
  static final class EncodedKey implements Comparable<EncodedKey> {
    final String key;
    final byte[] bytes;
    final long prefix;
    /** Bytes 8 to 15 of the encoding in the same form, so that short keys are two stores. */
    final long second;
    final int hash;
    /** Whether this object is kept in the key cache, so maps with this key may share shapes. */
    final boolean cacheable;

    EncodedKey(String key, boolean cacheable) {
      this.key = key;
      this.hash = key.hashCode();
      this.cacheable = cacheable;
      int len = utf8Length(key);
      byte[] b = new byte[headerSize(len) + len];
      int p = putHeader(b, 0, 3, len);
      encodeUtf8(key, 0, b, p);
      this.bytes = b;
      long prefix = 0;
      for (int i = 0; i < 8; i++) {
        prefix = prefix << 8 | (i < b.length ? b[i] & 0xffL : 0);
      }
      this.prefix = prefix;
      long second = 0;
      for (int i = 8; i < 16; i++) {
        second = second << 8 | (i < b.length ? b[i] & 0xffL : 0);
      }
      this.second = second;
    }

    /** Orders keys as their canonical encodings order bytewise. */
    @Override
    public int compareTo(EncodedKey other) {
      if (prefix != other.prefix) {
        return Long.compareUnsigned(prefix, other.prefix);
      }
      return bytes.length <= 8 ? 0 : Arrays.compareUnsigned(bytes, other.bytes);
    }
  }

  /** Returns the UTF-8 length of {@code s}; rejects unpaired surrogates. */
  static int utf8Length(String s) {
    int n = s.length();
    long len = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          len += 1;
        } else if (Character.isSurrogate(c)) {
          if (Character.isHighSurrogate(c) && i + 1 < n
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            len += 2; // two chars, four bytes
            i++;
          } else {
            throw unpairedSurrogate(s, i);
          }
        } else {
          len += 2;
        }
      }
    }
    if (len > MAX_ARRAY) {
      throw invalid("a string of " + len + " UTF-8 bytes is too long to encode");
    }
    return (int) len;
  }

  /** Writes a text string whose UTF-8 length is known. */
  private void writeText(String s, int utf8Length) {
    writeHeader(3, utf8Length);
    ensure(utf8Length);
    int n = s.length();
    if (n == utf8Length) {
      byte[] b = buf;
      int p = pos;
      for (int i = 0; i < n; i++) {
        b[p + i] = (byte) s.charAt(i);
      }
      pos = p + n;
    } else {
      pos = encodeUtf8(s, 0, buf, pos);
    }
  }

  /** Writes a text string in one pass, moving the bytes if the header guess was short. */
  private void writeText(String s) {
    int n = s.length();
    int guessHeader = headerSize(n);
    if ((long) n * 3 + 9 > MAX_ARRAY) {
      writeText(s, utf8Length(s));
      return;
    }
    ensure(9 + n * 3); // room for the longest header and three bytes per char
    byte[] b = buf;
    int start = pos + guessHeader;
    int i = 0;
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      b[start + i] = (byte) c;
    }
    int end = i == n ? start + n : encodeUtf8(s, i, b, start + i);
    int len = end - start;
    int header = headerSize(len);
    if (header != guessHeader) {
      System.arraycopy(b, start, b, pos + header, len);
    }
    putHeader(b, pos, 3, len);
    pos += header + len;
  }

  /** Encodes {@code s} from char {@code i} into {@code b} at {@code p}, which has room. */
  private static int encodeUtf8(String s, int i, byte[] b, int p) {
    int n = s.length();
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        b[p++] = (byte) c;
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | c >> 6);
        b[p++] = (byte) (0x80 | c & 0x3f);
      } else if (!Character.isSurrogate(c)) {
        b[p++] = (byte) (0xe0 | c >> 12);
        b[p++] = (byte) (0x80 | c >> 6 & 0x3f);
        b[p++] = (byte) (0x80 | c & 0x3f);
      } else {
        char low;
        if (!Character.isHighSurrogate(c) || i + 1 >= n
            || !Character.isLowSurrogate(low = s.charAt(i + 1))) {
          throw unpairedSurrogate(s, i);
        }
        int cp = Character.toCodePoint(c, low);
        i++;
        b[p++] = (byte) (0xf0 | cp >> 18);
        b[p++] = (byte) (0x80 | cp >> 12 & 0x3f);
        b[p++] = (byte) (0x80 | cp >> 6 & 0x3f);
        b[p++] = (byte) (0x80 | cp & 0x3f);
      }
    }
    return p;
  }

  private void writeBytes(byte[] bytes) {
    writeHeader(2, bytes.length);
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  private void writeNumber(JsonNode node) {
    switch (node.numberType()) {
      case INT:
      case LONG:
        writeLong(node.longValue());
        break;
      case BIG_INTEGER:
        writeBigInteger(node.bigIntegerValue());
        break;
      case FLOAT:
        writeDouble(node.floatValue());
        break;
      case DOUBLE:
        writeDouble(node.doubleValue());
        break;
      case BIG_DECIMAL:
        writeDouble(exactDouble(node.decimalValue()));
        break;
      default:
        throw invalid("unsupported number type " + node.numberType());
    }
  }

  private void writeLong(long v) {
    if (v >= 0) {
      writeHeader(0, v);
    } else {
      writeHeader(1, ~v); // -1 - v
    }
  }

  private void writeBigInteger(BigInteger v) {
    byte[] encoded = encodeInteger(v);
    ensure(encoded.length);
    System.arraycopy(encoded, 0, buf, pos, encoded.length);
    pos += encoded.length;
  }

  /**
   * Returns the canonical encoding of an integer of any size: major type 0 or 1 if it fits in 64
   * bits, else a tag 2 or 3 bignum.
   */
  static byte[] encodeInteger(BigInteger v) {
    BigInteger magnitude = v.signum() >= 0 ? v : v.not(); // -1 - v for negatives
    int major = v.signum() >= 0 ? 0 : 1;
    if (magnitude.bitLength() <= 64) {
      byte[] b = new byte[9];
      return Arrays.copyOf(b, putHeader(b, 0, major, magnitude.longValue()));
    }
    byte[] bytes = magnitude.toByteArray(); // two's complement: may have one leading zero byte
    int skip = bytes[0] == 0 ? 1 : 0;
    int length = bytes.length - skip;
    byte[] b = new byte[18 + length];
    int p = putHeader(b, 0, 6, 2 + major);
    p += putHeader(b, p, 2, length);
    System.arraycopy(bytes, skip, b, p, length);
    return Arrays.copyOf(b, p + length);
  }

  /** Returns the double equal to {@code d}, or rejects it if there is none. */
  static double exactDouble(BigDecimal d) {
    double v = d.doubleValue();
    if (Double.isInfinite(v) || new BigDecimal(v).compareTo(d) != 0) {
      throw invalid(
          "the decimal " + d + " has no exact binary floating point form; values hold doubles");
    }
    return v;
  }

  void writeDouble(double d) {
    ensure(9);
    pos += putDouble(buf, pos, d);
  }

  /**
   * Puts {@code d} into {@code b} at {@code p} (room for nine bytes) as the shortest exact float
   * and returns its size.
   */
  static int putDouble(byte[] b, int p, double d) {
    if (d != d) {
      b[p] = (byte) 0xf9;
      b[p + 1] = 0x7e;
      b[p + 2] = 0;
      return 3;
    }
    float f = (float) d;
    if (f == d) { // also true for infinities, and -0.0 keeps its sign through the cast
      int half = halfBits(f);
      if (half >= 0) {
        b[p] = (byte) 0xf9;
        b[p + 1] = (byte) (half >> 8);
        b[p + 2] = (byte) half;
        return 3;
      }
      b[p] = (byte) 0xfa;
      putInt(b, p + 1, Float.floatToRawIntBits(f));
      return 5;
    }
    long bits = Double.doubleToRawLongBits(d);
    b[p] = (byte) 0xfb;
    putInt(b, p + 1, (int) (bits >>> 32));
    putInt(b, p + 5, (int) bits);
    return 9;
  }

  /** Returns the float16 bits equal to {@code f} (not NaN), or -1 if float16 cannot hold it. */
  static int halfBits(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = bits >>> 16 & 0x8000;
    int exp = bits >>> 23 & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      return sign | 0x7c00; // infinity (NaN is handled by the caller)
    }
    if (exp == 0) {
      return mant == 0 ? sign : -1; // zero; float32 subnormals are far below float16's range
    }
    int e = exp - 127;
    if (e >= -14 && e <= 15) { // float16 normal
      return (mant & 0x1fff) == 0 ? sign | (e + 15) << 10 | mant >> 13 : -1;
    }
    if (e >= -24 && e < -14) { // float16 subnormal: value = m * 2^-24
      int full = mant | 0x800000;
      int shift = -(e + 1);
      return (full & ((1 << shift) - 1)) == 0 ? sign | full >> shift : -1;
    }
    return -1;
  }

  private static void putInt(byte[] b, int p, int v) {
    b[p] = (byte) (v >>> 24);
    b[p + 1] = (byte) (v >>> 16);
    b[p + 2] = (byte) (v >>> 8);
    b[p + 3] = (byte) v;
  }

  /** Writes a header with the shortest argument; {@code value} is unsigned. */
  private void writeHeader(int major, long value) {
    ensure(9);
    pos += putHeader(buf, pos, major, value);
  }

  /** Puts a header into {@code b} at {@code p} and returns its size. */
  static int putHeader(byte[] b, int p, int major, long value) {
    int mt = major << 5;
    if (value >= 0 && value < 24) {
      b[p] = (byte) (mt | (int) value);
      return 1;
    } else if (value >= 0 && value < 0x100) {
      b[p] = (byte) (mt | 24);
      b[p + 1] = (byte) value;
      return 2;
    } else if (value >= 0 && value < 0x10000) {
      b[p] = (byte) (mt | 25);
      b[p + 1] = (byte) (value >>> 8);
      b[p + 2] = (byte) value;
      return 3;
    } else if (value >= 0 && value < 0x100000000L) {
      b[p] = (byte) (mt | 26);
      putInt(b, p + 1, (int) value);
      return 5;
    } else {
      b[p] = (byte) (mt | 27);
      putInt(b, p + 1, (int) (value >>> 32));
      putInt(b, p + 5, (int) value);
      return 9;
    }
  }

  static int headerSize(int length) {
    return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  }

  private void ensure(int more) {
    if (buf.length - pos < more) {
      byte[] larger = grown(buf, pos, more);
      if (larger == null) {
        throw invalid(tooLarge());
      }
      buf = larger;
    }
  }

  /**
   * Returns a copy of {@code buf} with room for {@code more} bytes after {@code pos}, at least
   * twice as large, or null if that would exceed {@link #MAX_ARRAY}. For the writers of this
   * package, which grow their output the same way.
   */
  static byte[] grown(byte[] buf, int pos, int more) {
    long need = (long) pos + more;
    if (need > MAX_ARRAY) {
      return null;
    }
    return Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(need, 2L * buf.length)));
  }

  /** What a writer that cannot grow its output says. */
  static String tooLarge() {
    return "the value's encoding would exceed " + MAX_ARRAY + " bytes";
  }

  private static void checkDepth(int depth) {
    if (depth >= CborDecoder.MAX_DEPTH) {
      throw invalid(
          "the value nests deeper than " + CborDecoder.MAX_DEPTH
              + " arrays and objects (or contains itself)");
    }
  }

  private static ReplikonException unpairedSurrogate(String s, int index) {
    return invalid(
        "a string has an unpaired surrogate U+" + Integer.toHexString(s.charAt(index))
            + " at char " + index + ": it has no UTF-8 form");
  }

  private static ReplikonException invalid(String message) {
    return new ReplikonException(ReplikonException.Reason.INVALID_INPUT, message);
  }
}
