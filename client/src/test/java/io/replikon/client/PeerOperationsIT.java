package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.realize.Realizer;
import io.replikon.client.realize.Sinks;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Fork, pull, merge on a peer, and realization of the merged history in order. */
class PeerOperationsIT {
  static final Address MAIN = new Address("alice", new UUID(1, 10));
  static final Address FORK = new Address("bob", new UUID(1, 11));

  static List<Transaction> tx(String text) {
    return List.of(new Transaction("add", JsonNodeFactory.instance.textNode(text)));
  }

  static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void forkPullMerge_thenRealization_putsBothSidesBeforeWhatFollowsTheMerge() throws Exception {
    try (Peer peer = Peer.start(PeerConfig.server(null))) {
      get(peer.create(MAIN));
      get(peer.transact(MAIN, tx("base")));
      Set<Hash> forked = get(peer.fork(MAIN, FORK));
      assertThat(forked).isEqualTo(get(peer.heads(MAIN)));
      get(peer.transact(MAIN, tx("on main")));
      get(peer.transact(FORK, tx("on fork")));

      ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(
          ExecutionException.class, () -> get(peer.pull(MAIN, FORK, false)));
      assertThat(refused.getCause()).isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason())
          .isEqualTo(ReplikonException.Reason.NOT_FAST_FORWARD);

      Set<Hash> heads = get(peer.pull(MAIN, FORK, true));
      assertThat(heads).hasSize(2);
      assertThatThrownBy(() -> get(peer.transact(MAIN, tx("refused"))))
          .hasCauseInstanceOf(ReplikonException.class).hasMessageContaining("merge");
      List<Hash> order = new ArrayList<>(heads);
      order.sort(null);
      Hash merge = get(peer.merge(MAIN, order));
      assertThat(get(peer.heads(MAIN))).containsExactly(merge);
      get(peer.transact(MAIN, tx("after merge")));

      List<String> applied = new ArrayList<>();
      Realizer.builder(peer, MAIN, Sinks.callback(t -> applied.add(
          t.transaction().params().asText()))).syncFirst(false).accept("add").build()
          .runUntilSynced();
      assertThat(applied).hasSize(4);
      assertThat(applied.get(0)).isEqualTo("base");
      assertThat(applied.subList(1, 3)).containsExactlyInAnyOrder("on main", "on fork");
      assertThat(applied.get(3)).isEqualTo("after merge");
    }
  }
}
