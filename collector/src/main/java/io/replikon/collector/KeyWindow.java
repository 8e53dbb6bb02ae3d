package io.replikon.collector;

import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The newest idempotency keys journaled, at most {@code capacity}, as 64-bit hashes of the keys
 * with the event count of their submission, a fingerprint of its events ({@link #fingerprint}: a
 * key repeated with other events is a conflict, not a repeat) and the seq of its first event (so a
 * journal repair can forget the keys of the records it drops): an open-addressing table (linear
 * probing, deletion by backward shift) plus a ring of the hashes in arrival order, so the oldest
 * is forgotten first. About 56 bytes a key; the arrays are allocated on the first key.
 *
 * <p>Not thread-safe: the collector guards it.
 */
final class KeyWindow {
  private final int capacity;
  private long[] table;
  private int[] counts;
  private long[] prints;
  private long[] ring;
  private long[] ringSeqs;
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

  /**
   * Returns the fingerprint of a submission's events: the first 64 bits of the SHA-256 of each
   * encoded event with its length before it; never 0, which means "unknown" (keys journaled before
   * fingerprints were kept, which match any events).
   */
  static long fingerprint(List<byte[]> events) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] length = new byte[4];
    for (byte[] e : events) {
      length[0] = (byte) (e.length >>> 24);
      length[1] = (byte) (e.length >>> 16);
      length[2] = (byte) (e.length >>> 8);
      length[3] = (byte) e.length;
      sha.update(length);
      sha.update(e);
    }
    long f = ByteBuffer.wrap(sha.digest()).getLong();
    return f == 0 ? 1 : f;
  }

  /** Returns the fingerprint remembered for {@code hash}: 0 if unknown or not remembered. */
  long fingerprintOf(long hash) {
    int i = find(hash);
    return i < 0 ? 0 : prints[i];
  }

  /** What {@link #forEachOldestFirst} hands out for each key. */
  interface KeyVisitor {
    void visit(long hash, int count, long fingerprint, long firstSeq);
  }

  /** Hands every remembered key to {@code visitor}, oldest first. */
  void forEachOldestFirst(KeyVisitor visitor) {
    for (int k = 0; k < size; k++) {
      int at = (ringStart + k) % capacity;
      int i = find(ring[at]);
      visitor.visit(ring[at], counts[i], prints[i], ringSeqs[at]);
    }
  }

  private int find(long hash) {
    if (table == null) {
      return -1;
    }
    for (int i = slot(hash); table[i] != 0; i = (i + 1) & mask) {
      if (table[i] == hash) {
        return i;
      }
    }
    return -1;
  }

  /** Returns the count remembered for {@code hash}, or -1. */
  int get(long hash) {
    int i = find(hash);
    return i < 0 ? -1 : counts[i];
  }

  /** Remembers {@code hash} with no fingerprint and no seq (both unknown). */
  void put(long hash, int count) {
    put(hash, count, 0, 0);
  }

  /**
   * Remembers {@code hash}, forgetting the oldest key when full. A known hash is left as is.
   *
   * @param fingerprint see {@link #fingerprint}; 0 if unknown
   * @param firstSeq the seq of the submission's first event; 0 if unknown
   */
  void put(long hash, int count, long fingerprint, long firstSeq) {
    if (hash == 0) {
      throw new IllegalArgumentException("hash 0 means no key");
    }
    if (table == null) {
      int slots = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
      table = new long[slots];
      counts = new int[slots];
      prints = new long[slots];
      ring = new long[capacity];
      ringSeqs = new long[capacity];
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
    prints[i] = fingerprint;
    ring[(ringStart + size) % capacity] = hash;
    ringSeqs[(ringStart + size) % capacity] = firstSeq;
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
        prints[i] = prints[j];
        i = j;
      }
    }
    table[i] = 0;
    counts[i] = 0;
    prints[i] = 0;
  }

  @Override
  public String toString() {
    return "KeyWindow[" + size + " of " + capacity + " keys]";
  }
}
