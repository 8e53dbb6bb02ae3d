package io.replikon.peer;

import io.replikon.value.Hash;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values an engine stored last (commit values and chunks), up to a budget of bytes, oldest
 * dropped first: a value is usually sent to subscribers right after it was stored, and serving it
 * from here spares reading back (and copying) what was just written.
 *
 * <p>Holds references to the stored arrays, which nobody changes. Not thread-safe: the engine's
 * thread only.
 */
final class RecentValues {
  private final long budget;
  private final LinkedHashMap<Hash, byte[]> values = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;

  /** Keeps values up to {@code budget} bytes in all. */
  RecentValues(long budget) {
    this.budget = budget;
  }

  /** Remembers every value of {@code stored}; a value larger than the budget is not kept. */
  void putAll(Map<Hash, byte[]> stored) {
    stored.forEach(this::put);
  }

  void put(Hash hash, byte[] value) {
    if (value.length > budget) {
      return;
    }
    byte[] old = values.put(hash, value);
    bytes += value.length - (old == null ? 0 : old.length);
    Iterator<byte[]> oldest = values.values().iterator();
    while (bytes > budget) {
      bytes -= oldest.next().length;
      oldest.remove();
    }
  }

  /** Returns the value, or null if it is not kept. */
  byte[] get(Hash hash) {
    return values.get(hash);
  }

  /** Returns the bytes held. */
  long bytes() {
    return bytes;
  }

  /** Returns the number of values held. */
  int size() {
    return values.size();
  }
}
