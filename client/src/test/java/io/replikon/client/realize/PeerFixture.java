package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;

/**
 * In-memory peers on loopback for the realization tests, closed after each test, and the
 * scenarios every SQL sink must pass.
 */
abstract class PeerFixture {
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Closes {@code resource} after the test, in reverse order of keeping. */
  <T extends AutoCloseable> T keep(T resource) {
    open.add(resource);
    return resource;
  }

  /** A server peer with an in-memory store, on an ephemeral loopback port. */
  Peer server() {
    return keep(Peer.start(PeerConfig.server(null)));
  }

  /** A client peer with an in-memory store, connected to {@code server}. */
  Peer client(Peer server) {
    return keep(Peer.start(
        PeerConfig.client(null).withConnect(List.of(server.url().orElseThrow()))));
  }

  /**
   * A handler fails in the middle of the sixth batch of 4: five batches are committed with the
   * position inside a cut commit; a new realizer on a new sink over the same database applies the
   * rest, each transaction once.
   */
  void crashInTheMiddleOfABatch_resumesExactlyOnce(String url, Supplier<Sink<SqlContext>> open)
      throws Exception {
    Peer server = server();
    RealizerIT.get(server.create(RealizerIT.TWEETS));
    int n = RealizerIT.tweets(server, 5, 9, 1);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = open.get()) {
      int[] calls = {0};
      Realizer crashing = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(4)
          .handle("add-tweet", (sql, t) -> {
            if (++calls[0] == 23) {
              throw new IllegalStateException("crash");
            }
          }).build();
      assertThatThrownBy(crashing::runUntilSynced).hasRootCauseMessage("crash");
      assertThat(RealizerIT.count(url, "SELECT count(*) FROM ops")).as("5 batches of 4")
          .isEqualTo(20);
      assertThat(sink.load(RealizerIT.TWEETS).partial()).as("a commit cut by a batch")
          .isPresent();
    }
    try (Sink<SqlContext> sink = open.get()) {
      Progress p = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(4).build()
          .runUntilSynced();
      assertThat(p.transactionsApplied()).isEqualTo(n - 20);
      assertThat(sink.load(RealizerIT.TWEETS).partial()).isEmpty();
      assertThat(sink.load(RealizerIT.TWEETS).frontier())
          .isEqualTo(RealizerIT.get(reader.heads(RealizerIT.TWEETS)));
    }
    RealizerIT.assertExactlyOnce(url, n);
    assertThat(RealizerIT.count(url, "SELECT count(*) FROM tweets")).isEqualTo(n - 20);
  }

  /**
   * Six commits of four tweets (after the root) realized in batches of five: every transaction is
   * applied once, in commit order, and fills a tweets row.
   */
  void appliesEveryTransactionInCommitOrder(String url, Supplier<Sink<SqlContext>> open)
      throws Exception {
    Peer server = server();
    RealizerIT.get(server.create(RealizerIT.TWEETS));
    int n = RealizerIT.tweets(server, 6, 4, 1);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = open.get()) {
      assertThat(sink.exactlyOnce()).isTrue();
      Progress p = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(5).build()
          .runUntilSynced();
      assertThat(p.transactionsApplied()).isEqualTo(n);
      assertThat(p.commitsApplied()).isEqualTo(7);
    }
    List<String> expected = new ArrayList<>();
    for (Hash c : RealizerIT.get(reader.commitsAfter(RealizerIT.TWEETS, Set.of()))) {
      for (int i = 0; i < reader.transactions(reader.commit(c)).size(); i++) {
        expected.add(c.hex() + ":" + i);
      }
    }
    assertThat(RealizerIT.column(url, "SELECT commit_id || ':' || tx_index FROM ops ORDER BY seq"))
        .containsExactlyElementsOf(expected);
    RealizerIT.assertExactlyOnce(url, n);
    assertThat(RealizerIT.count(url, "SELECT count(*) FROM tweets")).isEqualTo(n);
  }

  /** The commits of {@link #goodBadGood}: tweets 1-2; 3, two bad ones, 4; tweets 5-7. */
  record GoodBadGood(Hash first, Hash bad, Hash last) {}

  /**
   * Three commits on {@code server}: tweets 1 and 2; tweet 3, {@code ["add-tweet", 42]}, a status
   * without an id, tweet 4; tweets 5, 6 and 7. Seven tweets, two transactions that cannot be
   * applied (indexes 1 and 2 of the middle commit).
   */
  static GoodBadGood goodBadGood(Peer server) throws Exception {
    RealizerIT.get(server.create(RealizerIT.TWEETS));
    Hash first = RealizerIT.get(server.transact(RealizerIT.TWEETS,
        List.of(RealizerIT.tweet(1, "one"), RealizerIT.tweet(2, "two"))));
    Hash bad = RealizerIT.get(server.transact(RealizerIT.TWEETS, List.of(
        RealizerIT.tweet(3, "three"),
        new Transaction("add-tweet", JsonNodeFactory.instance.numberNode(42)),
        new Transaction("add-tweet", JsonNodeFactory.instance.objectNode().put("text", "no id")),
        RealizerIT.tweet(4, "four"))));
    Hash last = RealizerIT.get(server.transact(RealizerIT.TWEETS, List.of(
        RealizerIT.tweet(5, "five"), RealizerIT.tweet(6, "six"), RealizerIT.tweet(7, "seven"))));
    return new GoodBadGood(first, bad, last);
  }

  /**
   * Good, bad, good transactions in batches of two, the first run crashing (a handler's
   * {@link IllegalStateException}: a failure, not bad data) at tweet {@code crashAt}, a second run
   * on a new sink going on: every good transaction applied once, both bad ones in
   * {@code rejected} once each with their reason, none in {@code ops}.
   */
  void rejectsWhatItCannotApply_andResumesExactlyOnce(String url, Supplier<Sink<SqlContext>> open,
      long crashAt) throws Exception {
    Peer server = server();
    GoodBadGood commits = goodBadGood(server);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = open.get()) {
      assertThat(sink.recordsRejections()).isTrue();
      Realizer crashing = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(2)
          .handle("add-tweet", (sql, t) -> {
            if (t.transaction().params().path("id").asLong() == crashAt) {
              throw new IllegalStateException("crash");
            }
            Tweets.insert((JdbcSink) sql, t);
          }).build();
      assertThatThrownBy(crashing::runUntilSynced).hasRootCauseMessage("crash");
      assertThat(RealizerIT.count(url, "SELECT count(*) FROM tweets"))
          .as("applied before the crash").isEqualTo(crashAt - 1);
    }
    try (Sink<SqlContext> sink = open.get()) {
      Progress p = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(2).build()
          .runUntilSynced();
      assertThat(p.commitsApplied()).isPositive();
      assertThat(sink.load(RealizerIT.TWEETS).frontier()).containsExactly(commits.last());
    }
    RealizerIT.assertExactlyOnce(url, 7);
    assertThat(RealizerIT.column(url, "SELECT id FROM tweets ORDER BY id"))
        .containsExactly("1", "2", "3", "4", "5", "6", "7");
    assertThat(RealizerIT.column(url, "SELECT commit_id || ':' || tx_index || ' ' || fn || ' '"
        + " || params FROM rejected ORDER BY seq")).containsExactly(
        commits.bad().hex() + ":1 add-tweet 42",
        commits.bad().hex() + ":2 add-tweet {\"text\":\"no id\"}");
    assertThat(RealizerIT.column(url, "SELECT reason FROM rejected ORDER BY seq"))
        .allSatisfy(reason -> assertThat(reason).contains("the status has no id"));
    assertThat(RealizerIT.count(url, "SELECT count(*) FROM ops WHERE commit_id = '"
        + commits.bad().hex() + "'")).as("the rejected are not in ops").isEqualTo(2);
  }

  /**
   * A strict realizer stops at the first transaction it cannot apply, naming its commit, index and
   * fn, with nothing of its batch applied and nothing rejected; a realizer that is not strict then
   * goes on from there.
   */
  void strict_stopsAtTheFirstTransactionItCannotApply(String url,
      Supplier<Sink<SqlContext>> open) throws Exception {
    Peer server = server();
    GoodBadGood commits = goodBadGood(server);
    Peer reader = client(server);
    try (Sink<SqlContext> sink = open.get()) {
      Realizer strict = Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(2)
          .strict(true).build();
      assertThatThrownBy(strict::runUntilSynced).isInstanceOf(ReplikonException.class)
          .hasMessageContaining("transaction 1 of commit " + commits.bad().hex())
          .hasMessageContaining("fn 'add-tweet'").hasMessageContaining("the status has no id")
          .extracting(e -> ((ReplikonException) e).reason())
          .isEqualTo(ReplikonException.Reason.INVALID_INPUT);
      assertThat(RealizerIT.count(url, "SELECT count(*) FROM rejected")).isZero();
      assertThat(RealizerIT.column(url, "SELECT id FROM tweets ORDER BY id"))
          .as("tweet 3 was in the batch rolled back").containsExactly("1", "2");
      Realizer.builder(reader, RealizerIT.TWEETS, sink).batchSize(2).build().runUntilSynced();
    }
    RealizerIT.assertExactlyOnce(url, 7);
    assertThat(RealizerIT.count(url, "SELECT count(*) FROM rejected")).isEqualTo(2);
  }
}
