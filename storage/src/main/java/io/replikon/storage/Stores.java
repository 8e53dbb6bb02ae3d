package io.replikon.storage;

import java.util.Objects;

/**
 * Opens stores: the one entry point of this module.
 *
 * <p>RocksDB on disk is the default; the in-memory store implements the same contract for tests and
 * transient peers and keeps nothing across a restart.
 *
 * <p>Thread-safe. {@link #open} blocks on disk I/O while it checks, locks and opens the directory;
 * it never waits for a store held by someone else but fails at once.
 */
public final class Stores {
  private Stores() {}

  /**
   * Opens (or creates) the RocksDB store described by {@code config}.
   *
   * @throws io.replikon.error.ReplikonException {@code STORE_LOCKED} if another process or store
   *     holds the directory (the message names the path and the holder), {@code NOT_A_STORE} if the
   *     directory holds something else, {@code STORE_MISSING} if there is no store and
   *     {@code createIfMissing} is false, {@code STORE_VERSION} on an unknown format version,
   *     {@code STORE_IO} if RocksDB fails to open, if the store is damaged so that writes that
   *     were synced would be lost (the message names the store and says to restore it from a
   *     backup or a replica), or if its lock file is a symbolic link
   */
  public static Store open(StoreConfig config) {
    return RocksStore.open(Objects.requireNonNull(config, "config"));
  }

  /** Returns a new, empty in-memory store. */
  public static Store inMemory() {
    return new MemoryStore();
  }
}
