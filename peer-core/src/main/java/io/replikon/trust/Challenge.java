package io.replikon.trust;

import java.security.SecureRandom;

/**
 * The 32 random bytes a peer that guards its reads sends in its {@code hello}: the other side
 * proves a key by signing them together with both peer ids, so a proof is good for one connection
 * only.
 *
 * <p>Immutable and thread-safe; equal when the bytes are.
 */
public final class Challenge extends FixedBytes {
  /** The number of bytes in a challenge. */
  public static final int BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private Challenge(byte[] bytes) {
    super(bytes, BYTES, "challenge");
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
    return new Challenge(bytes);
  }
}
