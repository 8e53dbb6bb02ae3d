package io.replikon.storage;

/**
 * Turns values of type {@code T} into stored bytes and back. The store itself holds raw bytes;
 * callers above it supply codecs (canonical CBOR for values, fixed layouts for indexes).
 *
 * <p>Implementations are stateless and thread-safe; {@code decode(encode(v))} equals {@code v}.
 *
 * @param <T> the type of the values
 */
public interface Codec<T> {
  /** Returns the bytes that represent {@code value}. */
  byte[] encode(T value);

  /**
   * Returns the value that {@code bytes} represent.
   *
   * @throws io.replikon.error.ReplikonException with reason {@code MALFORMED_VALUE} on bytes this
   *     codec did not write
   */
  T decode(byte[] bytes);
}
