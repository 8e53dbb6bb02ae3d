package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Realizes 100,000 tweets into SQLite and prints the rate (printed, not asserted). */
class SqliteThroughputIT {
  @TempDir Path dir;

  @Test
  void realize_100kTweets_printsRowsPerSecond() throws Exception {
    try (Peer peer = Peer.start(PeerConfig.server(null))) {
      RealizerIT.get(peer.create(RealizerIT.TWEETS));
      int n = RealizerIT.tweets(peer, 100, 1_000, 1);
      Path db = dir.resolve("throughput.db");
      try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
        Progress p = Realizer.builder(peer, RealizerIT.TWEETS, sink).syncFirst(false).build()
            .runUntilSynced();
        double seconds = p.elapsed().toNanos() / 1e9;
        System.out.printf("realized %d tweets into SQLite in %.2f s: %.0f transactions/s%n",
            p.transactionsApplied(), seconds, p.transactionsApplied() / seconds);
        assertThat(p.transactionsApplied()).isEqualTo(n);
      }
      RealizerIT.assertExactlyOnce(db, n);
    }
  }
}
