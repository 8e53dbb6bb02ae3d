package io.replikon.storage;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiPredicate;

/*
 * Design note. One sorted map per column, ordered by unsigned bytes like RocksDB's bytewise
 * comparator. Batches are made atomic and isolated by a read-write lock: a write applies all its
 * operations under the write lock; reads and scans hold the read lock. A scan collects the
 * matching entries under the read lock (a consistent snapshot) and calls the visitor after
 * releasing it, so a visitor may itself write or close the store without deadlock. Stored arrays
 * are private copies and never change, so the snapshot can share them; callers get copies.
 */

/**
 * The in-memory store: the {@link Store} contract without a disk. Keeps nothing across a restart.
 * Thread-safe; calls never block on I/O, only briefly on the lock while a batch is applied.
 */
final class MemoryStore implements Store {
  private final Map<Column, ConcurrentSkipListMap<byte[], byte[]>> columns =
      new EnumMap<>(Column.class);
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed; // guarded by lock

  MemoryStore() {
    for (Column column : Column.values()) {
      columns.put(column, new ConcurrentSkipListMap<>(Arrays::compareUnsigned));
    }
  }

  @Override
  public Optional<byte[]> get(Column column, byte[] key) {
    Objects.requireNonNull(key, "key");
    lock.readLock().lock();
    try {
      ensureOpen();
      byte[] value = map(column).get(key);
      return value == null ? Optional.empty() : Optional.of(value.clone());
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public boolean contains(Column column, byte[] key) {
    Objects.requireNonNull(key, "key");
    lock.readLock().lock();
    try {
      ensureOpen();
      return map(column).containsKey(key);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void write(Batch batch) {
    Objects.requireNonNull(batch, "batch");
    lock.writeLock().lock();
    try {
      ensureOpen();
      for (Batch.Op op : batch.ops()) {
        ConcurrentSkipListMap<byte[], byte[]> map = map(op.column());
        if (op.isDelete()) {
          map.remove(op.key());
        } else {
          map.put(op.key().clone(), op.value().clone());
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public long scan(Column column, byte[] prefix, BiPredicate<byte[], byte[]> visitor) {
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(visitor, "visitor");
    List<Map.Entry<byte[], byte[]>> snapshot = new ArrayList<>();
    lock.readLock().lock();
    try {
      ensureOpen();
      for (Map.Entry<byte[], byte[]> entry : map(column).tailMap(prefix, true).entrySet()) {
        if (!Keys.startsWith(entry.getKey(), prefix)) {
          break;
        }
        snapshot.add(entry);
      }
    } finally {
      lock.readLock().unlock();
    }
    long visited = 0;
    for (Map.Entry<byte[], byte[]> entry : snapshot) {
      visited++;
      if (!visitor.test(entry.getKey().clone(), entry.getValue().clone())) {
        break;
      }
    }
    return visited;
  }

  @Override
  public void sync() {
    lock.readLock().lock();
    try {
      ensureOpen();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Durability durability() {
    return Durability.NONE;
  }

  @Override
  public String describe() {
    return "in-memory";
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      closed = true;
      columns.values().forEach(Map::clear);
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return describe();
  }

  private void ensureOpen() {
    if (closed) {
      throw new ReplikonException(Reason.STORE_CLOSED, "in-memory store is closed");
    }
  }

  private ConcurrentSkipListMap<byte[], byte[]> map(Column column) {
    return columns.get(Objects.requireNonNull(column, "column"));
  }
}
