package io.replikon.testkit;

import io.replikon.error.ReplikonException;
import io.replikon.storage.Batch;
import io.replikon.storage.Column;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.Stores;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;

/**
 * An in-memory store that loses what was written since the last {@link #sync()} when the machine
 * "crashes" ({@link #crash()}), as a store with batch durability may after a power loss: whole
 * batches, most recent first, never part of one. Reads see every write, synced or not, as RocksDB
 * does. A sync can be made to fail ({@code failSync}), as if the machine died during it.
 */
public final class LossyStore implements Store {
  private record Undo(Column column, byte[] key, Optional<byte[]> before) {}

  private final Store live = Stores.inMemory();
  /** The previous contents of every key written since the last sync, oldest first. */
  private final Deque<Undo> unsynced = new ArrayDeque<>();
  private BooleanSupplier failSync = () -> false;

  /** Makes {@link #sync()} fail (throw STORE_IO, keeping nothing) whenever this says so. */
  public void failSync(BooleanSupplier when) {
    this.failSync = when;
  }

  /** Returns true if nothing is written but not synced. */
  public boolean allSynced() {
    return unsynced.isEmpty();
  }

  /** Returns true if the entry is there and was there at the last sync. */
  public boolean containsDurably(Column column, byte[] key) {
    if (!live.contains(column, key)) {
      return false;
    }
    for (Undo u : unsynced) {
      if (u.column == column && java.util.Arrays.equals(u.key, key)) {
        return u.before.isPresent(); // the first write since the sync says what was there
      }
    }
    return true;
  }

  /** Loses every write since the last sync. */
  public void crash() {
    while (!unsynced.isEmpty()) {
      Undo u = unsynced.pollLast();
      if (u.before.isPresent()) {
        live.put(u.column, u.key, u.before.get());
      } else {
        live.delete(u.column, u.key);
      }
    }
  }

  @Override
  public Optional<byte[]> get(Column column, byte[] key) {
    return live.get(column, key);
  }

  @Override
  public boolean contains(Column column, byte[] key) {
    return live.contains(column, key);
  }

  @Override
  public void write(Batch batch) {
    for (Batch.Op op : batch.ops()) {
      unsynced.add(new Undo(op.column(), op.key(), live.get(op.column(), op.key())));
    }
    live.write(batch);
  }

  @Override
  public long scan(Column column, byte[] prefix, BiPredicate<byte[], byte[]> visitor) {
    return live.scan(column, prefix, visitor);
  }

  @Override
  public void sync() {
    if (failSync.getAsBoolean()) {
      throw new ReplikonException(ReplikonException.Reason.STORE_IO, "simulated: the machine"
          + " died during the sync");
    }
    unsynced.clear();
  }

  @Override
  public Durability durability() {
    return Durability.BATCH;
  }

  @Override
  public String describe() {
    return "lossy in-memory store";
  }

  @Override
  public void close() {
    live.close();
  }
}
