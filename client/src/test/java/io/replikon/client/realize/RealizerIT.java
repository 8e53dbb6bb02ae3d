package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Realizers reading real peers over loopback into real sinks in temporary directories. */
class RealizerIT extends PeerFixture {
  static final Address TWEETS = new Address("alice", UUID.fromString(
      "12d49511-e733-4007-937b-460c3794fae9"));
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;





  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  static Transaction tweet(long id, String text) {
    ObjectNode status = JsonNodeFactory.instance.objectNode().put("id", id)
        .put("id_str", Long.toString(id)).put("created_at", "Wed Oct 10 20:19:24 +0000 2018")
        .put("text", text);
    status.putObject("user").put("screen_name", "user" + (id % 7));
    return new Transaction("add-tweet", status);
  }

  static Transaction note(String text) {
    return new Transaction("add-note", JsonNodeFactory.instance.textNode(text));
  }

  /** Makes {@code commits} commits of {@code perCommit} tweets each; returns their count. */
  static int tweets(Peer peer, int commits, int perCommit, long firstId) throws Exception {
    long id = firstId;
    for (int c = 0; c < commits; c++) {
      List<Transaction> txs = new ArrayList<>();
      for (int i = 0; i < perCommit; i++, id++) {
        txs.add(tweet(id, "tweet " + id + (id % 10 == 0 ? " about ethereum" : " about bitcoin")));
      }
      get(peer.transact(TWEETS, txs));
    }
    return commits * perCommit;
  }

  static long count(Path db, String sql) throws Exception {
    return count("jdbc:sqlite:" + db, sql);
  }

  /** The single number {@code sql} selects from the database at a JDBC URL. */
  static long count(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  static List<String> column(Path db, String sql) throws Exception {
    return column("jdbc:sqlite:" + db, sql);
  }

  /** The first column of what {@code sql} selects from the database at a JDBC URL. */
  static List<String> column(String url, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }

  static void assertExactlyOnce(Path db, int transactions) throws Exception {
    assertExactlyOnce("jdbc:sqlite:" + db, transactions);
  }

  /** {@code ops} holds {@code transactions} rows and no (commit, index) twice. */
  static void assertExactlyOnce(String url, int transactions) throws Exception {
    assertThat(count(url, "SELECT count(*) FROM ops")).isEqualTo(transactions);
    assertThat(count(url, "SELECT count(*) FROM (SELECT commit_id, tx_index FROM ops "
        + "GROUP BY commit_id, tx_index HAVING count(*) > 1) AS twice")).as("applied twice")
        .isZero();
  }

  @Test
  void realize_sqlite_appliesEveryTransactionInCommitOrder() throws Exception {
    Path db = dir.resolve("tweets.db");
    appliesEveryTransactionInCommitOrder("jdbc:sqlite:" + db, () -> Sinks.sqlite(db));
    assertThat(column(db, "SELECT screen_name || ' ' || created_at FROM tweets WHERE id = 8"))
        .containsExactly("user1 2018-10-10T20:19:24Z");
  }

  @Test
  void realize_sqlite_fullTextIndexFindsTweetText() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    ObjectNode extended = (ObjectNode) tweet(1000, "short").params();
    extended.putObject("extended_tweet").put("full_text", "the long ethereum version");
    get(server.transact(TWEETS, List.of(new Transaction("add-tweet", extended))));
    tweets(server, 2, 10, 1);
    Path db = dir.resolve("fts.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer.builder(client(server), TWEETS, sink).build().runUntilSynced();
    }
    assertThat(count(db, "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'ethereum'"))
        .isEqualTo(3); // ids 10, 20 and the extended one
    assertThat(count(db, "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'bitcoin'"))
        .isEqualTo(18);
  }

