package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.testkit.LogCapture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged or cut write-ahead log: the loss of synced writes refuses the open, naming the store
 * and what to do; a torn tail of writes that were never synced opens with a warning.
 */
class WalRecoveryTest {
  @TempDir
  Path temp;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Five batches, as five CDVCSs would be written (heads entry, graph entry, commit). */
  private static void writeFive(Store store) {
    for (int i = 0; i < 5; i++) {
      byte[] filler = new byte[300];
      java.util.Arrays.fill(filler, (byte) ('a' + i));
      store.write(new Batch().put(Column.HEADS, utf8("crdt-" + i), utf8("head-" + i))
          .put(Column.COMMITS, utf8("commit-" + i), filler)
          .put(Column.GRAPH, utf8("graph-" + i), utf8("entry-" + i)));
    }
  }

  static Path wal(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> logs = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted()
          .toList();
      assertThat(logs).as("write-ahead logs in %s", dir).isNotEmpty();
      return logs.get(logs.size() - 1);
    }
  }

  private static void truncateToHalf(Path file) throws IOException {
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
      c.truncate(c.size() / 2);
    }
  }

  private static void flipByteAt(Path file, long position) throws IOException {
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      c.read(b, position);
      b.put(0, (byte) ~b.get(0));
      b.rewind();
      c.write(b, position);
    }
  }

  private static long heads(Store store) {
    return store.scan(Column.HEADS, new byte[0], (k, v) -> true);
  }

  @Test
  void open_syncedWalCutInHalf_isRefusedNamingTheStoreAndWhatToDo() throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.SYNC))) {
      writeFive(store);
    }
    truncateToHalf(wal(dir));

    assertThatThrownBy(() -> Stores.open(StoreConfig.at(dir)).close())
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
        .hasMessageContaining(dir.toString()).hasMessageContaining("replica");
  }

  @Test
  void open_syncedWalDamagedInTheMiddle_isRefusedNamingTheStoreAndWhatToDo() throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.SYNC))) {
      writeFive(store);
    }
    Path wal = wal(dir);
    flipByteAt(wal, Files.size(wal) / 3);

    assertThatThrownBy(() -> Stores.open(StoreConfig.at(dir)).close())
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
        .hasMessageContaining(dir.toString()).hasMessageContaining("replica");
  }

  /** A copy of {@code from} as a machine crash would leave it if the page cache held on. */
  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  @Test
  void open_tornTailOfUnsyncedWrites_opensWithTheSyncedOnes_andWarns() throws IOException {
    Path dir = temp.resolve("store");
    Path crashed = temp.resolve("crashed");
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.SYNC))) {
      writeFive(store);
    }
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.BATCH))) {
      store.put(Column.HEADS, utf8("crdt-unsynced"), new byte[2000]); // never synced
      copyTree(dir, crashed); // the crash: the tail of the log is torn mid-record
      Path wal = wal(crashed);
      try (FileChannel c = FileChannel.open(wal, StandardOpenOption.WRITE)) {
        c.truncate(c.size() - 100);
      }
    }
    List<ILoggingEvent> warnings;
    try (LogCapture log = LogCapture.of(RocksStore.class);
        Store store = Stores.open(StoreConfig.at(crashed))) {
      assertThat(heads(store)).isEqualTo(5);
      assertThat(store.get(Column.HEADS, utf8("crdt-unsynced"))).isEmpty();
      warnings = log.events();
    }
    assertThat(warnings).anySatisfy(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).contains(crashed.toString(), "torn",
          "not yet synced", "everything the store held at its last clean close (sequence 15)"
          + " was recovered, up to sequence 15");
    });
  }

  @Test
  void open_cleanLog_opensSilently() throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.BATCH))) {
      writeFive(store);
    }
    try (LogCapture log = LogCapture.of(RocksStore.class);
        Store store = Stores.open(StoreConfig.at(dir))) {
      assertThat(heads(store)).isEqualTo(5);
      assertThat(log.events()).isEmpty();
    }
  }
}
