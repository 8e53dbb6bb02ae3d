package io.replikon.trust;

/**
 * An Ed25519 signature: 64 bytes. It travels beside what it signs (a commit's entry in a
 * {@code publish}, a proof in an {@code auth}), never inside a hashed value.
 *
 * <p>Immutable and thread-safe; equal when the bytes are.
 */
public final class Signature extends FixedBytes {
  /** The number of bytes in a signature. */
  public static final int BYTES = 64;

  private Signature(byte[] bytes) {
    super(bytes, BYTES, "signature");
  }

  /**
   * Returns the signature whose 64 bytes are given (copied).
   *
   * @throws IllegalArgumentException if {@code bytes} is not 64 bytes long
   */
  public static Signature of(byte[] bytes) {
    return new Signature(bytes);
  }
}
