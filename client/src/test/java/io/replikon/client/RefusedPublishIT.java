package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.error.ReplikonException;
import io.replikon.peer.AccessPolicy;
import io.replikon.storage.testkit.LogCapture;
import io.replikon.trust.KeyList;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A writer whose commits a server refuses (a key not in its writers list), as a collector on a
 * live source sees it: its replicated() futures fail with forbidden and why, and every later
 * commit of that address says, as an error, that it stays on this peer.
 */
class RefusedPublishIT {
  static final Address ADDRESS = new Address("alice", new UUID(12, 12));

  @Test
  void commitsRefusedByTheServer_failReplicated_andEachLaterCommitLogsAnError() throws Exception {
    SigningKey alice = SigningKey.generate();
    SigningKey mallory = SigningKey.generate();
    AccessPolicy writers = new AccessPolicy(Optional.of(KeyList.parse(
        "alice " + alice.verifyingKey(), "writers.txt", false)), Optional.empty());
    try (Peer server = Peer.start(PeerConfig.server(null).withPeerId("server")
            .withAccess(() -> writers));
        Peer writer = Peer.start(PeerConfig.client(null).withPeerId("writer").withKey(mallory)
            .withConnect(List.of(server.url().orElseThrow())));
        LogCapture log = LogCapture.of(RunningPeer.class)) {
      writer.create(ADDRESS).get(30, TimeUnit.SECONDS);
      Hash head = writer.transact(ADDRESS, List.of(tweet("one"))).get(30, TimeUnit.SECONDS);
      assertThat(writer.replicated(ADDRESS, head)).failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOf(ReplikonException.class)
          .withMessageContaining("forbidden")
          .withMessageContaining(mallory.verifyingKey() + " is not listed for user 'alice'");

      writer.transact(ADDRESS, List.of(tweet("two"))).get(30, TimeUnit.SECONDS);
      writer.transact(ADDRESS, List.of(tweet("three"))).get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(log.events())
          .filteredOn(e -> e.getLevel() == Level.ERROR
              && e.getFormattedMessage().contains("stay on this peer"))
          .hasSize(2));
      assertThat(server.status().get().cdvcs()).extracting(CdvcsStore.Summary::address)
          .doesNotContain(ADDRESS);
      assertThat(server.status().get().counters().forbidden()).containsEntry("writer", 1L);
    }
  }

  private static Transaction tweet(String text) {
    return new Transaction("add-tweet", JsonNodeFactory.instance.textNode(text));
  }
}
