package io.replikon.trust;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An Ed25519 signature: 64 bytes. It travels beside what it signs (a commit's entry in a
 * {@code publish}, a proof in an {@code auth}), never inside a hashed value.
 *
 * <p>Immutable and thread-safe; equal when the bytes are.
 */
public final class Signature {
  /** The number of bytes in a signature. */
  public static final int BYTES = 64;

  private final byte[] bytes;

  private Signature(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * Returns the signature whose 64 bytes are given (copied).
   *
   * @throws IllegalArgumentException if {@code bytes} is not 64 bytes long
   */
  public static Signature of(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("a signature has 64 bytes, got " + bytes.length);
    }
    return new Signature(bytes.clone());
  }

  /** Returns a copy of the 64 bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** Copies the 64 bytes into {@code out} from {@code offset}. */
  public void copyTo(byte[] out, int offset) {
    System.arraycopy(bytes, 0, out, offset, BYTES);
  }

  byte[] unsafeBytes() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Signature s && Arrays.equals(bytes, s.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Returns the first 12 hex digits, as hashes are shown in logs. */
  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes, 0, 6);
  }
}
