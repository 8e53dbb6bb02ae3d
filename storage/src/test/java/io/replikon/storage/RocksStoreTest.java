package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/** The store contract in each durability mode, and what only the RocksDB store does. */
class RocksStoreTest {
  @TempDir
  Path temp;

  abstract class RocksContract extends StoreContract {
    abstract Durability mode();

    @Override
    protected Store newStore() {
      return RocksStore.open(StoreConfig.at(temp.resolve("store")).withDurability(mode()),
          new RocksStore.Seams(ChunkFiles.Opener.FILES, true, () -> { }));
    }

    @Override
    protected long logSyncs() {
      return ((RocksStore) store).walSyncs();
    }

    @Test
    void durability_isTheConfiguredMode() {
      assertThat(store.durability()).isEqualTo(mode());
      assertThat(store.describe()).isEqualTo("rocksdb " + temp.resolve("store") + " (durability "
          + mode().name().toLowerCase(java.util.Locale.ROOT) + ")");
    }
  }

  @Nested
  class SyncMode extends RocksContract {
    @Override
    Durability mode() {
      return Durability.SYNC;
    }
  }

  @Nested
  class BatchMode extends RocksContract {
    @Override
    Durability mode() {
      return Durability.BATCH;
    }
  }

  @Nested
  class NoneMode extends RocksContract {
    @Override
    Durability mode() {
      return Durability.NONE;
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void assertFails(ThrowingCallable call, Reason reason, String... fragments) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ReplikonException.class, e -> {
      assertThat(e.reason()).isEqualTo(reason);
      assertThat(e.getMessage()).contains(fragments);
    });
  }

