package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two peers that committed apart (the same root, one commit each) meet: with auto-merge on they
 * end on one merge head holding both commits.
 */
class AutoMergeIT {
  static final Address LOG = new Address("two-writers", new UUID(2, 2));

  @Test
  void peersThatCommittedApart_withAutoMerge_convergeOnOneMergeHead() throws Exception {
    Duration delay = Duration.ofMillis(200);
    // The same author, key and clock make the same root on both peers: the CDVCS they share.
    Clock fixed = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);
    PeerConfig base = PeerConfig.server(null).withAuthor("writer").withClock(fixed)
        .withKey(SigningKey.fromSeed(new byte[32])).withAutoMerge(delay);
    try (Peer a = Peer.start(base.withPeerId("a"));
        Peer b = Peer.start(base.withPeerId("b"))) {
      assertThat(a.create(LOG).get(30, TimeUnit.SECONDS))
          .isEqualTo(b.create(LOG).get(30, TimeUnit.SECONDS));
      a.transact(LOG, List.of(note("from a"))).get(30, TimeUnit.SECONDS);
      b.transact(LOG, List.of(note("from b"))).get(30, TimeUnit.SECONDS);
      b.connect(a.url().orElseThrow());
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        Set<Hash> heads = a.heads(LOG).get();
        assertThat(heads).hasSize(1);
        assertThat(b.heads(LOG).get()).isEqualTo(heads);
      });
      CdvcsStore.Summary s = a.status().get().cdvcs().get(0);
      assertThat(s.transactionCount()).isEqualTo(2);
      assertThat(s.commitCount()).as("root, two commits, at least one merge")
          .isGreaterThanOrEqualTo(4);
      // and the merged CDVCS takes commits again
      a.transact(LOG, List.of(note("after"))).get(30, TimeUnit.SECONDS);
    }
  }

  static Transaction note(String text) {
    return new Transaction("add", JsonNodeFactory.instance.textNode(text));
  }
}
