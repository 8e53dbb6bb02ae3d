package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of a store directory: created owner-only, never written through a link, and checked at
 * open against what the last clean close held.
 */
class StoreFilesTest {
  @TempDir
  Path temp;

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  private static void assertRefused(Path dir, String... fragments) {
    assertThatThrownBy(() -> Stores.open(StoreConfig.at(dir)).close())
        .isInstanceOfSatisfying(ReplikonException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.STORE_IO);
          assertThat(e.getMessage()).contains(fragments);
        });
  }

  @Test
  void open_lockFileIsASymlink_isRefused_andItsTargetIsUntouched() throws IOException {
    Path dir = temp.resolve("store");
    Stores.open(StoreConfig.at(dir)).close();
    Path target = temp.resolve("precious.txt");
    Files.writeString(target, "precious data");
    Path lock = dir.resolve(StoreDirectory.LOCK);
    Files.delete(lock);
    Files.createSymbolicLink(lock, target);

    assertRefused(dir, lock.toString(), "symbolic link");

    assertThat(Files.readString(target)).isEqualTo("precious data");
    assertThat(Files.isSymbolicLink(lock)).isTrue();
  }

  @Test
  void open_newDirectoryWhoseLockIsASymlink_isRefused_andItsTargetIsUntouched()
      throws IOException {
    Path dir = Files.createDirectory(temp.resolve("empty"));
    Path target = temp.resolve("precious.txt");
    Files.writeString(target, "precious data");
    Files.createSymbolicLink(dir.resolve(StoreDirectory.LOCK), target);

    assertRefused(dir, "symbolic link");

    assertThat(Files.readString(target)).isEqualTo("precious data");
  }

  @Test
  void open_newStore_createsDirectoriesOwnerOnly700_andFiles600() throws IOException {
    Path dir = temp.resolve("a").resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, new byte[] {1}, random(10_000, 1));
    }

    assertThat(mode(temp.resolve("a"))).isEqualTo("rwx------");
    assertThat(mode(dir)).isEqualTo("rwx------");
    assertThat(mode(dir.resolve(ChunkFiles.DIRECTORY))).isEqualTo("rwx------");
    for (String file : new String[] {StoreDirectory.LOCK, StoreDirectory.MARKER,
        CloseRecord.FILE, ChunkFiles.DIRECTORY + "/00000001.chunks"}) {
      assertThat(mode(dir.resolve(file))).as(file).isEqualTo("rw-------");
    }
  }

  @Test
  void open_chunkSegmentShorterThanAtClose_isRefusedNamingTheFileAndWhatToDo()
      throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, new byte[] {1}, random(100_000, 1));
    }
    Path segment = dir.resolve(ChunkFiles.DIRECTORY).resolve("00000001.chunks");
    try (FileChannel c = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      c.truncate(c.size() / 2);
    }

    assertRefused(dir, segment.toString(), "damaged", "replica");
  }

  @Test
  void open_chunkSegmentMissing_isRefused() throws IOException {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, new byte[] {1}, random(100_000, 1));
    }
    Path segment = dir.resolve(ChunkFiles.DIRECTORY).resolve("00000001.chunks");
    Files.delete(segment);

    assertRefused(dir, segment.toString(), "is missing");
  }

  @Test
  void open_closeRecordDamaged_isRefusedNamingIt() throws IOException {
    Path dir = temp.resolve("store");
    Stores.open(StoreConfig.at(dir)).close();
    Files.writeString(dir.resolve(CloseRecord.FILE), "sequence=12x\n", StandardCharsets.UTF_8);

    assertRefused(dir, dir.resolve(CloseRecord.FILE).toString(), "damaged");
  }

  @Test
  void close_recordsTheSequenceAndSegments_andReopenKeepsThemAsALowerBound() {
    Path dir = temp.resolve("store");
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.CHUNKS, new byte[] {1}, random(100_000, 1));
      store.put(Column.HEADS, new byte[] {1}, new byte[] {1});
    }
    CloseRecord first = CloseRecord.read(dir).orElseThrow();
    assertThat(first.sequence()).isEqualTo(2);
    assertThat(first.segments()).containsOnlyKeys(1);
    assertThat(first.segments().get(1)).isGreaterThanOrEqualTo(100_000);

    Stores.open(StoreConfig.at(dir)).close(); // nothing written: the segment stays recorded

    assertThat(CloseRecord.read(dir)).contains(first);
  }
}
