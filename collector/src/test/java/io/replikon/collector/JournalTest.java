package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
  @TempDir Path dir;

  private static List<byte[]> events(String... texts) {
    List<byte[]> out = new ArrayList<>();
    for (String t : texts) {
      out.add(t.getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  private static List<String> texts(List<Journal.Entry> entries) {
    List<String> out = new ArrayList<>();
    for (Journal.Entry e : entries) {
      e.events().forEach(b -> out.add(new String(b, StandardCharsets.UTF_8)));
    }
    return out;
  }

  private Journal open(long committed, List<Journal.Entry> durable,
      List<Journal.Recovered> recovered) {
    return Journal.open(dir, committed, new KeyWindow(100), durable::add, recovered::add);
  }

  @Test
  void append_concurrently_numbersEventsInOrderAndTellsTheListenerInOrder() {
    List<Journal.Entry> durable = new CopyOnWriteArrayList<>();
    try (Journal j = open(0, durable, new ArrayList<>())) {
      List<CompletableFuture<Journal.Entry>> all = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        all.add(j.append(events("a" + i, "b" + i), new byte[0], 0));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    }
    long expected = 1;
    for (Journal.Entry e : durable) {
      assertThat(e.firstSeq()).isEqualTo(expected);
      expected += e.events().size();
    }
    assertThat(expected).isEqualTo(401);
  }

  @Test
  void open_afterCheckpoint_handsBackOnlyTheEventsAfterIt_evenInsideAnEntry() {
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      j.append(events("e1", "e2", "e3"), "c1".getBytes(StandardCharsets.UTF_8), 0).join();
      j.append(events("e4", "e5"), "c2".getBytes(StandardCharsets.UTF_8), 0).join();
    }
    List<Journal.Recovered> recovered = new ArrayList<>();
    List<Journal.Entry> durable = new ArrayList<>();
    try (Journal j = open(2, durable, recovered)) {
      assertThat(texts(recovered.get(0).uncommitted())).containsExactly("e3", "e4", "e5");
      assertThat(recovered.get(0).uncommitted().get(0).firstSeq()).isEqualTo(3);
      assertThat(new String(recovered.get(0).lastCursor().orElseThrow(), StandardCharsets.UTF_8))
          .isEqualTo("c2");
      assertThat(j.append(events("e6"), new byte[0], 0).join().firstSeq()).isEqualTo(6);
    }
  }

  @Test
  void open_recordCutShortByACrash_isTruncatedAndTheRestKept() throws IOException {
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      j.append(events("kept"), new byte[0], 0).join();
      j.append(events("torn apart"), new byte[0], 0).join();
    }
    Path segment = segments().get(0);
    long size = Files.size(segment);
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(size - 3); // the second record loses its tail, as in a crash mid-write
    }
    List<Journal.Recovered> recovered = new ArrayList<>();
    try (Journal j = open(0, new ArrayList<>(), recovered)) {
      assertThat(texts(recovered.get(0).uncommitted())).containsExactly("kept");
      assertThat(j.append(events("next"), new byte[0], 0).join().firstSeq()).isEqualTo(2);
    }
    List<Journal.Recovered> again = new ArrayList<>();
    open(0, new ArrayList<>(), again).close();
    assertThat(texts(again.get(0).uncommitted())).containsExactly("kept", "next");
  }

  @Test
  void open_flippedByteInTheNewestRecord_dropsThatRecordOnly() throws IOException {
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      j.append(events("good"), new byte[0], 0).join();
      j.append(events("damaged"), new byte[0], 0).join();
    }
    Path segment = segments().get(0);
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 2] ^= 0x40;
    Files.write(segment, bytes);
    List<Journal.Recovered> recovered = new ArrayList<>();
    open(0, new ArrayList<>(), recovered).close();
    assertThat(texts(recovered.get(0).uncommitted())).containsExactly("good");
  }

  @Test
  void release_deletesSegmentsWhoseEventsAreAllCommitted() throws IOException {
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      j.append(events("x"), new byte[0], 0).join();
    }
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      j.append(events("y"), new byte[0], 0).join(); // a new segment: the old one is closed
      assertThat(segments()).hasSize(2);
      j.release(1);
      assertThat(segments()).hasSize(1);
    }
  }

  @Test
  void keys_areRememberedAcrossRestarts() {
    KeyWindow window = new KeyWindow(100);
    List<Journal.Entry> durable = new ArrayList<>();
    try (Journal j = Journal.open(dir, 0, window, durable::add, r -> { })) {
      j.append(events("a", "b"), new byte[0], KeyWindow.hash("request-1")).join();
    }
    KeyWindow reopened = new KeyWindow(100);
    Journal.open(dir, 2, reopened, e -> { }, r -> { }).close();
    assertThat(reopened.get(KeyWindow.hash("request-1"))).isEqualTo(2);
    assertThat(reopened.get(KeyWindow.hash("request-2"))).isEqualTo(-1);
  }

  @Test
  void append_groupsLargerThanTheWriteBuffer_areReadBackByteForByte() {
    java.util.Random random = new java.util.Random(7);
    List<List<byte[]>> submissions = new ArrayList<>();
    for (int s = 0; s < 6; s++) { // sizes around and across the buffer's edges
      List<byte[]> events = new ArrayList<>();
      for (int e = 0; e < 1 + s; e++) {
        byte[] b = new byte[s % 2 == 0 ? Journal.WRITE_BUFFER / 3 + e : 1 + random.nextInt(300)];
        random.nextBytes(b);
        events.add(b);
      }
      submissions.add(events);
    }
    List<CompletableFuture<Journal.Entry>> all = new ArrayList<>();
    try (Journal j = open(0, new ArrayList<>(), new ArrayList<>())) {
      for (List<byte[]> events : submissions) { // queued together: one group, several writes
        all.add(j.append(events, new byte[] {1, 2, 3}, 0));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    }
    List<Journal.Recovered> recovered = new ArrayList<>();
    open(0, new ArrayList<>(), recovered).close();
    List<Journal.Entry> entries = recovered.get(0).uncommitted();
    assertThat(entries).hasSize(submissions.size());
    for (int s = 0; s < submissions.size(); s++) {
      assertThat(entries.get(s).events()).hasSize(submissions.get(s).size());
      for (int e = 0; e < submissions.get(s).size(); e++) {
        assertThat(entries.get(s).events().get(e)).isEqualTo(submissions.get(s).get(e));
      }
      assertThat(entries.get(s).cursor()).containsExactly(1, 2, 3);
    }
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().startsWith("keys")).sorted().toList();
    }
  }

  @Test
  void keys_lostFromKeysLogByACrashBetweenTheTwoFsyncs_areRestoredFromTheRecords()
      throws IOException {
    try (Journal j = Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { })) {
      j.append(events("a"), new byte[0], KeyWindow.hash("request-1")).join();
    }
    Files.write(dir.resolve("keys.log"), new byte[0]); // as if the crash came before its fsync
    try (Journal j = Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { })) {
      j.release(1); // committed: the segment (once closed) and its record may go
    }
    KeyWindow reopened = new KeyWindow(100);
    Journal.open(dir, 1, reopened, e -> { }, r -> { }).close();
    assertThat(reopened.get(KeyWindow.hash("request-1"))).isEqualTo(1);
    assertThat(Files.size(dir.resolve("keys.log"))).isEqualTo(8 + 28); // the header and one entry
  }

  @Test
  void append_afterAGroupFailedHalfWritten_isKeptAndTheFailedGroupIsNot() {
    byte[] big = new byte[3 << 20]; // with the next one, more than the write buffer holds
    Journal j = open(0, new ArrayList<>(), new ArrayList<>());
    List<CompletableFuture<Journal.Entry>> first = List.of(
        j.append(List.of(big, big), new byte[0], 0),
        j.append(java.util.Arrays.asList(big, null), new byte[0], 0)); // fails mid-group
    List<Boolean> failed = new ArrayList<>();
    for (CompletableFuture<Journal.Entry> f : first) {
      failed.add(f.handle((e, t) -> t != null).join());
    }
    assertThat(failed.get(1)).isTrue();
    j.append(events("after"), new byte[0], 0).join();
    j.close();
    List<Journal.Recovered> recovered = new ArrayList<>();
    open(0, new ArrayList<>(), recovered).close();
    List<String> expected = new ArrayList<>();
    if (!failed.get(0)) {
      expected.add(new String(big, StandardCharsets.UTF_8));
      expected.add(new String(big, StandardCharsets.UTF_8));
    }
    expected.add("after");
    assertThat(texts(recovered.get(0).uncommitted())).containsExactlyElementsOf(expected);
  }

}
