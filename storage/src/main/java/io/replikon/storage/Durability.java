package io.replikon.storage;

/**
 * How hard a store works to keep a written batch across a crash.
 *
 * <ul>
 *   <li>{@link #SYNC}: every {@link Store#write(Batch)} is on disk (fsync) before it returns. A
 *       crash of the process or the machine loses nothing that was written. The slowest mode.
 *   <li>{@link #BATCH} (default): writes go to the write-ahead log without waiting for the disk;
 *       {@link Store#sync()} makes everything written so far durable, and callers call it once per
 *       unit of work (a publish, a flush). A process crash loses nothing; a machine crash or power
 *       loss may lose writes since the last {@code sync()}, never part of a batch.
 *   <li>{@link #NONE}: no write-ahead log. A process crash may lose recent writes (whole batches,
 *       never part of one). For tests and benchmarks.
 * </ul>
 *
 * <p>In the RocksDB store, large chunks (4 KiB and more) are written to chunk files, and in
 * {@code SYNC} and {@code BATCH} alike those bytes are forced to disk before the batch that
 * references them is written: a batch with large chunks costs one fdatasync of its chunks even in
 * {@code BATCH} mode, so that no stored reference can ever outlive the bytes it names.
 */
public enum Durability {
  /** fsync every batch before returning. */
  SYNC,
  /** Write-ahead log without fsync; {@link Store#sync()} makes writes durable. */
  BATCH,
  /** No write-ahead log; tests and benchmarks only. */
  NONE
}
