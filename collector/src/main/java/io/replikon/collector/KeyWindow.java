package io.replikon.collector;

import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;

/**
 * The newest idempotency keys journaled, at most {@code capacity}, as 64-bit hashes of the keys
 * with the event count of their submission: an open-addressing table (linear probing, deletion by
 * backward shift) plus a ring of the hashes in arrival order, so the oldest is forgotten first.
 * About 32 bytes a key; the arrays are allocated on the first key.
 *
 * <p>Not thread-safe: the collector guards it.
 */
final class KeyWindow {
  private final int capacity;
  private long[] table;
  private int[] counts;
  private long[] ring;
  private int ringStart;
  private int size;
  private int mask;

  KeyWindow(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity " + capacity);
    }
    this.capacity = capacity;
  }

  /** Returns the hash of a key: never 0, which means "no key" in the journal. */
  static long hash(String key) {
    long h = Hash.sha256(key.getBytes(StandardCharsets.UTF_8)).w0();
    return h == 0 ? 1 : h;
  }

  /** Returns the count remembered for {@code hash}, or -1. */
  int get(long hash) {
    if (table == null) {
      return -1;
    }
    for (int i = slot(hash); table[i] != 0; i = (i + 1) & mask) {
      if (table[i] == hash) {
        return counts[i];
      }
    }
    return -1;
  }

  /** Remembers {@code hash}, forgetting the oldest key when full. A known hash is left as is. */
  void put(long hash, int count) {
    if (hash == 0) {
      throw new IllegalArgumentException("hash 0 means no key");
    }
    if (table == null) {
      int slots = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
      table = new long[slots];
      counts = new int[slots];
      ring = new long[capacity];
      mask = slots - 1;
    }
    int i = slot(hash);
    for (; table[i] != 0; i = (i + 1) & mask) {
      if (table[i] == hash) {
        return;
      }
    }
    if (size == capacity) {
      remove(ring[ringStart]);
      ringStart = (ringStart + 1) % capacity;
      size--;
      i = slot(hash);
      while (table[i] != 0) {
        i = (i + 1) & mask;
      }
    }
    table[i] = hash;
    counts[i] = count;
    ring[(ringStart + size) % capacity] = hash;
    size++;
  }

  /** Returns how many keys it remembers. */
  int size() {
    return size;
  }

  /** Returns the remembered hashes, oldest first. */
  long[] hashesOldestFirst() {
    long[] out = new long[size];
    for (int k = 0; k < size; k++) {
      out[k] = ring[(ringStart + k) % capacity];
    }
    return out;
  }

  private int slot(long hash) {
    return (int) (hash ^ (hash >>> 32)) & mask;
  }

  private void remove(long hash) {
    int i = slot(hash);
    while (table[i] != hash) {
      i = (i + 1) & mask;
    }
    // backward-shift deletion keeps every probe chain unbroken
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (table[j] == 0) {
        break;
      }
      int home = slot(table[j]);
      boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!between) {
        table[i] = table[j];
        counts[i] = counts[j];
        i = j;
      }
    }
    table[i] = 0;
    counts[i] = 0;
  }

  @Override
  public String toString() {
    return "KeyWindow[" + size + " of " + capacity + " keys]";
  }
}
