package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import io.replikon.storage.testkit.RecordingFileChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The journal under damage, its file modes, and the order of its writes and forces. */
class JournalDamageTest {
  @TempDir Path dir;

  private static final int EVENTS = 10;

  /** One event: the transaction {@code ["add-tweet", {"id": i}]}, encoded. */
  private static List<byte[]> event(int i) {
    byte[] json = ("{\"id\":" + i + "}").getBytes(StandardCharsets.UTF_8);
    return List.of(Chunk.encodeJson("add-tweet", json, 0, json.length));
  }

  /** Names the events of {@code entries} {@code event-ID}. */
  private static List<String> texts(List<Journal.Entry> entries) {
    List<String> out = new ArrayList<>();
    for (Journal.Entry e : entries) {
      for (byte[] b : e.events()) {
        int id = -1;
        for (int i = 0; i <= EVENTS; i++) {
          if (Arrays.equals(b, event(i).get(0))) {
            id = i;
          }
        }
        out.add("event-" + id);
      }
    }
    return out;
  }

  /** Journals ten keyed submissions of one event each, one group each; returns the segment. */
  private Path tenRecords(Path journal) throws IOException {
    try (Journal j = Journal.open(journal, 0, new KeyWindow(100), e -> { }, r -> { })) {
      for (int i = 0; i < EVENTS; i++) {
        j.append(event(i), new byte[0], KeyWindow.hash("key-" + i)).join();
      }
    }
    try (Stream<Path> s = Files.list(journal)) {
      return s.filter(p -> p.getFileName().toString().matches("\\d+\\.log")).findFirst()
          .orElseThrow();
    }
  }

  /** Flips 8 bytes in the middle of record 4 (of 10 equal records); returns its offset. */
  private static long damageRecordFour(Path segment) throws IOException {
    byte[] bytes = Files.readAllBytes(segment);
    int record = bytes.length / EVENTS;
    int at = 4 * record + record / 2 - 4;
    for (int i = 0; i < 8; i++) {
      bytes[at + i] ^= (byte) 0x5a;
    }
    Files.write(segment, bytes);
    return 4L * record;
  }

