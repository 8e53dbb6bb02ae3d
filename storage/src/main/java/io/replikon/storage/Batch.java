package io.replikon.storage;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A set of puts and deletes, across columns, that {@link Store#write(Batch)} applies atomically:
 * after a crash either all of them are visible or none is. Operations apply in the order they were
 * added, so a later put of the same key wins.
 *
 * <p>Key and value arrays are not copied: do not change them after adding them. Not thread-safe;
 * build a batch on one thread.
 */
public final class Batch {
  /** One operation of a batch; {@code value} is null for a delete. */
  public record Op(Column column, byte[] key, byte[] value) {
    /** Returns true if this operation deletes its key. */
    public boolean isDelete() {
      return value == null;
    }
  }

  private final List<Op> ops = new ArrayList<>();
  private long bytes;

  /** Adds a put of {@code value} under {@code key} in {@code column}; returns this batch. */
  public Batch put(Column column, byte[] key, byte[] value) {
    ops.add(new Op(Objects.requireNonNull(column), Objects.requireNonNull(key),
        Objects.requireNonNull(value)));
    bytes += key.length + value.length;
    return this;
  }

  /** Adds a delete of {@code key} in {@code column}; returns this batch. */
  public Batch delete(Column column, byte[] key) {
    ops.add(new Op(Objects.requireNonNull(column), Objects.requireNonNull(key), null));
    bytes += key.length;
    return this;
  }

  /** Returns the operations in the order they were added. */
  public List<Op> ops() {
    return Collections.unmodifiableList(ops);
  }

  /** Returns the number of operations. */
  public int size() {
    return ops.size();
  }

  /** Returns true if the batch holds no operation. */
  public boolean isEmpty() {
    return ops.isEmpty();
  }

  /** Returns the number of key and value bytes in the batch. */
  public long byteSize() {
    return bytes;
  }
}
