package io.replikon.storage;

import java.util.Optional;
import java.util.function.BiPredicate;

/**
 * A peer's store: binary keys to binary values in a fixed set of {@link Column}s, with atomic
 * batches across columns and ordered prefix scans. Typed values go through a {@link Codec}.
 *
 * <p>Keys are compared as unsigned bytes; scans visit keys in that order.
 *
 * <p><b>Blocking.</b> Every call may block on disk I/O for a short time; call it from a thread that
 * may block, never from a network event loop.
 *
 * <p><b>Thread safety.</b> Implementations are thread-safe. A {@link #write(Batch)} is atomic and
 * isolated: a concurrent reader sees all of it or none of it.
 *
 * <p><b>Errors.</b> Backend failures throw {@link io.replikon.error.ReplikonException} with reason
 * {@code STORE_IO}; any call after {@link #close()} throws it with reason {@code STORE_CLOSED}. A
 * write that fails for lack of space has a message that begins "no space left on device" and
 * stores nothing of its batch; a value whose bytes are damaged fails its read with a message that
 * names it (see {@link Durability} for what is checked at open).
 */
public interface Store extends AutoCloseable {

  /** Returns the value under {@code key} in {@code column}, or empty if there is none. */
  Optional<byte[]> get(Column column, byte[] key);

  /** Returns the value under {@code key} decoded by {@code codec}, or empty if there is none. */
  default <T> Optional<T> get(Column column, byte[] key, Codec<T> codec) {
    return get(column, key).map(codec::decode);
  }

  /** Returns true if {@code column} holds an entry under {@code key}. */
  boolean contains(Column column, byte[] key);

  /** Writes one value; a batch of one. */
  default void put(Column column, byte[] key, byte[] value) {
    write(new Batch().put(column, key, value));
  }

  /** Writes one value encoded by {@code codec}; a batch of one. */
  default <T> void put(Column column, byte[] key, T value, Codec<T> codec) {
    put(column, key, codec.encode(value));
  }

  /** Deletes one key; a batch of one. Deleting an absent key is harmless. */
  default void delete(Column column, byte[] key) {
    write(new Batch().delete(column, key));
  }

  /**
   * Applies every operation of {@code batch} atomically, with this store's {@link #durability()}.
   * An empty batch does nothing.
   */
  void write(Batch batch);

  /**
   * Visits, in key order, the entries of {@code column} whose key starts with {@code prefix} (an
   * empty prefix visits the whole column), until {@code visitor} returns false. The arrays handed
   * to the visitor are its own to keep. The scan sees a consistent snapshot taken when it starts.
   *
   * @return the number of entries visited
   */
  long scan(Column column, byte[] prefix, BiPredicate<byte[], byte[]> visitor);

  /**
   * Makes every write that returned before this call durable against a machine crash. Cheap when
   * there is nothing to do; a no-op in {@link Durability#SYNC} mode and for in-memory stores.
   */
  void sync();

  /** Returns how this store keeps writes across a crash. */
  Durability durability();

  /** Returns a one-line description of the store for logs: backend and location. */
  String describe();

  /**
   * Closes the store and releases every native resource and lock. Idempotent. Writes that returned
   * before {@code close()} are kept as {@link #durability()} promises; in {@code BATCH} mode close
   * also syncs.
   */
  @Override
  void close();
}
