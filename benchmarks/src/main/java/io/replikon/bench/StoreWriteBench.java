package io.replikon.bench;

import io.replikon.storage.Batch;
import io.replikon.storage.Column;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.value.Hash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * One batch of {@value #CHUNKS} chunks of {@value #CHUNK_BYTES} random bytes, each keyed by its
 * 32-byte SHA-256, written into {@link Column#CHUNKS}: through {@link Store#write(Batch)}
 * ({@code store}) and, side by side, as a raw RocksDB {@link WriteBatch} into a "chunks" column
 * family of a database opened with the options {@code RocksStore} uses ({@code raw}).
 *
 * <p>{@code store} and {@code raw} (average time per batch) write into their own fresh temporary
 * directory per trial, deleted at tear-down, so they measure a steady state in which the writes'
 * flushes and compactions run in the background. {@code storeFresh} and {@code rawFresh} (single
 * shot) open a fresh directory per iteration and time one batch into the empty database: the
 * foreground write path alone (one batch fits in the 16 MiB memtable, so nothing is flushed).
 *
 * <p>The data is generated and hashed in the trial set-up: {@value #DISTINCT_BATCHES} distinct
 * batches that the invocations cycle through, so the first cycle writes new keys and later ones
 * overwrite them (harmless for content-addressed entries). Timed per invocation: building the batch
 * object ({@link Batch} or {@link WriteBatch}) from the precomputed arrays and writing it.
 *
 * <p>Payload per batch: 10,000 x (1,024 + 32) bytes = 10.56 MB; MB/s = 10.56 / (ms per op / 1000).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class StoreWriteBench {
  static final int CHUNKS = 10_000;
  static final int CHUNK_BYTES = 1024;
  static final int DISTINCT_BATCHES = 8;

  /** The precomputed chunks and the durability of both targets. */
  @State(Scope.Benchmark)
  public static class Chunks {
    /** NONE: no write-ahead log. BATCH: write-ahead log, no fsync. */
    @Param({"NONE", "BATCH"})
    public Durability durability;

    byte[][][] keys;
    byte[][][] values;
    int next;

    @Setup(Level.Trial)
    public void generate() {
      Random random = new Random(42);
      keys = new byte[DISTINCT_BATCHES][CHUNKS][];
      values = new byte[DISTINCT_BATCHES][CHUNKS][];
      for (int b = 0; b < DISTINCT_BATCHES; b++) {
        for (int i = 0; i < CHUNKS; i++) {
          byte[] value = new byte[CHUNK_BYTES];
          random.nextBytes(value);
          values[b][i] = value;
          keys[b][i] = Hash.sha256(value).toBytes();
        }
      }
    }

    /** Returns the index of the batch the next invocation writes. */
    int nextBatch() {
      int b = next;
      next = (next + 1) % DISTINCT_BATCHES;
      return b;
    }
  }

  /** The replikon store in a fresh temporary directory. */
  public abstract static class StoreBase {
    Path directory;
    Store store;

    void open(Durability durability) throws IOException {
      directory = Files.createTempDirectory("replikon-bench-store-");
      store = Stores.open(StoreConfig.at(directory).withDurability(durability));
    }

    void close() {
      if (store != null) {
        store.close();
        store = null;
      }
      deleteTree(directory);
    }
  }

  /** The store, fresh per trial: {@code store} measures writes in a steady state. */
  @State(Scope.Benchmark)
  public static class StoreTarget extends StoreBase {
    @Setup(Level.Trial)
    public void setUp(Chunks chunks) throws IOException {
      open(chunks.durability);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      close();
    }
  }

  /** The store, fresh per iteration: {@code storeFresh} writes one batch into an empty store. */
  @State(Scope.Benchmark)
  public static class FreshStoreTarget extends StoreBase {
    @Setup(Level.Iteration)
    public void setUp(Chunks chunks) throws IOException {
      open(chunks.durability);
    }

    @TearDown(Level.Iteration)
    public void tearDown() {
      close();
    }
  }

  /**
   * Raw RocksDB in a fresh temporary directory, opened with the options of {@code RocksStore}: the
   * same DBOptions, the same column families (default plus one per {@link Column}, BLOBS with blob
   * files) with the same ColumnFamilyOptions, the same shared LRU cache and Bloom filter, and the
   * WriteOptions that {@code RocksStore} derives from the durability.
   */
  public abstract static class RawBase {
    Path directory;
    final List<AutoCloseable> natives = new ArrayList<>();
    final List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB db;
    ColumnFamilyHandle chunks;
    WriteOptions writeOptions;

    void open(Durability durability) throws IOException, RocksDBException {
      RocksDB.loadLibrary();
      directory = Files.createTempDirectory("replikon-bench-raw-");
      long cacheBytes = StoreConfig.DEFAULT_BLOCK_CACHE_BYTES;
      LRUCache cache = add(new LRUCache(cacheBytes));
      BloomFilter filter = add(new BloomFilter(10, false));
      BlockBasedTableConfig table = new BlockBasedTableConfig()
          .setBlockCache(cache)
          .setFilterPolicy(filter)
          .setBlockSize(16 << 10)
          .setCacheIndexAndFilterBlocks(cacheBytes > 0)
          .setPinL0FilterAndIndexBlocksInCache(cacheBytes > 0);
      DBOptions dbOptions = add(new DBOptions()
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setMaxOpenFiles(512)
          .setMaxBackgroundJobs(2)
          .setDbWriteBufferSize(64L << 20)
          .setMaxTotalWalSize(128L << 20)
          .setBytesPerSync(1L << 20)
          .setKeepLogFileNum(4)
          .setMaxLogFileSize(8L << 20));
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY,
          add(familyOptions(table, false))));
      for (Column column : Column.values()) {
        descriptors.add(new ColumnFamilyDescriptor(column.id().getBytes(StandardCharsets.UTF_8),
            add(familyOptions(table, column == Column.BLOBS))));
      }
      db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
      chunks = handles.get(1 + Column.CHUNKS.ordinal());
      writeOptions = add(new WriteOptions());
      switch (durability) {
        case SYNC -> writeOptions.setSync(true);
        case BATCH -> writeOptions.setSync(false);
        case NONE -> writeOptions.setDisableWAL(true);
        default -> throw new AssertionError(durability);
      }
    }

    /** RocksStore.familyOptions, copied. */
    private static ColumnFamilyOptions familyOptions(BlockBasedTableConfig table, boolean blobs) {
      ColumnFamilyOptions options = new ColumnFamilyOptions()
          .setTableFormatConfig(table)
          .setCompressionType(CompressionType.LZ4_COMPRESSION)
          .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION)
          .setLevelCompactionDynamicLevelBytes(true)
          .setWriteBufferSize(16L << 20);
      if (blobs) {
        options.setEnableBlobFiles(true)
            .setMinBlobSize(4 << 10)
            .setBlobFileSize(256L << 20)
            .setBlobCompressionType(CompressionType.NO_COMPRESSION)
            .setEnableBlobGarbageCollection(true);
      }
      return options;
    }

    private <T extends AutoCloseable> T add(T object) {
      natives.add(object);
      return object;
    }

    void close() throws Exception {
      if (db != null) {
        if (!writeOptions.disableWAL()) {
          db.flushWal(true); // as RocksStore.close() does in BATCH mode
        }
        handles.forEach(ColumnFamilyHandle::close);
        handles.clear();
        db.closeE();
        db = null;
      }
      for (int i = natives.size() - 1; i >= 0; i--) {
        natives.get(i).close();
      }
      natives.clear();
      deleteTree(directory);
    }
  }

  /**
   * Raw RocksDB, fresh per trial: {@code raw} measures writes in a steady state. Prints RocksDB's
   * write-stall and compaction summary at tear-down (the store hides its database, so only here).
   */
  @State(Scope.Benchmark)
  public static class RawTarget extends RawBase {
    @Setup(Level.Trial)
    public void setUp(Chunks chunks) throws IOException, RocksDBException {
      open(chunks.durability);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
      StringBuilder report = new StringBuilder();
      String stats = db.getProperty("rocksdb.stats") + "\n"
          + db.getProperty(chunks, "rocksdb.stats");
      for (String line : stats.split("\n")) {
        if (line.startsWith("Cumulative stall") || line.startsWith("Cumulative compaction")
            || line.startsWith("Cumulative writes") || line.startsWith("Flush(GB)")
            || line.startsWith(" Sum") || line.startsWith("Stalls(count)")) {
          report.append("\n[rocksdb] ").append(line);
        }
      }
      System.out.println(report);
      close();
    }
  }

  /** Raw RocksDB, fresh per iteration: {@code rawFresh} writes one batch into an empty database. */
  @State(Scope.Benchmark)
  public static class FreshRawTarget extends RawBase {
    @Setup(Level.Iteration)
    public void setUp(Chunks chunks) throws IOException, RocksDBException {
      open(chunks.durability);
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws Exception {
      close();
    }
  }

  @Benchmark
  public Batch store(Chunks data, StoreTarget target) {
    return writeStore(data, target);
  }

  @Benchmark
  public int raw(Chunks data, RawTarget target) throws RocksDBException {
    return writeRaw(data, target);
  }

  /** One batch into an empty store; run with more iterations, e.g. -wi 5 -i 20. */
  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  public Batch storeFresh(Chunks data, FreshStoreTarget target) {
    return writeStore(data, target);
  }

  /** One batch into an empty database; run with more iterations, e.g. -wi 5 -i 20. */
  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  public int rawFresh(Chunks data, FreshRawTarget target) throws RocksDBException {
    return writeRaw(data, target);
  }

  private static Batch writeStore(Chunks data, StoreBase target) {
    int b = data.nextBatch();
    byte[][] keys = data.keys[b];
    byte[][] values = data.values[b];
    Batch batch = new Batch();
    for (int i = 0; i < CHUNKS; i++) {
      batch.put(Column.CHUNKS, keys[i], values[i]);
    }
    target.store.write(batch);
    return batch;
  }

  private static int writeRaw(Chunks data, RawBase target) throws RocksDBException {
    int b = data.nextBatch();
    byte[][] keys = data.keys[b];
    byte[][] values = data.values[b];
    try (WriteBatch batch = new WriteBatch()) {
      for (int i = 0; i < CHUNKS; i++) {
        batch.put(target.chunks, keys[i], values[i]);
      }
      target.db.write(target.writeOptions, batch);
      return batch.count();
    }
  }

  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }
}
