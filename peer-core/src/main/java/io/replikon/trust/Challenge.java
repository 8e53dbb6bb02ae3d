package io.replikon.trust;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The 32 random bytes a peer that guards its reads sends in its {@code hello}: the other side
 * proves a key by signing them together with both peer ids, so a proof is good for one connection
 * only.
 *
 * <p>Immutable and thread-safe; equal when the bytes are.
 */
public final class Challenge {
  /** The number of bytes in a challenge. */
  public static final int BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] bytes;

  private Challenge(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Returns a new challenge from the system's strong random source. Thread-safe. */
  public static Challenge random() {
    byte[] bytes = new byte[BYTES];
    RANDOM.nextBytes(bytes);
    return new Challenge(bytes);
  }

  /**
   * Returns the challenge of the 32 bytes given (copied).
   *
   * @throws IllegalArgumentException if there are not 32
   */
  public static Challenge of(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("a challenge has 32 bytes, got " + bytes.length);
    }
    return new Challenge(bytes.clone());
  }

  /** Returns a copy of the 32 bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  byte[] unsafeBytes() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Challenge c && Arrays.equals(bytes, c.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes, 0, 6);
  }
}
