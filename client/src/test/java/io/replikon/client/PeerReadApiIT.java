package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a realizer reads from a peer: commits after a frontier, their transactions, new commits. */
class PeerReadApiIT {
  static final Address NOTES = new Address("bob", new UUID(5, 5));

  static Transaction note(String text) {
    return new Transaction("add-note", JsonNodeFactory.instance.textNode(text));
  }

  @Test
  void commitsAfter_transactions_andOnStored_followAReplicatedCdvcs() throws Exception {
    try (Peer server = Peer.start(PeerConfig.server(null));
        Peer reader = Peer.start(PeerConfig.client(null)
            .withConnect(List.of(server.url().orElseThrow())))) {
      Hash root = server.create(NOTES).get(30, TimeUnit.SECONDS);
      Hash first = server.transact(NOTES, List.of(note("a"), note("b"))).get(30, TimeUnit.SECONDS);
      LinkedBlockingQueue<Address> stored = new LinkedBlockingQueue<>();
      try (AutoCloseable handle = reader.onStored(NOTES, () -> stored.add(NOTES))) {
        reader.subscribe(NOTES).get(30, TimeUnit.SECONDS);
        assertThat(handle).isNotNull();
        assertThat(stored.poll(30, TimeUnit.SECONDS)).isEqualTo(NOTES);
        reader.subscribe(NOTES).get(30, TimeUnit.SECONDS); // again: completes at once
        assertThat(reader.commitsAfter(NOTES, Set.of()).get()).containsExactly(root, first);
        assertThat(reader.commitsAfter(NOTES, Set.of(root)).get()).containsExactly(first);
        Commit commit = reader.commit(first);
        assertThat(reader.transactions(commit)).containsExactly(note("a"), note("b"));
        stored.clear();
        Hash second = server.transact(NOTES, List.of(note("c"))).get(30, TimeUnit.SECONDS);
        assertThat(stored.poll(30, TimeUnit.SECONDS)).as("live: told of the new commit")
            .isEqualTo(NOTES);
        assertThat(reader.commitsAfter(NOTES, Set.of(first)).get()).containsExactly(second);
        assertThat(reader.lowestCommonAncestors(NOTES, Set.of(second), Set.of(first)).get())
            .containsExactly(first);
      }
    }
  }
}