  @Test
  void open_bytesFlippedMidSegmentWithValidRecordsAfter_isRefusedNamingTheFileAndOffset()
      throws IOException {
    Path segment = tenRecords(dir);
    long offset = damageRecordFour(segment);
    long size = Files.size(segment);
    assertThatThrownBy(() -> Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { }))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("at byte " + offset)
        .hasMessageContaining("--repair-journal");
    assertThat(Files.size(segment)).isEqualTo(size); // nothing truncated
  }

  @Test
  void open_withRepair_keepsTheRecordsAfterTheDamage_logsTheCount_andForgetsTheDroppedKeys()
      throws IOException {
    Path segment = tenRecords(dir);
    damageRecordFour(segment);
    Logger log = (Logger) LoggerFactory.getLogger(Journal.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    log.addAppender(logged);
    List<Journal.Recovered> recovered = new ArrayList<>();
    KeyWindow keys = new KeyWindow(100);
    try {
      Journal.open(dir, 0, keys, e -> { }, recovered::add, true, Journal.FILES).close();
    } finally {
      log.detachAppender(logged);
    }
    assertThat(texts(recovered.get(0).uncommitted())).containsExactly("event-0", "event-1",
        "event-2", "event-3", "event-5", "event-6", "event-7", "event-8", "event-9");
    assertThat(logged.list).anySatisfy(e ->
        assertThat(e.getFormattedMessage()).contains("events lost: 1"));
    assertThat(keys.get(KeyWindow.hash("key-4"))).isEqualTo(-1);
    assertThat(keys.get(KeyWindow.hash("key-5"))).isEqualTo(1);

    // repaired for good: a plain open takes it, the key stays forgotten, no seq is reused
    KeyWindow again = new KeyWindow(100);
    List<Journal.Recovered> second = new ArrayList<>();
    try (Journal j = Journal.open(dir, 0, again, e -> { }, second::add)) {
      assertThat(texts(second.get(0).uncommitted())).hasSize(9);
      assertThat(again.get(KeyWindow.hash("key-4"))).isEqualTo(-1);
      assertThat(j.append(event(10), new byte[0], 0).join().firstSeq()).isEqualTo(11);
    }
  }

  @Test
  void collector_afterRepair_acceptsARetryOfADroppedSubmission_notAsARepeat() throws IOException {
    Path journal = dir.resolve("journal");
    damageRecordFour(tenRecords(journal));
    Address address = new Address("damage", UUID.randomUUID());
    CollectorConfig config = CollectorConfig.of(PeerConfig.server(dir.resolve("store")), address)
        .withJournal(journal).withFlushInterval(Duration.ofHours(1));
    assertThatThrownBy(() -> Collector.start(config)).isInstanceOf(ReplikonException.class)
        .hasMessageContaining("damaged");
    try (Collector collector = Collector.start(config.withJournalRepair())) {
      assertThat(collector.stats().committed()).isEqualTo(9);
      Accepted retry = collector.submit(Submission.of(event(4)).withIdempotencyKey("key-4"))
          .join();
      assertThat(retry.repeat()).isFalse();
      Accepted kept = collector.submit(Submission.of(event(5)).withIdempotencyKey("key-5"))
          .join();
      assertThat(kept.repeat()).isTrue();
    }
  }

  @Test
  void open_tailOfAnOlderSegmentDamaged_isRefused_andRepairKeepsTheNewerSegment()
      throws IOException {
    try (Journal j = Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { })) {
      j.append(event(0), new byte[0], 0).join();
      j.append(event(1), new byte[0], 0).join();
    }
    try (Journal j = Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { })) {
      j.append(event(2), new byte[0], 0).join(); // a new segment
    }
    Path older = dir.resolve("00000000000000000001.log");
    byte[] bytes = Files.readAllBytes(older);
    bytes[bytes.length - 2] ^= 0x40;
    Files.write(older, bytes);
    assertThatThrownBy(() -> Journal.open(dir, 0, new KeyWindow(100), e -> { }, r -> { }))
        .isInstanceOf(ReplikonException.class).hasMessageContaining(older.toString());
    List<Journal.Recovered> recovered = new ArrayList<>();
    Journal.open(dir, 0, new KeyWindow(100), e -> { }, recovered::add, true, Journal.FILES)
        .close();
    assertThat(texts(recovered.get(0).uncommitted())).containsExactly("event-0", "event-2");
  }

  @Test
  void files_areCreatedOwnerOnly() throws IOException {
    assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path journal = dir.resolve("journal");
    Path segment = tenRecords(journal);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(journal)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(segment)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        journal.resolve("keys.log")))).isEqualTo("rw-------");
  }

  @Test
  void append_isForcedBeforeItIsAcknowledged_soACrashAtTheAcknowledgementKeepsItAndItsKey()
      throws IOException {
    RecordingFileChannel.Journal disk = new RecordingFileChannel.Journal();
    Path crash = dir.resolve("crash");
    Path journalDir = dir.resolve("journal");
    try (Journal j = Journal.open(journalDir, 0, new KeyWindow(100), e -> { },
        r -> { }, false, (file, options) -> disk.open(file, options))) {
      j.append(event(0), new byte[0], KeyWindow.hash("first")).join();
      j.append(event(1), new byte[0], KeyWindow.hash("second")).thenRun(() -> {
        disk.mark("ack");
        try {
          // the power fails as the client hears "accepted" (the journal forces its directory
          // by itself, unseen: names are taken as they are)
          disk.crashNowTrustingNames(journalDir, crash);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).join();
    }
    List<String> ops = disk.events().stream().map(RecordingFileChannel.Event::describe).toList();
    List<String> beforeAck = ops.subList(0, ops.indexOf("ack"));
    String segment = "00000000000000000001.log";
    assertThat(beforeAck.lastIndexOf("force " + segment))
        .isGreaterThan(beforeAck.lastIndexOf("write " + segment));
    assertThat(beforeAck.lastIndexOf("write keys.log")) // keys after the records they name
        .isGreaterThan(beforeAck.lastIndexOf("force " + segment));
    assertThat(beforeAck.lastIndexOf("force keys.log"))
        .isGreaterThan(beforeAck.lastIndexOf("write keys.log"));
    KeyWindow keys = new KeyWindow(100);
    List<Journal.Recovered> recovered = new ArrayList<>();
    Journal.open(crash, 0, keys, e -> { }, recovered::add).close();
    assertThat(texts(recovered.get(0).uncommitted())).containsExactly("event-0", "event-1");
    assertThat(keys.get(KeyWindow.hash("second"))).isEqualTo(1);
  }
}
