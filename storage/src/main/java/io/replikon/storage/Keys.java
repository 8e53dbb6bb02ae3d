package io.replikon.storage;

import java.util.Arrays;

/** Byte-key arithmetic shared by the backends. Stateless and thread-safe. */
final class Keys {
  private Keys() {}

  /** Returns true if {@code key} starts with {@code prefix}. */
  static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  /**
   * Returns the smallest key greater, in unsigned order, than every key starting with
   * {@code prefix}, or null if there is none (an empty prefix, or one of 0xff bytes only).
   */
  static byte[] successor(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if (prefix[i] != (byte) 0xff) {
        byte[] next = Arrays.copyOf(prefix, i + 1);
        next[i]++;
        return next;
      }
    }
    return null;
  }
}
