package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesSourceTest {
  @TempDir Path dir;
  private final Address address = new Address("jsonl-test", UUID.randomUUID());

  private CollectorConfig config() {
    return CollectorConfig.of(PeerConfig.server(dir.resolve("store")), address)
        .withFlushInterval(Duration.ofHours(1));
  }

  static List<Transaction> transactions(Peer peer, Address address) {
    List<Transaction> out = new ArrayList<>();
    for (Hash id : peer.commitsAfter(address, Set.of()).join()) {
      out.addAll(peer.transactions(peer.commit(id)));
    }
    return out;
  }

  private Path lines(String name, int from, int to) throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = from; i < to; i++) {
      text.append("{\"id\":").append(i).append(",\"text\":\"línea ").append(i).append(" 🐦\"}\n");
    }
    Path file = dir.resolve(name);
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    return file;
  }

  @Test
  void run_file_commitsEachLineAsAddTweet_andMalformedOrIdlessLinesAreSkippedByNumber()
      throws Exception {
    Path file = lines("t.jsonl", 0, 2500);
    Files.writeString(file, "{not json\n\n   \n[1,2]\n{\"text\":\"no id\"}\n{\"id_str\":\"12\"}\n"
        + "{\"id\":2500}", StandardOpenOption.APPEND);
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(JsonLinesSource.class);
    var logged = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logged.start();
    log.addAppender(logged);
    try (Collector c = Collector.start(config())) {
      JsonLinesSource source = new JsonLinesSource(JsonLinesConfig.file(file));
      source.run(c);
      c.flush().join();
      List<Transaction> txs = transactions(c.peer(), address);
      assertThat(txs).hasSize(2502);
      assertThat(txs).allMatch(t -> t.fn().equals("add-tweet"));
      assertThat(txs.get(7).params().get("text").asText()).isEqualTo("línea 7 🐦");
      assertThat(txs.get(2500).params().get("id_str").asText()).isEqualTo("12");
      assertThat(txs.get(2501).params().get("id").asInt()).isEqualTo(2500); // no final newline
      assertThat(source.skipped()).isEqualTo(3);
    } finally {
      log.detachAppender(logged);
    }
    assertThat(logged.list).extracting(e -> e.getFormattedMessage())
        .anySatisfy(m -> assertThat(m).contains("line 2504: skipped").contains("an array"))
        .anySatisfy(m -> assertThat(m).contains("line 2505: skipped").contains("\"id\""));
  }

  @Test
  void run_lineLongerThanTheReadBlock_isReadWhole_andCrlfAndBlankLinesAreFine() throws Exception {
    Path file = dir.resolve("long.jsonl");
    String huge = "{\"id\":-1,\"text\":\"" + "x".repeat(9 << 20) + "\"}";
    Files.writeString(file, "{\"id\":0}\r\n\r\n" + huge + "\n  \n{\"id\":1}\r\n{\"id\":2}",
        StandardCharsets.UTF_8);
    try (Collector c = Collector.start(config())) {
      JsonLinesSource source = new JsonLinesSource(JsonLinesConfig.file(file));
      source.run(c);
      c.flush().join();
      assertThat(transactions(c.peer(), address)).extracting(t -> t.params().get("id").asInt())
          .containsExactly(0, 1, 2);
      assertThat(source.skipped()).isEqualTo(1); // read whole, then too large for a chunk
    }
  }

  @Test
  void indexOfNewline_findsTheFirstOne_atEveryPosition() {
    for (int length = 0; length < 40; length++) {
      for (int at = 0; at <= length; at++) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) 0x8a); // never mistaken for a newline
        if (at < length) {
          b[at] = '\n';
          if (at + 3 < length) {
            b[at + 3] = '\n';
          }
        }
        assertThat(JsonLinesSource.indexOfNewline(b, 0, length)).as("%d in %d", at, length)
            .isEqualTo(at < length ? at : -1);
      }
    }
  }

  @Test
  void run_sameFileAfterARestart_resumesWithoutRepeatingALine() throws Exception {
    Path file = lines("t.jsonl", 0, 1500);
    try (Collector c = Collector.start(config())) {
      new JsonLinesSource(JsonLinesConfig.file(file).withFn("add-event")).run(c);
    }
    lines("t.jsonl", 1500, 1600);
    try (Collector c = Collector.start(config())) {
      new JsonLinesSource(JsonLinesConfig.file(file).withFn("add-event")).run(c);
      c.flush().join();
      List<Transaction> txs = transactions(c.peer(), address);
      assertThat(txs).hasSize(1600);
      assertThat(txs).extracting(t -> t.params().get("id").asInt())
          .doesNotHaveDuplicates().isSorted();
      assertThat(txs).allMatch(t -> t.fn().equals("add-event"));
    }
  }

  @Test
  void run_crashBeforeTheLastCommit_readsTheUncommittedLinesAgain_onceEach() throws Exception {
    Path file = lines("t.jsonl", 0, 2500);
    Collector crashed = Collector.start(config().withFlushThreshold(1000));
    new JsonLinesSource(JsonLinesConfig.file(file)).run(crashed);
    assertThat(crashed.stats().accepted()).isEqualTo(2500);
    // lines of a file are not journaled; a crash loses what was not committed, as the peer
    // going away under the collector does here
    crashed.peer().close();
    crashed.close();
    assertThat(crashed.stats().committed()).isLessThan(2500);
    try (Collector c = Collector.start(config())) {
      assertThat(c.stats().recovered()).isZero();
      new JsonLinesSource(JsonLinesConfig.file(file)).run(c);
      c.flush().join();
      List<Transaction> txs = transactions(c.peer(), address);
      assertThat(txs).extracting(t -> t.params().get("id").asInt())
          .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 2500).boxed().toList());
    }
  }

  @Test
  void run_aCommitEndsWithASubmission_evenPastTheThreshold() throws Exception {
    Path file = lines("t.jsonl", 0, 2500);
    try (Collector c = Collector.start(config().withFlushThreshold(1500))) {
      new JsonLinesSource(JsonLinesConfig.file(file)).run(c);
      c.flush().join();
      List<Integer> sizes = new ArrayList<>();
      for (Hash id : c.peer().commitsAfter(address, Set.of()).join()) {
        int n = c.peer().transactions(c.peer().commit(id)).size();
        if (n > 0) {
          sizes.add(n);
        }
      }
      // submissions of 1,000 lines: the first commit takes 1,500 and the rest of the second
      assertThat(sizes).containsExactly(2000, 500);
    }
  }

  @Test
  void run_following_picksUpLinesAppendedLater_evenWrittenInPieces() throws Exception {
    Path file = lines("t.jsonl", 0, 10);
    try (Collector c = Collector.start(config())) {
      JsonLinesSource source = new JsonLinesSource(JsonLinesConfig.file(file).following());
      CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
        try {
          source.run(c);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> c.stats().accepted() == 10);
      Files.writeString(file, "{\"id\":10,\"te", StandardOpenOption.APPEND); // half a line
      Thread.sleep(500); // the source polls meanwhile and must hold the half line back
      Files.writeString(file, "xt\":\"x\"}\n", StandardOpenOption.APPEND);
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> c.stats().accepted() == 11);
      source.close();
      running.join();
      c.flush().join();
      assertThat(transactions(c.peer(), address)).last()
          .satisfies(t -> assertThat(t.params().get("text").asText()).isEqualTo("x"));
    }
  }

  @Test
  void run_missingFile_failsNamingIt() {
    try (Collector c = Collector.start(config())) {
      assertThatThrownBy(() -> new JsonLinesSource(JsonLinesConfig.file(dir.resolve("nope")))
          .run(c)).hasMessageContaining("no such file").hasMessageContaining("nope");
    }
  }
}
