package io.replikon.value;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import io.replikon.error.ReplikonException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;


/**
 * A SHA-256 content hash: 32 bytes, held as four big-endian longs so that equality, hashing and
 * ordering are cheap and a million of them fit in little memory.
 *
 * <p>Shown as 64 lowercase hex digits ({@link #hex()}), abbreviated to 12 in logs and CLI output
 * ({@link #shortHex()}), like git. The natural order is the unsigned order of the bytes, so it
 * agrees with the order of the hex strings.
 *
 * <p>Immutable and thread-safe.
 *
 * @param w0 bytes 0 to 7, big-endian
 * @param w1 bytes 8 to 15, big-endian
 * @param w2 bytes 16 to 23, big-endian
 * @param w3 bytes 24 to 31, big-endian
 */
public record Hash(long w0, long w1, long w2, long w3) implements Comparable<Hash> {
  /** The number of bytes in a hash. */
  public static final int BYTES = 32;
  /** The number of hex digits in an abbreviated hash. */
  public static final int SHORT_HEX_LENGTH = 12;

  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Hash::newDigest);

  /** Returns the SHA-256 hash of {@code bytes}. Thread-safe. */
  public static Hash sha256(byte[] bytes) {
    return sha256(bytes, 0, bytes.length);
  }

  /** Returns the SHA-256 hash of {@code length} bytes of {@code bytes} from {@code offset}. */
  public static Hash sha256(byte[] bytes, int offset, int length) {
    MessageDigest digest = SHA256.get();
    digest.update(bytes, offset, length);
    return fromBytes(digest.digest());
  }

  /**
   * Returns the hash whose 32 bytes are given.
   *
   * @throws IllegalArgumentException if {@code bytes} is not 32 bytes long
   */
  public static Hash fromBytes(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("a hash has 32 bytes, got " + bytes.length);
    }
    return fromBytes(bytes, 0);
  }

  /** Returns the hash held in the 32 bytes of {@code bytes} from {@code offset}. */
  public static Hash fromBytes(byte[] bytes, int offset) {
    if (offset < 0 || bytes.length - offset < BYTES) {
      throw new IllegalArgumentException("fewer than 32 bytes from offset " + offset);
    }
    return new Hash(
        readLong(bytes, offset),
        readLong(bytes, offset + 8),
        readLong(bytes, offset + 16),
        readLong(bytes, offset + 24));
  }

  /**
   * Parses 64 hex digits (either case).
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if {@code hex} is not 64 hex digits
   */
  public static Hash parse(String hex) {
    if (hex.length() != 2 * BYTES) {
      throw new ReplikonException(
          ReplikonException.Reason.INVALID_INPUT,
          "a hash is 64 hex digits, got " + hex.length() + " characters: '" + hex + "'");
    }
    byte[] bytes = new byte[BYTES];
    for (int i = 0; i < BYTES; i++) {
      int hi = Character.digit(hex.charAt(2 * i), 16);
      int lo = Character.digit(hex.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        throw new ReplikonException(
            ReplikonException.Reason.INVALID_INPUT, "not a hex hash: '" + hex + "'");
      }
      bytes[i] = (byte) (hi << 4 | lo);
    }
    return fromBytes(bytes);
  }

  /** Returns the value of this hash: a byte string of its 32 bytes. */
  public BinaryNode toValue() {
    return BinaryNode.valueOf(toBytes());
  }

  /**
   * Reads a hash from its value, a byte string of 32 bytes.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the value is not one
   */
  public static Hash fromValue(JsonNode value) {
    if (value == null || !value.isBinary()) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a hash is a byte string of 32 bytes");
    }
    byte[] bytes = ((BinaryNode) value).binaryValue();
    if (bytes.length != BYTES) {
      throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
          "a hash has 32 bytes, not " + bytes.length);
    }
    return fromBytes(bytes);
  }

  /** Returns a new array with the 32 bytes of this hash. */
  public byte[] toBytes() {
    byte[] out = new byte[BYTES];
    writeTo(out, 0);
    return out;
  }

  /** Writes the 32 bytes of this hash into {@code out} at {@code offset}. */
  public void writeTo(byte[] out, int offset) {
    writeLong(out, offset, w0);
    writeLong(out, offset + 8, w1);
    writeLong(out, offset + 16, w2);
    writeLong(out, offset + 24, w3);
  }

  /** Returns the 64 lowercase hex digits of this hash. */
  public String hex() {
    char[] out = new char[2 * BYTES];
    long[] words = {w0, w1, w2, w3};
    int pos = 0;
    for (long word : words) {
      for (int shift = 60; shift >= 0; shift -= 4) {
        out[pos++] = HEX[(int) (word >>> shift) & 0xf];
      }
    }
    return new String(out);
  }

  /** Returns the first 12 hex digits, as shown in logs and CLI output. */
  public String shortHex() {
    return hex().substring(0, SHORT_HEX_LENGTH);
  }

  @Override
  public int compareTo(Hash other) {
    int c = Long.compareUnsigned(w0, other.w0);
    if (c != 0) {
      return c;
    }
    c = Long.compareUnsigned(w1, other.w1);
    if (c != 0) {
      return c;
    }
    c = Long.compareUnsigned(w2, other.w2);
    return c != 0 ? c : Long.compareUnsigned(w3, other.w3);
  }

  @Override
  public int hashCode() {
    // The words are already uniformly distributed: any 32 bits of them are a good hash code.
    return (int) w0;
  }

  @Override
  public String toString() {
    return shortHex();
  }

  private static long readLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = v << 8 | (b[off + i] & 0xffL);
    }
    return v;
  }

  private static void writeLong(byte[] b, int off, long v) {
    for (int i = 7; i >= 0; i--) {
      b[off + i] = (byte) v;
      v >>>= 8;
    }
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides SHA-256", e);
    }
  }

}
