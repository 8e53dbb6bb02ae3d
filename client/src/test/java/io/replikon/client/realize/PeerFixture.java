package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
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
}