  /** Every file under {@code dir} with its size and content hash, to compare before and after. */
  private static Map<String, String> listing(Path dir) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String name = dir.relativize(p).toString();
        files.put(name, Files.isDirectory(p) ? "dir"
            : Files.size(p) + ":" + java.util.Arrays.hashCode(Files.readAllBytes(p)));
      }
    }
    return files;
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void reopen_afterClose_keepsData(Durability mode) {
    Path dir = temp.resolve("store");
    byte[] blob = new byte[64 << 10];
    new Random(3).nextBytes(blob);
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(mode))) {
      store.write(new Batch()
          .put(Column.COMMITS, utf8("c"), utf8("commit"))
          .put(Column.HEADS, utf8("h"), utf8("c"))
          .put(Column.BLOBS, utf8("b"), blob));
      store.put(Column.META, utf8("gone"), utf8("x"));
      store.delete(Column.META, utf8("gone"));
    }

    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(mode)
        .withCreateIfMissing(false))) {
      assertThat(store.get(Column.COMMITS, utf8("c"))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(utf8("commit")));
      assertThat(store.get(Column.HEADS, utf8("h"))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(utf8("c")));
      assertThat(store.get(Column.BLOBS, utf8("b"))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(blob));
      assertThat(store.contains(Column.META, utf8("gone"))).isFalse();
    }
  }

  @Test
  void open_newStore_writesMarkerWithFormatVersion() throws IOException {
    Path dir = temp.resolve("a/b/store");
    Stores.open(StoreConfig.at(dir)).close();

    assertThat(Files.readAllLines(dir.resolve(StoreDirectory.MARKER)))
        .contains("format-version=" + StoreDirectory.FORMAT_VERSION);
    assertThat(dir.resolve("CURRENT")).exists();
  }

  @Test
  void open_existingEmptyDirectory_createsStore() throws IOException {
    Path dir = Files.createDirectory(temp.resolve("empty"));
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.META, utf8("k"), utf8("v"));
    }
    assertThat(dir.resolve(StoreDirectory.MARKER)).exists();
  }

  @Test
  void open_directoryWithOtherFiles_refusedAsNotAStoreAndLeftUnchanged() throws IOException {
    Path dir = Files.createDirectory(temp.resolve("photos"));
    Files.writeString(dir.resolve("holiday.txt"), "precious");
    Files.createDirectory(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/CURRENT"), "not rocksdb");
    Map<String, String> before = listing(dir);

    for (boolean create : new boolean[] {true, false}) {
      assertFails(() -> Stores.open(StoreConfig.at(dir).withCreateIfMissing(create)),
          Reason.NOT_A_STORE, dir.toString(), "holiday.txt");
    }

    assertThat(listing(dir)).isEqualTo(before);
  }

  @Test
  void open_rocksDbWithoutMarker_refusedAsNotAStore() throws Exception {
    Path dir = temp.resolve("plain-rocksdb");
    Files.createDirectory(dir);
    try (org.rocksdb.Options options = new org.rocksdb.Options().setCreateIfMissing(true);
        RocksDB db = RocksDB.open(options, dir.toString())) {
      db.put(utf8("k"), utf8("v"));
    }
    Map<String, String> before = listing(dir);

    assertFails(() -> Stores.open(StoreConfig.at(dir)), Reason.NOT_A_STORE, dir.toString());

    assertThat(listing(dir)).isEqualTo(before);
  }

  @Test
  void open_regularFile_refusedAsNotAStore() throws IOException {
    Path file = Files.writeString(temp.resolve("file"), "data");

    assertFails(() -> Stores.open(StoreConfig.at(file)), Reason.NOT_A_STORE, file.toString());

    assertThat(Files.readString(file)).isEqualTo("data");
  }

  @Test
  void open_missingWithoutCreate_failsStoreMissingAndCreatesNothing() throws IOException {
    Path missing = temp.resolve("missing");
    Path empty = Files.createDirectory(temp.resolve("empty"));

    assertFails(() -> Stores.open(StoreConfig.at(missing).withCreateIfMissing(false)),
        Reason.STORE_MISSING, missing.toString(), "no replikon store");
    assertFails(() -> Stores.open(StoreConfig.at(empty).withCreateIfMissing(false)),
        Reason.STORE_MISSING, empty.toString());

    assertThat(missing).doesNotExist();
    assertThat(empty).isEmptyDirectory();
  }

  @Test
  void open_markerButNoDatabase_createsOnlyWhenAllowed() throws IOException {
    Path dir = Files.createDirectory(temp.resolve("half-created"));
    Files.writeString(dir.resolve(StoreDirectory.MARKER),
        "replikon store\nformat-version=" + StoreDirectory.FORMAT_VERSION + "\n");

    assertFails(() -> Stores.open(StoreConfig.at(dir).withCreateIfMissing(false)),
        Reason.STORE_MISSING, dir.toString());
    assertThat(dir.resolve("CURRENT")).doesNotExist();

    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.META, utf8("k"), utf8("v"));
    }
    assertThat(dir.resolve("CURRENT")).exists();
  }

  @Test
  void open_unknownFormatVersion_failsStoreVersion() throws IOException {
    Path dir = temp.resolve("store");
    Stores.open(StoreConfig.at(dir)).close();
    Files.writeString(dir.resolve(StoreDirectory.MARKER), "replikon store\nformat-version=99\n");

    assertFails(() -> Stores.open(StoreConfig.at(dir)), Reason.STORE_VERSION, dir.toString(),
        "99");
  }

  @Test
  void open_unknownColumnFamily_failsStoreVersion() throws Exception {
    Path dir = temp.resolve("store");
    Stores.open(StoreConfig.at(dir)).close();
    List<ColumnFamilyDescriptor> families = new ArrayList<>();
    families.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
    for (Column column : Column.values()) {
      families.add(new ColumnFamilyDescriptor(utf8(column.id())));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        ColumnFamilyOptions familyOptions = new ColumnFamilyOptions();
        RocksDB db = RocksDB.open(options, dir.toString(), families, handles);
        ColumnFamilyHandle future =
            db.createColumnFamily(new ColumnFamilyDescriptor(utf8("future"), familyOptions))) {
      assertThat(future.getName()).isEqualTo(utf8("future"));
      handles.forEach(ColumnFamilyHandle::close);
    }

    assertFails(() -> Stores.open(StoreConfig.at(dir)), Reason.STORE_VERSION, dir.toString(),
        "future");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void open_sameDirectoryTwiceInProcess_failsStoreLocked() throws Exception {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.META, utf8("k"), utf8("v"));
      String pid = Long.toString(ProcessHandle.current().pid());

      assertFails(() -> Stores.open(StoreConfig.at(dir)), Reason.STORE_LOCKED, dir.toString(),
          pid);
      assertFails(() -> Stores.open(StoreConfig.at(dir.resolve("../store"))),
          Reason.STORE_LOCKED, dir.toString());

      // the refused opens must not have closed the store, nor dropped its lock (closing any
      // descriptor of a locked file drops the process's POSIX locks): another process is still
      // refused
      assertThat(store.get(Column.META, utf8("k"))).isPresent();
      assertThat(probe(dir)).startsWith("STORE_LOCKED ")
          .contains("process " + pid, dir.resolve(StoreDirectory.LOCK).toString());
    }
    try (Store again = Stores.open(StoreConfig.at(dir))) {
      assertThat(again.get(Column.META, utf8("k"))).isPresent();
    }
  }

  private static Process startChild(String mode, Path dir) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        LockHolder.class.getName(), mode, dir.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static String firstLine(Process child) throws Exception {
    BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    return CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }).get(90, TimeUnit.SECONDS);
  }

  /** Asks a child process to open the store at {@code dir}; returns what it printed. */
  private static String probe(Path dir) throws Exception {
    Process child = startChild("probe", dir);
    try {
      return firstLine(child);
    } finally {
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void open_heldByAnotherProcess_failsStoreLockedNamingPathAndPid() throws Exception {
    Path dir = temp.resolve("store");
    Process child = startChild("hold", dir);
    try {
      assertThat(firstLine(child)).isEqualTo("OPENED " + child.pid());

      assertFails(() -> Stores.open(StoreConfig.at(dir)), Reason.STORE_LOCKED, dir.toString(),
          "process " + child.pid(), dir.resolve(StoreDirectory.LOCK).toString());
    } finally {
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    // killed, not closed: the OS released the lock; the child's unsynced write survived the crash
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      assertThat(store.get(Column.META, utf8("child"))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(utf8("was here")));
    }
  }

  @Test
  void blobs_areInBlobFilesWithGarbageCollection_andChunksAreNot() {
    RocksDB.loadLibrary();
    try (org.rocksdb.ColumnFamilyOptions chunks = RocksStore.familyOptions(
            new org.rocksdb.BlockBasedTableConfig(), Column.CHUNKS);
        org.rocksdb.ColumnFamilyOptions blobs = RocksStore.familyOptions(
            new org.rocksdb.BlockBasedTableConfig(), Column.BLOBS)) {
      assertThat(chunks.enableBlobFiles()).isFalse(); // large chunks are in ChunkFiles
      assertThat(blobs.enableBlobFiles()).isTrue();
      assertThat(blobs.enableBlobGarbageCollection()).isTrue();
    }
  }

  @Test
  void blobs_largeValues_goToBlobFiles() throws IOException {
    Path dir = temp.resolve("store");
    byte[] large = new byte[1 << 20];
    new Random(11).nextBytes(large);
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.NONE))) {
      store.put(Column.BLOBS, utf8("large"), large);
    }

    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(name -> name.endsWith(".blob"));
    }
  }

  @Test
  void close_fromInsideAScan_isRefused() {
    Store store = Stores.open(StoreConfig.at(temp.resolve("store")));
    try {
      store.put(Column.META, utf8("k"), utf8("v"));

      assertThatThrownBy(() -> store.scan(Column.META, new byte[0], (k, v) -> {
        store.close();
        return true;
      })).isInstanceOf(IllegalStateException.class);

      assertThat(store.get(Column.META, utf8("k"))).isPresent();
    } finally {
      store.close();
    }
  }
}
