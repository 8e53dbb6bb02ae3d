package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.testkit.RecordingFileChannel;
import io.replikon.storage.testkit.RecordingFileChannel.Event;
import io.replikon.storage.testkit.RecordingFileChannel.Force;
import io.replikon.storage.testkit.RecordingFileChannel.Mark;
import io.replikon.storage.testkit.RecordingFileChannel.Write;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

/**
 * What a crash keeps of the chunk files is what was forced: a chunk is forced before the batch
 * that references it is written. And a full disk fails a write clearly, storing nothing of it.
 */
class ChunkDurabilityTest {
  @TempDir
  Path temp;

  private final RecordingFileChannel.Journal journal = new RecordingFileChannel.Journal();
  /** What a crash would have kept of the segment at the moment each batch was written. */
  private final List<byte[]> durableAtBatch = new ArrayList<>();

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private Path segment(Path store) {
    return store.resolve(ChunkFiles.DIRECTORY).resolve("00000001.chunks").toAbsolutePath();
  }

  private RocksStore open(Path dir, Durability mode) {
    ChunkFiles.Opener recording = (file, options) ->
        journal.wrap(file, ChunkFiles.Opener.FILES.open(file, options));
    return RocksStore.open(StoreConfig.at(dir).withDurability(mode),
        new RocksStore.Seams(recording, false, () -> {
          journal.mark("batch");
          durableAtBatch.add(journal.durable(segment(dir)));
        }));
  }

  @ParameterizedTest
  @EnumSource(value = Durability.class, names = {"SYNC", "BATCH"})
  void write_largeChunk_isForcedBeforeTheBatchThatReferencesIt(Durability mode) {
    Path dir = temp.resolve("store");
    byte[] chunk = random(100_000, 1);
    try (Store store = open(dir, mode)) {
      store.write(new Batch().put(Column.CHUNKS, new byte[] {1}, chunk)
          .put(Column.HEADS, new byte[] {2}, new byte[] {3}));
    }

    List<Event> events = journal.events().stream()
        .filter(e -> !(e instanceof Write w) || w.file().equals(segment(dir))).toList();
    int lastWrite = -1;
    int force = -1;
    int batch = -1;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      if (e instanceof Write) {
        lastWrite = i;
      } else if (e instanceof Force f && f.file().equals(segment(dir)) && force < 0
          && lastWrite >= 0) {
        force = i;
      } else if (e instanceof Mark) {
        batch = i;
      }
    }
    assertThat(lastWrite).as("the chunk was written: %s", events).isNotNegative();
    assertThat(force).as("the chunk file was forced after its writes: %s", events)
        .isGreaterThan(lastWrite);
    assertThat(batch).as("and before the batch: %s", events).isGreaterThan(force);
    // What a crash at the batch would have kept of the segment holds the chunk it references.
    assertThat(durableAtBatch).hasSize(1);
    assertThat(Arrays.copyOf(durableAtBatch.get(0), chunk.length)).isEqualTo(chunk);
  }

  @Test
  void write_noSpaceLeftForChunks_failsNamingTheStore_storesNothing_andLaterWritesWork() {
    Path dir = temp.resolve("store");
    byte[] chunk = random(100_000, 1);
    try (Store store = open(dir, Durability.BATCH)) {
      journal.failWrites(p -> p.equals(segment(dir)), "No space left on device");
      assertThatThrownBy(() -> store.write(new Batch().put(Column.CHUNKS, new byte[] {1}, chunk)
          .put(Column.HEADS, new byte[] {2}, new byte[] {3})))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
          .hasMessageStartingWith("no space left on device")
          .hasMessageContaining("store " + dir.toAbsolutePath())
          .hasMessageContaining("nothing of this write was stored");
      assertThat(store.contains(Column.CHUNKS, new byte[] {1})).isFalse();
      assertThat(store.get(Column.HEADS, new byte[] {2})).isEmpty();
      int alignment = ((RocksStore) store).chunkAlignment();

      journal.stopFailing();
      store.write(new Batch().put(Column.CHUNKS, new byte[] {1}, chunk)
          .put(Column.HEADS, new byte[] {2}, new byte[] {3}));
      // a full disk is not the file system refusing direct I/O: appends stay as they were
      assertThat(((RocksStore) store).chunkAlignment()).isEqualTo(alignment);
    }
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      assertThat(store.get(Column.CHUNKS, new byte[] {1})).hasValueSatisfying(
          v -> assertThat(v).isEqualTo(chunk));
      assertThat(store.get(Column.HEADS, new byte[] {2})).contains(new byte[] {3});
    }
  }

  @Test
  void failure_rocksDbOutOfSpace_saysNoSpaceLeftOnDeviceAndNamesTheStore() {
    Path dir = temp.resolve("store");
    RocksDBException full = new RocksDBException("IO error: No space left on device: While"
        + " appending to file: " + dir + "/000008.log", new Status(Status.Code.IOError,
        Status.SubCode.NoSpace, "No space left on device"));

    ReplikonException e = RocksStore.failure(dir, "write a batch of 3", full);

    assertThat(e.reason()).isEqualTo(Reason.STORE_IO);
    assertThat(e.getMessage()).startsWith("no space left on device: store " + dir
        + " cannot write a batch of 3").contains("nothing of it was stored");
    assertThat(e).hasCause(full);
  }

  @Test
  void reference_pastTheEndOfItsSegment_failsBeforeAllocating() {
    try (ChunkFiles files = ChunkFiles.open(temp, true)) {
      byte[] reference = files.append(List.of(random(5000, 1)))[0];
      ByteBuffer.wrap(reference).putInt(12, Integer.MAX_VALUE); // a length no file holds
      assertThatThrownBy(() -> files.read(reference))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.STORE_IO))
          .hasMessageContaining("ends before the " + Integer.MAX_VALUE + " bytes at offset 0");
    }
  }
}
