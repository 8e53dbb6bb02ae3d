package io.replikon.storage;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiPredicate;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.Statistics;
import org.rocksdb.Status;
import org.rocksdb.TickerType;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note. One RocksDB database per store, one column family per Column (plus the default
 * family RocksDB insists on), all sharing one LRU block cache and one Bloom filter. A Batch becomes
 * one WriteBatch, so a write is atomic across columns; the WriteOptions chosen at open carry the
 * durability. A scan iterates over an explicit snapshot, bounded above by the successor of its
 * prefix so that RocksDB stops at the end of the range by itself. BLOBS uses BlobDB: values of
 * 4 KiB and more live in blob files, out of the LSM tree and its compactions. CHUNKS values of
 * 4 KiB and more live in ChunkFiles, written once, and the column holds a tagged reference to each
 * (a smaller chunk is held inline, tagged too); see ChunkFiles for the order of the two writes.
 *
 * Recovery. RocksDB's default recovery mode (point in time) replays the write-ahead log up to the
 * first damaged record and drops the rest without a word, synced writes included. So the store
 * opens in absolute-consistency mode, with paranoid checks: any damage fails that attempt. Damage
 * in the middle of the log fails the second attempt too, in tolerate-corrupted-tail mode, and the
 * open is refused. A torn tail is what a crash leaves of writes that were not synced (BATCH): the
 * second attempt opens, dropping it, and says so (WARN). A log cut at a record boundary, or one
 * that lost synced records from its tail, looks like a torn tail to RocksDB; the CloseRecord
 * written at the last clean close catches it: the store must recover at least the sequence number
 * it names, and its chunk segments must be at least as long as it says. After a refusal the store
 * must be restored (from a backup or a replica); RocksDB's own salvage (point-in-time recovery) is
 * not offered, since it hides what it dropped.
 *
 * Errors. Every RocksDB failure becomes STORE_IO naming the store; a full file system (ENOSPC, in
 * RocksDB's IOError or a chunk-file append) says "no space left on device" first, so that a peer
 * can tell a sender why its publish was refused. A failed write stores nothing: chunk bytes whose
 * batch failed are never referenced, and RocksDB applies a batch whole or not at all.
 *
 * Native objects must never be used after they are freed (that crashes the JVM rather than
 * throwing). Every call therefore holds the read side of `lock` and checks `closed`; close() takes
 * the write side, so it waits for running calls. Close order: column family handles, database,
 * then options, filter and cache, then the directory lock. The directory lock is taken before
 * RocksDB opens and released after it closes.
 */

/**
 * The RocksDB store. Thread-safe; calls block on disk I/O. {@link #close()} waits for calls in
 * progress, including scans whose visitors are still running.
 */
final class RocksStore implements Store {
  /** Values of this size and more in {@link Column#BLOBS} go to blob files. */
  static final long MIN_BLOB_BYTES = 4 << 10;
  /** Values of this size and more in {@link Column#CHUNKS} go to {@link ChunkFiles}. */
  static final int MIN_CHUNK_FILE_BYTES = 4 << 10;
  /** The first byte of a {@link Column#CHUNKS} entry: the value follows. */
  private static final byte INLINE = 0;
  /** The first byte of a {@link Column#CHUNKS} entry: a {@link ChunkFiles} reference follows. */
  private static final byte REFERENCE = 1;
  /** The largest write batch (in bytes) kept for reuse after a write; a larger one is freed. */
  static final long SPARE_BATCH_MAX_BYTES = 64L << 20;
  private static final int MAX_OPEN_FILES = 512;
  private static final String DEFAULT_FAMILY = "default";
  private static final Logger LOG = LoggerFactory.getLogger(RocksStore.class);

  private final Path path;
  private final Durability durability;
  private final StoreDirectory directory;
  private final LRUCache cache;
  private final BloomFilter filter;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> familyOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final Map<Column, ColumnFamilyHandle> columns;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  /**
   * A cleared write batch kept for the next write: its buffer keeps its capacity, so a writer of
   * commits of many chunks does not grow (and page-fault) a fresh buffer of tens of MiB, copying it
   * at every doubling, for each commit. Taken by one writer at a time.
   */
  private final AtomicReference<WriteBatch> spareBatch = new AtomicReference<>();
  private final ChunkFiles chunkFiles;
  private final Seams seams;
  private final Statistics statistics;
  /** The chunk segments recorded at the last clean close (a lower bound carried forward). */
  private final Map<Integer, Long> segmentsAtOpen;
  private boolean closed; // guarded by lock

  /**
   * What tests put between the store and its files; {@link #NONE} in production.
   *
   * @param opener opens the chunk segments
   * @param statistics whether RocksDB counts its tickers (see {@link #walSyncs()})
   * @param beforeWrite runs just before each RocksDB batch is written, after its chunks are
   */
  record Seams(ChunkFiles.Opener opener, boolean statistics, Runnable beforeWrite) {
    static final Seams NONE = new Seams(ChunkFiles.Opener.FILES, false, () -> { });
  }

  private RocksStore(Path path, Durability durability, StoreDirectory directory, LRUCache cache,
      BloomFilter filter, DBOptions dbOptions, List<ColumnFamilyOptions> familyOptions,
      RocksDB db, List<ColumnFamilyHandle> handles, ChunkFiles chunkFiles, Seams seams,
      Statistics statistics, Map<Integer, Long> segmentsAtOpen) {
    this.path = path;
    this.chunkFiles = chunkFiles;
    this.seams = seams;
    this.statistics = statistics;
    this.segmentsAtOpen = segmentsAtOpen;
    this.durability = durability;
    this.directory = directory;
    this.cache = cache;
    this.filter = filter;
    this.dbOptions = dbOptions;
    this.familyOptions = familyOptions;
    this.db = db;
    this.handles = handles;
    this.columns = new EnumMap<>(Column.class);
    Column[] all = Column.values();
    for (int i = 0; i < all.length; i++) {
      columns.put(all[i], handles.get(i + 1)); // handle 0 is the default family
    }
    this.writeOptions = new WriteOptions();
    switch (durability) {
      case SYNC -> writeOptions.setSync(true);
      case BATCH -> writeOptions.setSync(false);
      case NONE -> writeOptions.setDisableWAL(true);
      default -> throw new AssertionError(durability);
    }
    this.readOptions = new ReadOptions();
  }

  /** Opens or creates the store of {@code config}; see {@link Stores#open}. */
  static RocksStore open(StoreConfig config) {
    return open(config, Seams.NONE);
  }

  /** As {@link #open(StoreConfig)}, with what a test puts between the store and its files. */
  static RocksStore open(StoreConfig config, Seams seams) {
    NativeLibrary.load();
    StoreDirectory directory = StoreDirectory.open(config.directory(), config.createIfMissing());
    Path path = directory.path();
    boolean exists = StoreDirectory.hasDatabase(path);
    if (!exists && !config.createIfMissing()) {
      directory.close();
      throw new ReplikonException(Reason.STORE_MISSING, "store " + path + " has a "
          + StoreDirectory.MARKER + " file but no database; open it with creation allowed or"
          + " check --store");
    }
    List<AutoCloseable> natives = new ArrayList<>();
    try {
      CloseRecord atClose = CloseRecord.read(path).orElse(null);
      if (exists) {
        checkFamilies(path);
      }
      if (atClose != null) {
        ChunkFiles.check(path, atClose.segments());
      }
      LRUCache cache = add(natives, new LRUCache(config.blockCacheBytes()));
      BloomFilter filter = add(natives, new BloomFilter(10, false));
      BlockBasedTableConfig table = new BlockBasedTableConfig()
          .setBlockCache(cache)
          .setFilterPolicy(filter)
          .setBlockSize(16 << 10)
          .setCacheIndexAndFilterBlocks(config.blockCacheBytes() > 0)
          .setPinL0FilterAndIndexBlocksInCache(config.blockCacheBytes() > 0);
      DBOptions dbOptions = add(natives, new DBOptions()
          .setCreateIfMissing(config.createIfMissing())
          .setCreateMissingColumnFamilies(true)
          .setMaxOpenFiles(MAX_OPEN_FILES)
          .setMaxBackgroundJobs(2)
          .setDbWriteBufferSize(64L << 20)
          .setMaxTotalWalSize(128L << 20)
          .setBytesPerSync(1L << 20)
          .setKeepLogFileNum(4)
          .setMaxLogFileSize(8L << 20)
          .setParanoidChecks(true)
          .setWalRecoveryMode(WALRecoveryMode.AbsoluteConsistency));
      Statistics statistics = null;
      if (seams.statistics()) {
        statistics = add(natives, new Statistics());
        dbOptions.setStatistics(statistics);
      }
      List<ColumnFamilyOptions> familyOptions = new ArrayList<>();
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      ColumnFamilyOptions defaults = add(natives, familyOptions(table, null));
      familyOptions.add(defaults);
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, defaults));
      for (Column column : Column.values()) {
        ColumnFamilyOptions options = add(natives, familyOptions(table, column));
        familyOptions.add(options);
        descriptors.add(new ColumnFamilyDescriptor(
            column.id().getBytes(StandardCharsets.UTF_8), options));
      }
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      ChunkFiles chunkFiles = add(natives, ChunkFiles.open(path,
          config.durability() != Durability.NONE, ChunkFiles.SEGMENT_BYTES, seams.opener()));
      String[] torn = new String[1];
      RocksDB db = recover(path, dbOptions, descriptors, handles, torn);
      natives.add(db);
      natives.addAll(handles); // closed in reverse: handles, then the database
      long recovered = db.getLatestSequenceNumber();
      if (atClose != null && recovered < atClose.sequence()) {
        throw new ReplikonException(Reason.STORE_IO, "store " + path + " is damaged: it was"
            + " closed at RocksDB sequence " + atClose.sequence() + " with every write on disk,"
            + " but its write-ahead log (" + path + "/*.log) now gives back only up to sequence "
            + recovered + ": it was cut short or damaged, and writes that were synced are lost."
            + RESTORE);
      }
      if (torn[0] != null) {
        LOG.warn("store {}: its write-ahead log ended in a torn record ({}): what a crash leaves"
            + " of writes that were not yet synced. They were dropped; {}", path, torn[0],
            atClose == null ? "the store has no record of a clean close to check the rest"
                + " against" : "everything the store held at its last clean close (sequence "
                + atClose.sequence() + ") was recovered, up to sequence " + recovered);
      }
      return new RocksStore(path, config.durability(), directory, cache, filter, dbOptions,
          familyOptions, db, handles, chunkFiles, seams, statistics,
          atClose == null ? Map.of() : atClose.segments());
    } catch (RocksDBException e) {
      closeAll(natives);
      directory.close();
      String message = String.valueOf(e.getMessage());
      if (message.contains("While lock file")) {
        throw new ReplikonException(Reason.STORE_LOCKED, "store " + path + " is in use by another"
            + " RocksDB process (RocksDB lock file " + path.resolve("LOCK") + "): " + message
            + "; stop that process or use another --store", e);
      }
      if (isCorruption(e)) {
        throw new ReplikonException(Reason.STORE_IO, "store " + path + " is damaged: RocksDB"
            + " refused to open it (" + message + "); a damaged write-ahead log or table file"
            + " would lose writes that were synced, so it was not opened." + RESTORE, e);
      }
      if (ChunkFiles.noSpace(e)) {
        throw new ReplikonException(Reason.STORE_IO, "no space left on device: cannot open store "
            + path + " (" + message + "); free space on that file system", e);
      }
      throw new ReplikonException(Reason.STORE_IO, "cannot open store " + path + ": " + message,
          e);
    } catch (RuntimeException | Error e) {
      closeAll(natives);
      directory.close();
      throw e;
    }
  }

  /** What a refusal to open a damaged store tells the user to do. */
  private static final String RESTORE = " Restore the store from a backup, or from a replica: move"
      + " this directory aside, start the peer on an empty store and let it fetch its CDVCSs from"
      + " another peer (the damaged copy may still be read with RocksDB's own tools)";

  /**
   * Opens the database in absolute-consistency mode; on damage, once more tolerating a torn tail
   * of the write-ahead log (what a crash leaves of unsynced writes), and then sets
   * {@code torn[0]} to what RocksDB said of it. Damage that is not a torn tail fails both.
   */
  private static RocksDB recover(Path path, DBOptions dbOptions,
      List<ColumnFamilyDescriptor> descriptors, List<ColumnFamilyHandle> handles, String[] torn)
      throws RocksDBException {
    try {
      return RocksDB.open(dbOptions, path.toString(), descriptors, handles);
    } catch (RocksDBException strict) {
      if (!isCorruption(strict)) {
        throw strict;
      }
      handles.clear();
      dbOptions.setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords);
      RocksDB db;
      try {
        db = RocksDB.open(dbOptions, path.toString(), descriptors, handles);
      } catch (RocksDBException tolerant) {
        tolerant.addSuppressed(strict);
        throw tolerant;
      } finally {
        dbOptions.setWalRecoveryMode(WALRecoveryMode.AbsoluteConsistency);
      }
      torn[0] = strict.getMessage();
      return db;
    }
  }

  private static boolean isCorruption(RocksDBException e) {
    return (e.getStatus() != null && e.getStatus().getCode() == Status.Code.Corruption)
        || String.valueOf(e.getMessage()).startsWith("Corruption");
  }

  /**
   * Options of a column (null: the default family). Blobs go to blob files once over
   * {@link #MIN_BLOB_BYTES}, so compactions do not rewrite them again and again, taken as they come
   * (no compression). Large chunks are not in RocksDB at all ({@link ChunkFiles}): their column
   * holds small chunks and references.
   */
  static ColumnFamilyOptions familyOptions(BlockBasedTableConfig table, Column column) {
    ColumnFamilyOptions options = new ColumnFamilyOptions()
        .setTableFormatConfig(table)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true)
        .setWriteBufferSize(16L << 20);
    if (column == Column.BLOBS) {
      options.setEnableBlobFiles(true)
          .setMinBlobSize(MIN_BLOB_BYTES)
          .setBlobFileSize(256L << 20)
          .setBlobCompressionType(CompressionType.NO_COMPRESSION)
          .setEnableBlobGarbageCollection(true);
    }
    return options;
  }

  /** Refuses a database with column families this code does not know (a newer format). */
  private static void checkFamilies(Path path) throws RocksDBException {
    List<byte[]> names;
    try (Options options = new Options()) {
      names = RocksDB.listColumnFamilies(options, path.toString());
    }
    for (byte[] name : names) {
      String id = new String(name, StandardCharsets.UTF_8);
      boolean known = id.equals(DEFAULT_FAMILY)
          || Arrays.stream(Column.values()).anyMatch(c -> c.id().equals(id));
      if (!known) {
        throw new ReplikonException(Reason.STORE_VERSION, "store " + path + " has a column family '"
            + id + "' that this replikon does not know; it was written by a newer version");
      }
    }
  }

  @Override
  public Optional<byte[]> get(Column column, byte[] key) {
    Objects.requireNonNull(key, "key");
    lock.readLock().lock();
    try {
      ensureOpen();
      byte[] stored = db.get(handle(column), readOptions, key);
      return Optional.ofNullable(stored == null ? null : value(column, key, stored));
    } catch (RocksDBException e) {
      throw failure("get from " + column.id(), e);
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
      return db.keyExists(handle(column), readOptions, key);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void write(Batch batch) {
    Objects.requireNonNull(batch, "batch");
    lock.readLock().lock();
    try {
      ensureOpen();
      if (batch.isEmpty()) {
        return;
      }
      WriteBatch writeBatch = spareBatch.getAndSet(null);
      if (writeBatch == null) {
        writeBatch = new WriteBatch();
      }
      try {
        byte[][] references = appendChunks(batch);
        int chunk = 0;
        for (Batch.Op op : batch.ops()) {
          if (op.isDelete()) {
            writeBatch.delete(handle(op.column()), op.key());
          } else if (inChunkFile(op)) {
            writeBatch.put(handle(op.column()), op.key(), tagged(REFERENCE, references[chunk++]));
          } else if (op.column() == Column.CHUNKS) {
            writeBatch.put(handle(op.column()), op.key(), tagged(INLINE, op.value()));
          } else {
            writeBatch.put(handle(op.column()), op.key(), op.value());
          }
        }
        seams.beforeWrite().run();
        db.write(writeOptions, writeBatch);
      } finally {
        boolean keep = writeBatch.getDataSize() <= SPARE_BATCH_MAX_BYTES;
        if (keep) {
          writeBatch.clear();
        }
        if (!keep || !spareBatch.compareAndSet(null, writeBatch)) {
          writeBatch.close();
        }
      }
    } catch (RocksDBException e) {
      throw failure("write a batch of " + batch.size(), e);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Appends the large chunk values of {@code batch} to the chunk files (forced unless durability
   * is NONE) before the batch that references them is written; returns their references in order.
   */
  private byte[][] appendChunks(Batch batch) {
    List<byte[]> large = new ArrayList<>();
    for (Batch.Op op : batch.ops()) {
      if (inChunkFile(op)) {
        large.add(op.value());
      }
    }
    return large.isEmpty() ? new byte[0][] : chunkFiles.append(large);
  }

  /** Whether {@code op} puts a chunk large enough for the chunk files. */
  private static boolean inChunkFile(Batch.Op op) {
    return !op.isDelete() && op.column() == Column.CHUNKS
        && op.value().length >= MIN_CHUNK_FILE_BYTES;
  }

  private static byte[] tagged(byte tag, byte[] payload) {
    byte[] out = new byte[payload.length + 1];
    out[0] = tag;
    System.arraycopy(payload, 0, out, 1, payload.length);
    return out;
  }

  /** The value of a stored entry: for chunks, untagged or read from the chunk files. */
  private byte[] value(Column column, byte[] key, byte[] stored) {
    if (column != Column.CHUNKS) {
      return stored;
    }
    if (stored.length > 0 && stored[0] == INLINE) {
      return Arrays.copyOfRange(stored, 1, stored.length);
    }
    if (stored.length == 1 + ChunkFiles.REFERENCE_BYTES && stored[0] == REFERENCE) {
      try {
        return chunkFiles.read(Arrays.copyOfRange(stored, 1, stored.length));
      } catch (ReplikonException e) {
        throw new ReplikonException(e.reason(), "store " + path + ": the value " + hex(key)
            + " cannot be read: " + e.getMessage() + ". Fetch it again from a replica, or restore"
            + " the store; `replikon log --verify` lists every damaged value", e);
      }
    }
    throw new ReplikonException(Reason.STORE_IO, "store " + path + " holds a chunk entry of "
        + stored.length + " bytes for the value " + hex(key) + " that is neither a value nor a"
        + " reference: the store is damaged");
  }

  @Override
  public long scan(Column column, byte[] prefix, BiPredicate<byte[], byte[]> visitor) {
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(visitor, "visitor");
    lock.readLock().lock();
    try {
      ensureOpen();
      ColumnFamilyHandle handle = handle(column);
      byte[] upper = Keys.successor(prefix);
      Snapshot snapshot = db.getSnapshot();
      try (ReadOptions options = new ReadOptions().setSnapshot(snapshot);
          Slice bound = upper == null ? null : new Slice(upper)) {
        if (bound != null) {
          options.setIterateUpperBound(bound);
        }
        try (RocksIterator it = db.newIterator(handle, options)) {
          long visited = 0;
          for (it.seek(prefix); it.isValid(); it.next()) {
            byte[] key = it.key();
            if (!Keys.startsWith(key, prefix)) {
              break;
            }
            visited++;
            if (!visitor.test(key, value(column, key, it.value()))) {
              break;
            }
          }
          it.status();
          return visited;
        }
      } finally {
        db.releaseSnapshot(snapshot);
      }
    } catch (RocksDBException e) {
      throw failure("scan " + column.id(), e);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void sync() {
    lock.readLock().lock();
    try {
      ensureOpen();
      if (durability == Durability.BATCH) {
        db.flushWal(true);
      }
    } catch (RocksDBException e) {
      throw failure("sync the write-ahead log", e);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * How many times RocksDB has synced a write-ahead log file since open, or -1 unless opened with
   * {@link Seams#statistics()}.
   */
  long walSyncs() {
    return statistics == null ? -1 : statistics.getTickerCount(TickerType.WAL_FILE_SYNCED);
  }

  /** The block chunk appends are padded to (1: buffered appends); for tests. */
  int chunkAlignment() {
    return chunkFiles.alignment();
  }

  @Override
  public Durability durability() {
    return durability;
  }

  @Override
  public String describe() {
    return "rocksdb " + path + " (durability " + durability.name().toLowerCase(Locale.ROOT) + ")";
  }

  @Override
  public void close() {
    if (lock.getReadHoldCount() > 0) {
      throw new IllegalStateException("close() called from inside a call on " + describe()
          + " (a scan visitor?); close the store after the call returns");
    }
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      RocksDBException failure = null;
      long sequence = -1;
      try {
        if (durability == Durability.BATCH) {
          db.flushWal(true);
        }
        sequence = db.getLatestSequenceNumber();
      } catch (RocksDBException e) {
        failure = e;
      }
      handles.forEach(ColumnFamilyHandle::close);
      try {
        db.closeE();
      } catch (RocksDBException e) {
        failure = failure == null ? e : failure;
      }
      WriteBatch spare = spareBatch.getAndSet(null);
      if (spare != null) {
        spare.close();
      }
      Map<Integer, Long> segments = new TreeMap<>(segmentsAtOpen);
      if (durability != Durability.NONE) {
        segments.putAll(chunkFiles.appended());
      } else {
        segments.clear(); // appends were not forced: their sizes are no promise
      }
      chunkFiles.close();
      IOException unrecorded = null;
      if (failure == null && sequence >= 0) {
        try {
          // Everything is durable now (synced log; NONE: memtables flushed at close).
          new CloseRecord(sequence, segments).write(path);
        } catch (IOException e) {
          unrecorded = e;
        }
      }
      writeOptions.close();
      readOptions.close();
      dbOptions.close();
      if (statistics != null) {
        statistics.close();
      }
      familyOptions.forEach(ColumnFamilyOptions::close);
      filter.close();
      cache.close();
      directory.close();
      if (failure != null) {
        throw failure("close", failure);
      }
      if (unrecorded != null) {
        throw new ReplikonException(Reason.STORE_IO, "store " + path + ": closed, but cannot"
            + " write " + CloseRecord.FILE + " (" + unrecorded + "); the next open checks less",
            unrecorded);
      }
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
      throw new ReplikonException(Reason.STORE_CLOSED, "store " + path + " is closed");
    }
  }

  private ColumnFamilyHandle handle(Column column) {
    return columns.get(Objects.requireNonNull(column, "column"));
  }

  private ReplikonException failure(String what, RocksDBException e) {
    return failure(path, what, e);
  }

  /** The failure of a call on the store at {@code path}; a full file system says so first. */
  static ReplikonException failure(Path path, String what, RocksDBException e) {
    if (ChunkFiles.noSpace(e)) {
      return new ReplikonException(Reason.STORE_IO, "no space left on device: store " + path
          + " cannot " + what + " (" + e.getMessage() + "); nothing of it was stored. Free space"
          + " on that file system and restart: RocksDB refuses writes after such an error", e);
    }
    return new ReplikonException(Reason.STORE_IO, "store " + path + ": cannot " + what + ": "
        + e.getMessage(), e);
  }

  private static String hex(byte[] key) {
    StringBuilder b = new StringBuilder(key.length * 2);
    for (byte x : key) {
      b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return b.toString();
  }

  private static <T extends AutoCloseable> T add(List<AutoCloseable> natives, T object) {
    natives.add(object);
    return object;
  }

  private static void closeAll(List<AutoCloseable> natives) {
    for (int i = natives.size() - 1; i >= 0; i--) {
      try {
        natives.get(i).close();
      } catch (Exception e) {
        // already failing; nothing more to release
      }
    }
  }

  /** Loads the RocksDB native library once per JVM. */
  private static final class NativeLibrary {
    private static final Throwable FAILURE = loadOnce();

    private static Throwable loadOnce() {
      try {
        RocksDB.loadLibrary();
        return null;
      } catch (RuntimeException | LinkageError e) {
        return e;
      }
    }

    static void load() {
      if (FAILURE != null) {
        throw new ReplikonException(Reason.STORE_IO, "cannot load the RocksDB native library"
            + " for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
            + " (rocksdbjni, temporary directory " + System.getProperty("java.io.tmpdir")
            + "): " + FAILURE, FAILURE);
      }
    }
  }
}
