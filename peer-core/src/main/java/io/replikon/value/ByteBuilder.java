package io.replikon.value;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A growable byte array to write into, without the locking of {@code ByteArrayOutputStream} and
 * with direct access to its array: what {@link CborJson} writes JSON text into, reused from one
 * use to the next.
 *
 * <p>Not thread-safe.
 */
public final class ByteBuilder {
  private static final int MAX = Integer.MAX_VALUE - 16;

  private byte[] buf;
  private int size;

  /** Creates a builder with room for {@code capacity} bytes before it grows. */
  public ByteBuilder(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity < 0: " + capacity);
    }
    this.buf = new byte[capacity];
  }

  /** Returns how many bytes were written since the last {@link #clear()}. */
  public int size() {
    return size;
  }

  /**
   * Returns the array the bytes are in: {@code [0, size())} is what was written. Valid until the
   * next write, which may replace it.
   */
  public byte[] array() {
    return buf;
  }

  /** Returns the bytes written as a buffer over the array (not a copy). */
  public ByteBuffer asByteBuffer() {
    return ByteBuffer.wrap(buf, 0, size);
  }

  /** Returns a copy of the bytes written. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  /** Forgets what was written, keeping the array. */
  public void clear() {
    size = 0;
  }

  /** Forgets what was written and drops the array if it grew above {@code capacity}. */
  public void clear(int capacity) {
    size = 0;
    if (buf.length > capacity) {
      buf = new byte[capacity];
    }
  }

  /** Appends one byte. */
  public void write(int b) {
    if (size == buf.length) {
      grow(1);
    }
    buf[size++] = (byte) b;
  }

  /** Appends {@code length} bytes of {@code b} from {@code offset}. */
  public void write(byte[] b, int offset, int length) {
    ensure(length);
    System.arraycopy(b, offset, buf, size, length);
    size += length;
  }

  /** Appends all of {@code b}. */
  public void write(byte[] b) {
    write(b, 0, b.length);
  }

  /** Appends the characters of {@code s}, which must all be below U+0080, one byte each. */
  public void writeAscii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[size + i] = (byte) s.charAt(i);
    }
    size += n;
  }

  /** Appends {@code v} in decimal. */
  public void writeDecimal(long v) {
    if (v == Long.MIN_VALUE) {
      writeAscii("-9223372036854775808");
      return;
    }
    ensure(20);
    if (v < 0) {
      buf[size++] = '-';
      v = -v;
    }
    int digits = 1;
    while (digits < 19 && v >= POWERS[digits]) {
      digits++;
    }
    int at = size + digits;
    size = at;
    while (v >= 100) {
      long q = v / 100;
      int r = (int) (v - q * 100);
      buf[--at] = (byte) ('0' + r % 10);
      buf[--at] = (byte) ('0' + r / 10);
      v = q;
    }
    int r = (int) v;
    if (r >= 10) {
      buf[--at] = (byte) ('0' + r % 10);
      buf[--at] = (byte) ('0' + r / 10);
    } else {
      buf[--at] = (byte) ('0' + r);
    }
  }

  private static final long[] POWERS = new long[19];

  static {
    long p = 1;
    for (int i = 0; i < POWERS.length; i++) {
      POWERS[i] = p;
      p *= 10;
    }
  }

  /** Makes room for {@code n} more bytes. */
  public void ensure(int n) {
    if (n > buf.length - size) {
      grow(n);
    }
  }

  /** Sets the size after bytes were written into {@link #array()} directly, after ensure. */
  void setSize(int size) {
    this.size = size;
  }

  private void grow(int n) {
    long needed = (long) size + n;
    if (needed > MAX) {
      throw new OutOfMemoryError("a ByteBuilder cannot hold " + needed + " bytes");
    }
    long next = Math.max(needed, Math.max(64, (long) buf.length * 2));
    buf = Arrays.copyOf(buf, (int) Math.min(next, MAX));
  }
}
