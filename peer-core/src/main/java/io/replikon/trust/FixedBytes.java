package io.replikon.trust;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A value that is a fixed number of bytes ({@link Signature}, {@link Challenge}): held as a
 * private copy, equal to a value of the same class with the same bytes, shown as its first 12 hex
 * digits as hashes are in logs. Immutable and thread-safe.
 */
abstract class FixedBytes {
  private final byte[] bytes;

  FixedBytes(byte[] bytes, int length, String what) {
    if (bytes.length != length) {
      throw new IllegalArgumentException("a " + what + " has " + length + " bytes, got "
          + bytes.length);
    }
    this.bytes = bytes.clone();
  }

  /** Returns a copy of the bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  final byte[] unsafeBytes() {
    return bytes;
  }

  @Override
  public final boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && Arrays.equals(bytes, ((FixedBytes) o).bytes);
  }

  @Override
  public final int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Returns the first 12 hex digits, as hashes are shown in logs. */
  @Override
  public final String toString() {
    return HexFormat.of().formatHex(bytes, 0, 6);
  }
}
