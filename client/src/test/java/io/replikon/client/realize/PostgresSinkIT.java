package io.replikon.client.realize;

import static io.replikon.client.realize.RealizerIT.TWEETS;
import static io.replikon.client.realize.RealizerIT.get;
import static io.replikon.client.realize.RealizerIT.tweet;
import static io.replikon.client.realize.RealizerIT.tweets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.value.Hash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Realizers reading real peers over loopback into a real PostgreSQL server, started for this class
 * on 127.0.0.1 with an ephemeral port (skipped when PostgreSQL is not installed); a database per
 * test.
 */
class PostgresSinkIT extends PeerFixture {
  @TempDir static Path serverDir;
  static PostgresServer postgres;

  String db;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = PostgresServer.start(serverDir);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void createDatabase() throws Exception {
    db = postgres.newDatabase();
  }





  long count(String sql) throws Exception {
    return RealizerIT.count(db, sql);
  }

  List<String> column(String sql) throws Exception {
    return RealizerIT.column(db, sql);
  }

  void assertExactlyOnce(int transactions) throws Exception {
    RealizerIT.assertExactlyOnce(db, transactions);
  }

  @Test
  void realize_postgresql_appliesEveryTransactionInCommitOrder() throws Exception {
    appliesEveryTransactionInCommitOrder(db, () -> Sinks.postgresql(db));
    assertThat(column("SELECT screen_name || ' ' || to_char(created_at AT TIME ZONE 'UTC', "
        + "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM tweets WHERE id = 8"))
        .containsExactly("user1 2018-10-10T20:19:24");
    assertThat(column("SELECT params ->> 'id_str' FROM ops ORDER BY seq LIMIT 1"))
        .as("params as jsonb").containsExactly("1");
    assertThat(column("SELECT json #>> '{user,screen_name}' FROM tweets WHERE id = 8"))
        .containsExactly("user1");
  }

  @Test
  void realize_postgresql_crashInTheMiddleOfABatch_resumesExactlyOnce() throws Exception {
    crashInTheMiddleOfABatch_resumesExactlyOnce(db, () -> Sinks.postgresql(db));
  }

  @ParameterizedTest(name = "crash at tweet {0}")
  @ValueSource(longs = {3, 4, 6})
  void realize_postgresql_badTransactions_areRejected_andACrashKeepsExactlyOnce(long crashAt)
      throws Exception {
    rejectsWhatItCannotApply_andResumesExactlyOnce(db, () -> Sinks.postgresql(db), crashAt);
  }

  @Test
  void realize_postgresql_strict_stopsAtTheFirstTransactionItCannotApply() throws Exception {
    strict_stopsAtTheFirstTransactionItCannotApply(db, () -> Sinks.postgresql(db));
  }

  @Test
  void realize_postgresql_nulCharacter_isRejected_andTheStreamGoesOn() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    Hash bad = get(server.transact(TWEETS, List.of(tweet(1, "one"), tweet(2, "nul \0 here"),
        new Transaction("add-\0note", com.fasterxml.jackson.databind.node.JsonNodeFactory
            .instance.textNode("x")), tweet(3, "three"))));
    try (Sink<SqlContext> sink = Sinks.postgresql(db)) {
      Realizer.builder(client(server), TWEETS, sink).accept("add-\0note").build()
          .runUntilSynced();
    }
    assertExactlyOnce(2);
    assertThat(column("SELECT tx_index || ' ' || fn || ' ' || reason FROM rejected ORDER BY seq"))
        .containsExactly("1 add-tweet PostgreSQL stores no NUL character (U+0000), and the params "
            + "of " + bad.hex() + ":1 hold one", "2 add-\\u0000note PostgreSQL stores no NUL "
            + "character (U+0000), and the fn of " + bad.hex() + ":2 hold one");
  }

  @Test
  void realize_postgresql_failedBatchIsDiscarded_whenTheSameSinkGoesOn() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 3, 5, 1);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = Sinks.postgresql(db)) {
      int[] calls = {0};
      Realizer crashing = Realizer.builder(reader, TWEETS, sink).batchSize(4)
          .handle("add-tweet", (sql, t) -> {
            if (++calls[0] == 7) {
              throw new IllegalStateException("crash");
            }
            Tweets.insert((JdbcSink) sql, t);
          }).build();
      assertThatThrownBy(crashing::runUntilSynced).hasRootCauseMessage("crash");
      Realizer.builder(reader, TWEETS, sink).batchSize(4).build().runUntilSynced();
    }
    assertExactlyOnce(n);
    assertThat(count("SELECT count(*) FROM tweets")).isEqualTo(n);
  }

  @Test
  void realize_postgresql_fullTextIndexFindsTweetText() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    ObjectNode extended = (ObjectNode) tweet(1000, "short").params();
    extended.putObject("extended_tweet").put("full_text", "the long ethereum version");
    get(server.transact(TWEETS, List.of(new Transaction("add-tweet", extended))));
    tweets(server, 2, 10, 1);
    try (Sink<SqlContext> sink = Sinks.postgresql(db)) {
      Realizer.builder(client(server), TWEETS, sink).build().runUntilSynced();
    }
    assertThat(count("SELECT count(*) FROM tweets "
        + "WHERE text_tsv @@ plainto_tsquery('simple', 'ethereum')"))
        .isEqualTo(3); // ids 10, 20 and the extended one
    assertThat(count("SELECT count(*) FROM tweets "
        + "WHERE text_tsv @@ plainto_tsquery('simple', 'bitcoin')")).isEqualTo(18);
    assertThat(column("SELECT indexdef FROM pg_indexes WHERE tablename = 'tweets' "
        + "AND indexdef LIKE '%gin%'")).singleElement().asString().contains("text_tsv");
  }

  @Test
  void reset_postgresql_emptiesTheSinkAndReplaysEverything() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 3, 4, 1);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = Sinks.postgresql(db)) {
      Realizer realizer = Realizer.builder(reader, TWEETS, sink).build();
      realizer.runUntilSynced();
      assertThat(realizer.runUntilSynced().transactionsApplied()).as("nothing new").isZero();
      Progress p = Realizer.builder(reader, TWEETS, sink).batchSize(5).build().reset();
      assertThat(p.transactionsApplied()).isEqualTo(n);
    }
    assertExactlyOnce(n);
    assertThat(count("SELECT min(seq) FROM ops")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM tweets "
        + "WHERE text_tsv @@ plainto_tsquery('simple', 'ethereum')")).isEqualTo(1);
  }

  @Test
  void postgresql_acceptsALibpqUri_andResumesFromTheStoredLog() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    int n = tweets(server, 2, 3, 1);
    Peer reader = client(server);
    String database = db.substring(db.lastIndexOf('/') + 1, db.indexOf('?'));
    String uri = "postgresql://postgres@127.0.0.1:" + postgres.port() + "/" + database;
    try (Sink<SqlContext> sink = Sinks.postgresql(uri)) {
      Realizer.builder(reader, TWEETS, sink).build().runUntilSynced();
    }
    int more = tweets(server, 1, 2, 100);
    Set<Hash> heads = get(server.heads(TWEETS));
    await().atMost(Duration.ofSeconds(30))
        .until(() -> get(reader.heads(TWEETS)).equals(heads));
    try (Sink<SqlContext> sink = Sinks.postgresql(uri.replace("postgresql:", "postgres:"))) {
      assertThat(sink.load(TWEETS).isEmpty()).isFalse();
      Progress p = Realizer.builder(reader, TWEETS, sink).build().runUntilSynced();
      assertThat(p.transactionsApplied()).isEqualTo(more);
    }
    assertExactlyOnce(n + more);
  }
}
