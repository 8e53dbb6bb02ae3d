package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.PeerConfig;
import io.replikon.collector.testkit.JetstreamLines;
import io.replikon.collector.testkit.JetstreamServer;
import io.replikon.collector.testkit.SourceRunner;
import io.replikon.collector.testkit.TwitterLines;
import io.replikon.collector.testkit.TwitterStreamServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stream sources into a real collector: journal, commit, checkpointed cursor. */
class StreamSourcesIT {
  @TempDir Path dir;
  private final Address address = new Address("streams", UUID.randomUUID());

  private CollectorConfig config() {
    return CollectorConfig.of(PeerConfig.server(dir.resolve("store")), address)
        .withFlushInterval(Duration.ofMillis(200));
  }

  @Test
  void twitter_statusesAreCommittedAsAddTweet_andNoticesAreNot() throws Exception {
    try (TwitterStreamServer twitter = TwitterStreamServer.start();
        Collector collector = Collector.start(config())) {
      Source source = Sources.twitter(new TwitterSourceConfig(Optional.of(twitter.baseUrl()),
          List.of("replikon"), new TwitterCredentials("ck", "cs", "at", "ats")));
      CompletableFuture<Void> running = SourceRunner.start(source, collector);
      twitter.send(TwitterLines.status(1, "ada", "Grüße 🚀 replikon"),
          TwitterLines.deletion(7, 8), TwitterLines.limit(3), TwitterLines.stallWarning(80),
          TwitterLines.status(2, "grace", "日本語 replikon"));
      Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> collector.stats().committed() == 2);
      source.close();
      running.join();
      List<Transaction> txs = JsonLinesSourceTest.transactions(collector.peer(), address);
      assertThat(txs).extracting(Transaction::fn).containsExactly("add-tweet", "add-tweet");
      assertThat(txs.get(0).params().get("text").asText()).isEqualTo("Grüße 🚀 replikon");
      assertThat(txs.get(1).params().get("user").get("screen_name").asText()).isEqualTo("grace");
    }
  }

  @Test
  void jetstream_restartOfTheCollector_resumesFromTheCommittedCursorWithoutRepeats()
      throws Exception {
    String did = "did:plc:replikontest";
    try (JetstreamServer jetstream = JetstreamServer.start()) {
      JetstreamSourceConfig sourceConfig = new JetstreamSourceConfig(jetstream.url(),
          JetstreamSourceConfig.DEFAULT_COLLECTIONS);
      try (Collector collector = Collector.start(config())) {
        Source source = Sources.jetstream(sourceConfig);
        CompletableFuture<Void> running = SourceRunner.start(source, collector);
        Awaitility.await().atMost(Duration.ofSeconds(30))
            .until(() -> jetstream.openConnections() == 1);
        jetstream.append(JetstreamLines.post(did, 1_000, "a1", "first ✨"),
            JetstreamLines.identity(did, 1_001, 5), JetstreamLines.post(did, 1_002, "a2", "二"));
        Awaitility.await().atMost(Duration.ofSeconds(30))
            .until(() -> collector.stats().committed() == 2);
        source.close();
        running.join();
      }
      // While the collector is down, more posts arrive; the restart must pick up exactly those.
      jetstream.append(JetstreamLines.post(did, 1_003, "a3", "three"),
          JetstreamLines.post(did, 1_004, "a4", "four"));
      try (Collector collector = Collector.start(config())) {
        Source source = Sources.jetstream(sourceConfig);
        CompletableFuture<Void> running = SourceRunner.start(source, collector);
        Awaitility.await().atMost(Duration.ofSeconds(30))
            .until(() -> JsonLinesSourceTest.transactions(collector.peer(), address).size() == 4);
        source.close();
        running.join();
        List<Transaction> txs = JsonLinesSourceTest.transactions(collector.peer(), address);
        assertThat(txs).extracting(t -> t.params().get("commit").get("rkey").asText())
            .containsExactly("a1", "a2", "a3", "a4");
        assertThat(txs).extracting(Transaction::fn).containsOnly("add-post");
      }
    }
  }
}
