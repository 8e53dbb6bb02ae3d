package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.collector.testkit.RecordingIntake;
import io.replikon.collector.testkit.SourceRunner;
import io.replikon.collector.testkit.TwitterLines;
import io.replikon.collector.testkit.TwitterStreamServer;
import io.replikon.collector.testkit.TwitterStreamServer.StreamRequest;
import io.replikon.error.ReplikonException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

class TwitterSourceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TwitterCredentials CREDENTIALS =
      new TwitterCredentials("consumer-key", "consumer-secret", "access-token", "token-secret");

  private TwitterStreamServer server;
  private RecordingIntake intake;
  private Source source;
  private CompletableFuture<Void> running;
  private ListAppender<ILoggingEvent> logged;

  @BeforeEach
  void startServer() throws Exception {
    server = TwitterStreamServer.start();
    intake = new RecordingIntake();
    logged = new ListAppender<>();
    logged.start();
    sourceLogger().addAppender(logged);
  }

  @AfterEach
  void stop() throws Exception {
    if (source != null) {
      source.close();
      await().until(running::isDone);
    }
    server.close();
    sourceLogger().detachAppender(logged);
  }

  private static ch.qos.logback.classic.Logger sourceLogger() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(TwitterSource.class);
  }

  private void start(URI baseUrl, String... track) {
    source = Sources.twitter(
        new TwitterSourceConfig(Optional.of(baseUrl), List.of(track), CREDENTIALS));
    running = SourceRunner.start(source, intake);
  }

  private static byte[] tweet(String line) throws Exception {
    return Chunk.encode(new Transaction("add-tweet", JSON.readTree(line)));
  }

  @Test
  void run_filter_submitsEachStatusWithItsRawJson() throws Exception {
    List<String> statuses = List.of(
        TwitterLines.status(1050118621198921728L, "alice", "#crdt merge 🎉 in Zürich"),
        TwitterLines.status(1050118621198921729L, "bob", "分散システム 😀👍🏽 java"),
        "{\"id\":1050118621198921730,\"text\":\"escaped \\u00e9 \\ud83d\\ude00 \\/ \\\"q\\\"\","
            + "\"created_at\":\"Wed Oct 10 20:19:26 +0000 2018\",\"big\":12345678901234567890,"
            + "\"ratio\":0.1,\"nested\":{\"a\":[1,{\"b\":null}]}}");
    start(server.baseUrl(), "crdt", "java");
    server.send(statuses.toArray(String[]::new));

    await().until(() -> intake.transactionCount() == 3);

    List<byte[]> expected = List.of(tweet(statuses.get(0)), tweet(statuses.get(1)),
        tweet(statuses.get(2)));
    assertThat(intake.encodedTransactions()).containsExactlyElementsOf(expected);
    assertThat(intake.transactions()).extracting(Transaction::fn).containsOnly("add-tweet");
    assertThat(intake.transactions().get(1).params().get("text").asText())
        .isEqualTo("分散システム 😀👍🏽 java");
    assertThat(intake.transactions().get(2).params().get("text").asText())
        .isEqualTo("escaped é 😀 / \"q\"");
    assertThat(intake.submissions()).allSatisfy(s -> assertThat(s.cursor()).isEmpty());
    StreamRequest request = server.requests().get(0);
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.path()).isEqualTo(TwitterStreamServer.FILTER_PATH);
    assertThat(request.body()).contains("track=crdt%2Cjava");
    assertThat(request.authorization()).startsWith("OAuth ").contains("consumer-key");
  }

  @Test
  void run_noTrackWords_readsSampleStream() throws Exception {
    String status = TwitterLines.status(7, "carol", "sample ✨");
    String base = server.baseUrl().toString();
    start(URI.create(base.substring(0, base.length() - 1))); // no trailing slash
    server.send(status);

    await().until(() -> intake.transactionCount() == 1);

    assertThat(intake.encodedTransactions()).containsExactly(tweet(status));
    assertThat(server.requests()).extracting(StreamRequest::method, StreamRequest::path)
        .containsExactly(tuple("GET",
            TwitterStreamServer.SAMPLE_PATH));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "deletion | deletion notice (not committed): status 1050118621198921728 of user 6253282",
      "limit    | limit notice (not committed): 7 matching statuses withheld",
      "stall    | stall warning (not committed): FALLING_BEHIND",
      "scrubGeo | scrub_geo notice (not committed): user 6253282 up to status 1050118621198921728"})
  void run_notice_isLoggedNotCommitted(String kind, String logLine) throws Exception {
    String notice = switch (kind) {
      case "deletion" -> TwitterLines.deletion(1050118621198921728L, 6253282L);
      case "limit" -> TwitterLines.limit(7);
      case "stall" -> TwitterLines.stallWarning(85);
      case "scrubGeo" -> TwitterLines.scrubGeo(6253282L, 1050118621198921728L);
      default -> throw new IllegalArgumentException(kind);
    };
    String status = TwitterLines.status(42, "dave", "after the notice");
    start(server.baseUrl(), "crdt");
    server.send(notice, "", status); // "" is a keep-alive

    await().until(() -> intake.transactionCount() == 1);
    // twitter4j dispatches lines in order, so the notice was handled before the status.
    assertThat(intake.encodedTransactions()).containsExactly(tweet(status));
    assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(m -> assertThat(m).startsWith(logLine));
  }

  @Test
  void run_statusTwitter4jCannotParse_isCommittedFromItsRawJson() throws Exception {
    String isoDate = "{\"id\":5,\"text\":\"iso date\",\"created_at\":\"2018-10-10T20:19:24Z\"}";
    start(server.baseUrl(), "crdt");
    server.send(isoDate);

    await().until(() -> intake.transactionCount() == 1);

    assertThat(intake.encodedTransactions()).containsExactly(tweet(isoDate));
  }

  @Test
  void run_statusWithANumberThatIsNotAFiniteDouble_isSkipped_theNextIsCommitted() throws Exception {
    String infinite = "{\"id\":6,\"text\":\"too big\",\"score\":1e400}";
    String next = TwitterLines.status(7, "bob", "after it");
    start(server.baseUrl(), "crdt");
    server.send(infinite, next);

    await().until(() -> intake.transactionCount() == 1);

    assertThat(intake.encodedTransactions()).containsExactly(tweet(next));
  }

  @Test
  void run_serverDropsConnection_reconnectsAndReadsMore() throws Exception {
    start(server.baseUrl(), "crdt");
    server.send(TwitterLines.status(1, "a", "one"), TwitterLines.status(2, "a", "two"));
    await().until(() -> intake.transactionCount() == 2);
    server.dropConnection();
    server.send(TwitterLines.status(3, "a", "three 🔁"), TwitterLines.status(4, "a", "four"));

    await().until(() -> intake.transactionCount() == 4);

    assertThat(intake.transactions()).extracting(t -> t.params().get("id").asLong())
        .containsExactly(1L, 2L, 3L, 4L);
    assertThat(server.requests()).hasSize(2)
        .allSatisfy(r -> assertThat(r.path()).isEqualTo(TwitterStreamServer.FILTER_PATH));
  }

  @Test
  void run_serverRefusesWith403_failsWithConnection() {
    server.refuseNextConnection(403,
        "{\"errors\":[{\"message\":\"Please use V2 filtered and sample volume stream\"}]}");
    start(server.baseUrl(), "crdt");

    await().until(running::isDone);

    assertThat(running).failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.CONNECTION))
        .withMessageContaining("403");
  }

  @Test
  void run_overloadedIntake_waitsForCapacityAndRetries() throws Exception {
    intake.overloadNext(2);
    String status = TwitterLines.status(9, "erin", "retry me");
    start(server.baseUrl(), "crdt");
    server.send(status);

    await().until(() -> intake.transactionCount() == 1);

    assertThat(intake.encodedTransactions()).containsExactly(tweet(status));
    assertThat(intake.overloadedAnswers()).isEqualTo(2);
    assertThat(intake.capacityWaits()).isEqualTo(3);
  }

  @Test
  void run_collectorClosed_returns() {
    intake.close();
    start(server.baseUrl(), "crdt");
    server.send(TwitterLines.status(10, "frank", "too late"));

    await().until(running::isDone);

    assertThat(running).isCompleted();
  }

  @Test
  void close_whileRunning_makesRunReturn() {
    start(server.baseUrl(), "crdt");
    await().until(() -> !server.requests().isEmpty());

    source.close();

    await().until(running::isDone);
    assertThat(running).isCompleted();
  }

  @Test
  void twitterSource_routesTwitter4jLoggingThroughSlf4j() {
    start(server.baseUrl(), "crdt");

    assertThat(twitter4j.Logger.getLogger(TwitterSourceTest.class).getClass().getName())
        .isEqualTo("twitter4j.SLF4JLogger");
  }

  @Test
  void describe_namesStreamAndTrackWords() {
    Source twitter = Sources.twitter(new TwitterSourceConfig(Optional.empty(),
        List.of("crdt", "java"), CREDENTIALS));

    assertThat(twitter.describe())
        .isEqualTo("twitter filter track=crdt,java at https://stream.twitter.com/1.1/");
  }
}
