package io.replikon.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TweetAnalysisIT {
  static final Address TWEETS = new Address("collector", new UUID(4, 2));

  @TempDir Path dir;

  static List<Transaction> tweets(int from, int n) {
    List<Transaction> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(new Transaction("add-tweet", JsonNodeFactory.instance.objectNode()
          .put("id", i).put("created_at", "Wed Oct 10 20:19:24 +0000 2018")
          .put("text", i % 4 == 0 ? "Ethereum gas is up again " + i : "just a tweet " + i)
          .set("user", JsonNodeFactory.instance.objectNode()
              .put("screen_name", "user" + (i % 10 < 5 ? i % 10 : 9)))));
    }
    return out;
  }

  @Test
  void run_replicatesStreamsAndAnalyses_thenAppliesOnlyWhatIsNew() throws Exception {
    try (Peer server = Peer.start(PeerConfig.server(null))) {
      server.create(TWEETS).get(30, TimeUnit.SECONDS);
      server.transact(TWEETS, tweets(0, 200)).get(30, TimeUnit.SECONDS);
      Path db = dir.resolve("tweets.db");
      TweetAnalysis.Report first =
          TweetAnalysis.run(server.url().orElseThrow(), TWEETS, db, "ethereum");
      assertThat(first.tweets()).isEqualTo(200);
      assertThat(first.matching()).isEqualTo(50);
      assertThat(first.mostActive()).hasSize(5).first().isEqualTo("user9 100");
      assertThat(first.applied().transactionsApplied()).isEqualTo(200);

      server.transact(TWEETS, tweets(200, 20)).get(30, TimeUnit.SECONDS);
      TweetAnalysis.Report second =
          TweetAnalysis.run(server.url().orElseThrow(), TWEETS, db, "ethereum");
      assertThat(second.tweets()).isEqualTo(220);
      assertThat(second.applied().transactionsApplied()).isEqualTo(20);
    }
  }
}