  @Test
  void realize_unknownFn_stopsNamingItAndTheCommit() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    get(server.transact(TWEETS, List.of(tweet(1, "a"))));
    Hash bad = get(server.transact(TWEETS, List.of(tweet(2, "b"), note("n"))));
    List<String> seen = new CopyOnWriteArrayList<>();
    Realizer realizer = Realizer.builder(client(server), TWEETS,
        Sinks.callback(t -> seen.add(t.key())))
        .accept("add-tweet").batchSize(1).build();
    assertThatThrownBy(realizer::runUntilSynced)
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("'add-note'").hasMessageContaining(bad.hex())
        .extracting(e -> ((ReplikonException) e).reason())
        .isEqualTo(ReplikonException.Reason.INVALID_INPUT);
    assertThat(seen).as("what came before the unknown fn").hasSize(2)
        .last().isEqualTo(bad.hex() + ":0");
  }

  @Test
  void realize_unknownFn_isSkippedWhenAsked_andHandlersGetTheirFn() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    get(server.transact(TWEETS, List.of(tweet(1, "a"), note("n1"),
        new Transaction("retract", JsonNodeFactory.instance.numberNode(1)), note("n2"))));
    Path db = dir.resolve("notes.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Progress p = Realizer.builder(client(server), TWEETS, sink)
          .handle("add-note", (sql, t) -> {
            try (Statement s = sql.connection().createStatement()) {
              s.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)");
            }
            var insert = sql.statement("INSERT INTO notes (text) VALUES (?)");
            insert.setString(1, t.transaction().params().asText());
            insert.executeUpdate();
          })
          .skipUnknown(true).build().runUntilSynced();
      assertThat(p.transactionsApplied()).isEqualTo(4);
    }
    assertThat(column(db, "SELECT fn FROM ops ORDER BY seq"))
        .containsExactly("add-tweet", "add-note", "add-note");
    assertThat(column(db, "SELECT text FROM notes")).containsExactly("n1", "n2");
    assertThat(count(db, "SELECT count(*) FROM tweets")).isEqualTo(1);
  }

  @Test
  void realize_live_appliesCommitsMadeAfterItStarted() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int before = tweets(server, 2, 3, 1);
    Peer reader = client(server);
    Path db = dir.resolve("live.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer.Live live = Realizer.builder(reader, TWEETS, sink).build().start();
      try (live) {
        await().atMost(Duration.ofSeconds(30))
            .until(() -> count(db, "SELECT count(*) FROM ops") == before);
        int after = tweets(server, 3, 2, 100);
        await().atMost(Duration.ofSeconds(30))
            .until(() -> count(db, "SELECT count(*) FROM ops") == before + after);
        assertThat(live.stopped()).isNotDone();
      }
      assertThat(live.stopped()).isCompleted();
      assertExactlyOnce(db, before + 6);
    }
  }

  @Test
  void realize_sqlite_crashInTheMiddleOfABatch_resumesExactlyOnce() throws Exception {
    Path db = dir.resolve("crash.db");
    crashInTheMiddleOfABatch_resumesExactlyOnce("jdbc:sqlite:" + db, () -> Sinks.sqlite(db));
  }

  @ParameterizedTest(name = "crash at tweet {0}")
  @ValueSource(longs = {3, 4, 6})
  void realize_sqlite_badTransactions_areRejected_andACrashKeepsExactlyOnce(long crashAt)
      throws Exception {
    Path db = dir.resolve("rejected.db");
    rejectsWhatItCannotApply_andResumesExactlyOnce("jdbc:sqlite:" + db, () -> Sinks.sqlite(db),
        crashAt);
  }

  @Test
  void realize_sqlite_strict_stopsAtTheFirstTransactionItCannotApply() throws Exception {
    Path db = dir.resolve("strict.db");
    strict_stopsAtTheFirstTransactionItCannotApply("jdbc:sqlite:" + db, () -> Sinks.sqlite(db));
  }

  @Test
  void realize_sqlite_databaseFailureInAHandler_stopsRatherThanRejects() throws Exception {
    Peer server = server();
    goodBadGood(server);
    Path db = dir.resolve("failing.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer failing = Realizer.builder(client(server), TWEETS, sink).batchSize(2)
          .handle("add-tweet", (sql, t) -> {
            if (t.transaction().params().path("id").asLong() == 5) {
              throw new java.sql.SQLException("disk I/O error");
            }
            Tweets.insert((JdbcSink) sql, t);
          }).build();
      assertThatThrownBy(failing::runUntilSynced).isInstanceOf(ReplikonException.class)
          .hasMessageContaining("disk I/O error")
          .extracting(e -> ((ReplikonException) e).reason())
          .isEqualTo(ReplikonException.Reason.STORE_IO);
    }
    assertThat(count(db, "SELECT count(*) FROM rejected")).as("the bad data before it")
        .isEqualTo(2);
    assertThat(column(db, "SELECT id FROM tweets ORDER BY id")).as("4 in the batch of 5")
        .containsExactly("1", "2", "3");
  }

  @Test
  void realize_jsonLinesAndCallback_recordNoRejections_andStop() throws Exception {
    Peer server = server();
    goodBadGood(server);
    Peer reader = client(server);
    List<String> seen = new CopyOnWriteArrayList<>();
    try (Sink<Callback> sink = Sinks.callback(t -> {
      if (!t.transaction().params().isObject()) {
        throw new IllegalArgumentException("not a status");
      }
      seen.add(t.key());
    })) {
      assertThat(sink.recordsRejections()).isFalse();
      assertThatThrownBy(Realizer.builder(reader, TWEETS, sink).accept("add-tweet").build()
          ::runUntilSynced).as("the callback's exception is the caller's")
          .isInstanceOf(IllegalArgumentException.class).hasMessage("not a status");
    }
    Path file = dir.resolve("bad.jsonl");
    try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
      assertThat(sink.recordsRejections()).isFalse();
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet").build().runUntilSynced();
    }
    assertThat(Files.readAllLines(file)).as("every transaction a line").hasSize(9)
        .anySatisfy(line -> assertThat(line).endsWith("\"params\":42}"));
  }

  @Test
  void realize_jsonLines_resumesExactlyOnce_andDropsWhatFollowsTheRecordedLength()
      throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 4, 5, 1);
    Peer reader = client(server);
    Path file = dir.resolve("tweets.jsonl");
    try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
      int[] calls = {0};
      Realizer crashing = Realizer.builder(reader, TWEETS, sink).batchSize(3)
          .handle("add-tweet", (line, t) -> {
            line.put("text", t.transaction().params().path("text").asText());
            if (++calls[0] == 11) {
              throw new IllegalStateException("crash");
            }
          }).build();
      assertThatThrownBy(crashing::runUntilSynced).hasRootCauseMessage("crash");
    }
    assertThat(Files.readAllLines(file)).hasSize(9);
    Files.writeString(file, "{\"garbage\": true}\n{\"half", StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
      assertThat(Files.readAllLines(file)).as("truncated back on open").hasSize(9);
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet").batchSize(3).build()
          .runUntilSynced();
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(n);
    Set<String> keys = new HashSet<>();
    for (String line : lines) {
      JsonNode l = JSON.readTree(line);
      assertThat(l.path("fn").asText()).isEqualTo("add-tweet");
      keys.add(l.path("commit").asText() + ":" + l.path("tx").asInt());
    }
    assertThat(keys).as("no transaction twice").hasSize(n);
    assertThat(JSON.readTree(lines.get(0)).path("text").asText()).isEqualTo("tweet 1 about bitcoin");
  }

  @Test
  void realize_conflict_reachesTheHook_andEverySideIsRealized() throws Exception {
    Peer server = server();
    Hash root = get(server.create(TWEETS));
    Hash base = get(server.transact(TWEETS, List.of(tweet(1, "base"))));
    Path store = dir.resolve("b");
    try (Peer b = Peer.start(PeerConfig.client(store)
        .withConnect(List.of(server.url().orElseThrow())))) {
      get(b.subscribe(TWEETS));
    }
    Hash ours = get(server.transact(TWEETS, List.of(tweet(2, "server side"))));
    Hash theirs;
    try (Peer offline = Peer.start(PeerConfig.client(store))) {
      theirs = get(offline.transact(TWEETS, List.of(tweet(3, "offline"), tweet(4, "side"))));
    }
    Peer b = keep(Peer.start(PeerConfig.client(store)
        .withConnect(List.of(server.url().orElseThrow()))));
    get(b.subscribe(TWEETS));
    assertThat(get(b.heads(TWEETS))).containsExactlyInAnyOrder(ours, theirs);
    List<Conflict> conflicts = new CopyOnWriteArrayList<>();
    Path db = dir.resolve("conflict.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer.builder(b, TWEETS, sink).syncFirst(false) // b is caught up: subscribed above
          .onConflict(conflicts::add).build().runUntilSynced();
    }
    assertThat(conflicts).hasSize(1);
    Conflict c = conflicts.get(0);
    assertThat(c.heads()).containsExactlyInAnyOrder(ours, theirs);
    assertThat(c.lowestCommonAncestors()).containsExactly(base);
    assertThat(c.sides()).containsEntry(ours, List.of(ours)).containsEntry(theirs, List.of(theirs));
    assertExactlyOnce(db, 4);
    List<String> order = column(db, "SELECT commit_id FROM ops ORDER BY seq");
    assertThat(order.get(0)).isEqualTo(base.hex());
    assertThat(order).containsOnly(base.hex(), ours.hex(), theirs.hex());
    for (int i = 0; i < order.size(); i++) {
      Commit commit = b.commit(Hash.parse(order.get(i)));
      for (Hash parent : commit.parents()) {
        assertThat(order.subList(i, order.size())).as("parents first").doesNotContain(parent.hex());
      }
    }
    assertThat(root).isNotNull();
  }

  @Test
  void reset_emptiesTheSinkAndReplaysEverything() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 3, 4, 1);
    Peer reader = client(server);
    Path db = dir.resolve("reset.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer realizer = Realizer.builder(reader, TWEETS, sink).build();
      realizer.runUntilSynced();
      assertThat(realizer.runUntilSynced().transactionsApplied()).as("nothing new").isZero();
      List<Progress> progress = new CopyOnWriteArrayList<>();
      Progress p = Realizer.builder(reader, TWEETS, sink).batchSize(5)
          .onProgress(Duration.ZERO, progress::add).build().reset();
      assertThat(p.transactionsApplied()).isEqualTo(n);
      assertThat(progress).last().isEqualTo(p);
      assertThat(progress.get(0).commitsTotal()).isEqualTo(4);
    }
    assertExactlyOnce(db, n);
    assertThat(count(db, "SELECT min(seq) FROM ops")).isEqualTo(1);
    assertThat(count(db, "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'ethereum'"))
        .isEqualTo(1);
  }

  @Test
  void realize_callbackSink_withSidecar_resumesAtLeastOnceWithKeys() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 3, 3, 1);
    Peer reader = client(server);
    Path sidecar = dir.resolve("callback.applied");
    List<String> first = new CopyOnWriteArrayList<>();
    try (Sink<Callback> sink = Sinks.callback(t -> first.add(t.key()), sidecar)) {
      assertThat(sink.exactlyOnce()).isFalse();
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet").build().runUntilSynced();
    }
    assertThat(first).hasSize(n).doesNotHaveDuplicates();
    tweets(server, 1, 2, 100);
    Set<Hash> heads = get(server.heads(TWEETS));
    await().atMost(Duration.ofSeconds(30)).until(() -> get(reader.heads(TWEETS)).equals(heads));
    List<String> second = new CopyOnWriteArrayList<>();
    try (Sink<Callback> sink = Sinks.callback(t -> second.add(t.key()), sidecar)) {
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet").build().runUntilSynced();
    }
    assertThat(second).hasSize(2).doesNotContainAnyElementsOf(first);
  }
}
