package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Large chunks live in chunk files, written once, and the chunk column holds references: what a
 * user of the store sees is unchanged, across reopen, damage and crashes.
 */
class ChunkFilesTest {
  @TempDir
  Path temp;

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] key(int i) {
    return ByteBuffer.allocate(4).putInt(i).array();
  }

  private Path segment(Path store, int number) {
    return store.resolve(ChunkFiles.DIRECTORY).resolve(String.format("%08d.chunks", number));
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void chunks_largeAndSmall_readBackByGetAndScan_beforeAndAfterReopen(Durability mode) {
    Path dir = temp.resolve("store");
    Map<Integer, byte[]> written = new TreeMap<>();
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(mode))) {
      Batch batch = new Batch();
      int[] sizes = {0, 1, RocksStore.MIN_CHUNK_FILE_BYTES - 1, RocksStore.MIN_CHUNK_FILE_BYTES,
          1 << 20, 5 << 20, 300, 70_000};
      for (int i = 0; i < sizes.length; i++) {
        written.put(i, random(sizes[i], i));
        batch.put(Column.CHUNKS, key(i), written.get(i));
      }
      batch.put(Column.META, key(0), new byte[] {7});
      store.write(batch);
      assertStoreHolds(store, written);
    }
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(mode))) {
      assertStoreHolds(store, written);
      assertThat(store.get(Column.META, key(0))).contains(new byte[] {7});
    }
  }

  private static void assertStoreHolds(Store store, Map<Integer, byte[]> written) {
    for (var e : written.entrySet()) {
      assertThat(store.get(Column.CHUNKS, key(e.getKey()))).as("chunk %d", e.getKey())
          .hasValueSatisfying(v -> assertThat(v).isEqualTo(e.getValue()));
      assertThat(store.contains(Column.CHUNKS, key(e.getKey()))).isTrue();
    }
    List<Integer> scanned = new ArrayList<>();
    store.scan(Column.CHUNKS, new byte[0], (k, v) -> {
      int i = ByteBuffer.wrap(k).getInt();
      assertThat(v).as("scanned chunk %d", i).isEqualTo(written.get(i));
      scanned.add(i);
      return true;
    });
    assertThat(scanned).containsExactlyElementsOf(written.keySet());
  }

  @Test
  void chunks_large_areWrittenOnceToTheChunkFiles_andSmallOnesAreNot() throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, key(1), random(1 << 20, 1));
      store.put(Column.CHUNKS, key(2), random(100, 2));
      store.put(Column.CHUNKS, key(1), random(1 << 20, 1)); // the same chunk again
      assertThat(Files.size(segment(dir, 1))).isEqualTo(2L << 20);
      // a chunk's bytes are not in RocksDB: its files together are far smaller than the chunks
      long rocksBytes;
      try (Stream<Path> files = Files.list(dir)) {
        rocksBytes = files.filter(p -> p.getFileName().toString().endsWith(".log")
            || p.getFileName().toString().endsWith(".sst")).mapToLong(p -> p.toFile().length())
            .sum();
      }
      assertThat(rocksBytes).isLessThan(64 << 10);
    }
  }

  @Test
  void chunks_damagedChunkFile_failsStoreIoNamingTheFile_andOtherChunksStillRead()
      throws IOException {
    Path dir = temp.resolve("store");
    byte[] first = random(10_000, 1);
    byte[] second = random(10_000, 2);
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, key(1), first);
      store.put(Column.CHUNKS, key(2), second);
    }
    try (FileChannel c = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
      c.write(ByteBuffer.wrap(new byte[] {(byte) ~first[500]}), 500);
    }
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      assertThatThrownBy(() -> store.get(Column.CHUNKS, key(1)))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
          .hasMessageContaining(segment(dir, 1).toString()).hasMessageContaining("damaged")
          .hasMessageContaining("the value 00000001 cannot be read")
          .hasMessageContaining("at offset 0").hasMessageContaining("replikon log --verify");
      assertThat(store.get(Column.CHUNKS, key(2))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(second));
    }
  }

  /** {@code n} padded as a forced append on this file system pads it. */
  long padded(long n) {
    int unit;
    try (ChunkFiles probe = ChunkFiles.open(temp.resolve("probe"), true)) {
      unit = probe.alignment();
    }
    return (n + unit - 1) / unit * unit;
  }

  @Test
  void append_forced_startsEveryAppendOnABlock_andReadsBackEveryValue() {
    try (ChunkFiles files = ChunkFiles.open(temp, true)) {
      int unit = files.alignment();
      List<byte[]> values = List.of(random(5_000, 1), random(1, 2), random(70_001, 3));
      List<byte[]> references = new ArrayList<>();
      for (byte[] v : values) {
        references.add(files.append(List.of(v))[0]);
      }
      for (int i = 0; i < values.size(); i++) {
        long offset = java.nio.ByteBuffer.wrap(references.get(i)).getLong(4);
        assertThat(offset % unit).as("offset of value %d", i).isZero();
        assertThat(files.read(references.get(i))).isEqualTo(values.get(i));
      }
    }
  }

  @Test
  void chunks_bytesACrashLeftAfterTheLastReference_areNeverRead_andAppendsGoAfterThem()
      throws IOException {
    Path dir = temp.resolve("store");
    byte[] before = random(50_000, 1);
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, key(1), before);
    }
    // what a crash between writing the bytes and writing their reference leaves
    Files.write(segment(dir, 1), random(12_345, 9), StandardOpenOption.APPEND);
    byte[] after = random(50_000, 2);
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, key(2), after);
      assertThat(store.get(Column.CHUNKS, key(1))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(before));
    }
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      assertThat(store.get(Column.CHUNKS, key(2))).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(after));
    }
    // each append is padded to the block of direct appends (1 for buffered ones)
    assertThat(Files.size(segment(dir, 1)))
        .isEqualTo(padded(padded(50_000) + 12_345) + padded(50_000));
  }

  @Test
  void append_pastTheSegmentSize_startsANewSegment_andReopenAppendsToTheNewest()
      throws IOException {
    List<byte[]> values = new ArrayList<>();
    List<byte[]> references = new ArrayList<>();
    try (ChunkFiles files = ChunkFiles.open(temp, true, 100_000)) {
      for (int i = 0; i < 7; i++) {
        values.add(random(30_000, i));
        references.add(files.append(List.of(values.get(i)))[0]);
      }
      byte[][] pair = files.append(List.of(random(60_000, 7), random(60_000, 8)));
      values.add(random(60_000, 7));
      values.add(random(60_000, 8));
      references.add(pair[0]);
      references.add(pair[1]);
    }
    // 3 + 3 + 1 of 30,000 B, then the pair of 60,000 B together in a segment of their own; each
    // append padded to the block of direct appends (1 for buffered ones)
    assertThat(Files.size(segment(temp, 1))).isEqualTo(3 * padded(30_000));
    assertThat(Files.size(segment(temp, 2))).isEqualTo(3 * padded(30_000));
    assertThat(Files.size(segment(temp, 3))).isEqualTo(padded(30_000));
    assertThat(Files.size(segment(temp, 4))).isEqualTo(padded(120_000));
    try (ChunkFiles files = ChunkFiles.open(temp, true, 100_000)) {
      for (int i = 0; i < values.size(); i++) {
        assertThat(files.read(references.get(i))).as("value %d", i).isEqualTo(values.get(i));
      }
      byte[] next = files.append(List.of(random(10, 99)))[0];
      assertThat(ByteBuffer.wrap(next).getInt()).isEqualTo(5);
      assertThat(files.read(next)).isEqualTo(random(10, 99));
    }
  }

  @Test
  void read_aSegmentThatIsGone_failsStoreIo() throws IOException {
    byte[] reference;
    try (ChunkFiles files = ChunkFiles.open(temp, true)) {
      reference = files.append(List.of(random(5000, 1)))[0];
    }
    Files.delete(segment(temp, 1));
    try (ChunkFiles files = ChunkFiles.open(temp, true)) {
      assertThatThrownBy(() -> files.read(reference))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
          .hasMessageContaining("ends before the 5000 bytes");
    }
  }
}
