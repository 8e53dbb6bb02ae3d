package io.replikon.storage;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to open a store.
 *
 * @param directory where the store lives; created if absent, refused if it holds something that is
 *     not a replikon store
 * @param durability how writes are kept across crashes ({@link Durability#BATCH} by default)
 * @param blockCacheBytes the RocksDB block cache size, shared by all columns
 * @param createIfMissing create a new store when the directory holds none; when false a missing
 *     store is an error ({@code STORE_MISSING}), as read-only commands want
 */
public record StoreConfig(
    Path directory, Durability durability, long blockCacheBytes, boolean createIfMissing) {

  /** The default block cache: 64 MiB. */
  public static final long DEFAULT_BLOCK_CACHE_BYTES = 64L << 20;

  /** Checks the arguments. */
  public StoreConfig {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(durability, "durability");
    if (blockCacheBytes < 0) {
      throw new IllegalArgumentException("blockCacheBytes < 0: " + blockCacheBytes);
    }
  }

  /** Returns the defaults for {@code directory}: batch durability, created if missing. */
  public static StoreConfig at(Path directory) {
    return new StoreConfig(directory, Durability.BATCH, DEFAULT_BLOCK_CACHE_BYTES, true);
  }

  /** Returns a copy with {@code durability}. */
  public StoreConfig withDurability(Durability durability) {
    return new StoreConfig(directory, durability, blockCacheBytes, createIfMissing);
  }

  /** Returns a copy that creates the store when missing, or refuses to. */
  public StoreConfig withCreateIfMissing(boolean create) {
    return new StoreConfig(directory, durability, blockCacheBytes, create);
  }
}
