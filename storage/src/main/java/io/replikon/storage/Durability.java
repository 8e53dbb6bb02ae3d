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
 *
 * <p><b>Damaged files and what each mode risks.</b> At open the RocksDB store replays its
 * write-ahead log strictly (absolute consistency, paranoid checks), and every clean close records
 * the last sequence number and the chunk segments' sizes ({@code replikon.closed}):
 * <ul>
 *   <li>A torn tail of the log (what a machine crash leaves of writes that were not synced: in
 *       {@code BATCH} mode, those since the last {@link Store#sync()}) is dropped, and the open
 *       logs a WARN saying so. {@code SYNC} loses at most the write in progress.
 *   <li>Damage in the middle of the log, or a log (or chunk segment) that holds less than at the
 *       last clean close, would lose synced writes: the open fails with {@code STORE_IO} naming
 *       the store and saying to restore it from a backup or a replica. Writes lost after the last
 *       clean close from a log cut at a record boundary cannot be told from a torn tail.
 *   <li>A chunk whose bytes fail their CRC fails the read of that value with {@code STORE_IO}
 *       naming the value, the file and the offset; {@code replikon log --verify} finds them all.
 *   <li>A full file system fails the write with {@code STORE_IO} whose message begins "no space
 *       left on device"; nothing of that batch is stored. RocksDB then refuses writes until the
 *       store is reopened.
 *   <li>{@code NONE} writes no log: a process crash loses every write since the last memtable
 *       flush, and its chunk segments are not checked at open (their appends were not forced).
 * </ul>
 */
public enum Durability {
  /** fsync every batch before returning. */
  SYNC,
  /** Write-ahead log without fsync; {@link Store#sync()} makes writes durable. */
  BATCH,
  /** No write-ahead log; tests and benchmarks only. */
  NONE
}
