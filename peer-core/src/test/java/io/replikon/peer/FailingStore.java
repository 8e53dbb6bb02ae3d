package io.replikon.peer;

import io.replikon.error.ReplikonException;
import io.replikon.storage.Batch;
import io.replikon.storage.Column;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.Stores;
import io.replikon.value.Hash;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * An in-memory store whose writes can be made to fail as on a full disk, and whose reads of
 * chosen values fail as on a damaged chunk file, with the messages the real storage gives.
 */
final class FailingStore implements Store {
  private final Store live = Stores.inMemory();
  private boolean diskFull;
  private final Set<Hash> damaged = new HashSet<>();
  int failedWrites;

  /** Makes every write fail (or work again). */
  void diskFull(boolean full) {
    this.diskFull = full;
  }

  /** Makes reads of a value fail, as if the file that holds it were damaged. */
  void damage(Hash value) {
    damaged.add(value);
  }

  @Override
  public Optional<byte[]> get(Column column, byte[] key) {
    if (column == Column.CHUNKS || column == Column.COMMITS) {
      for (Hash h : damaged) {
        if (java.util.Arrays.equals(h.toBytes(), key)) {
          throw new ReplikonException(ReplikonException.Reason.STORE_IO, "chunk file"
              + " /var/lib/replikon/chunks/000003.seg is damaged at offset 4096: a record of "
              + h.hex() + " does not check");
        }
      }
    }
    return live.get(column, key);
  }

  @Override
  public boolean contains(Column column, byte[] key) {
    return live.contains(column, key);
  }

  @Override
  public void write(Batch batch) {
    if (diskFull) {
      failedWrites++;
      throw new ReplikonException(ReplikonException.Reason.STORE_IO, "store /var/lib/replikon:"
          + " cannot write: IO error: No space left on device: While appending to file:"
          + " /var/lib/replikon/000012.log");
    }
    live.write(batch);
  }

  @Override
  public long scan(Column column, byte[] prefix, BiPredicate<byte[], byte[]> visitor) {
    return live.scan(column, prefix, visitor);
  }

  @Override
  public void sync() {}

  @Override
  public Durability durability() {
    return Durability.BATCH;
  }

  @Override
  public String describe() {
    return "failing in-memory store";
  }

  @Override
  public void close() {
    live.close();
  }
}
