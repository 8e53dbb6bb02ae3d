package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectorTest {
  @TempDir Path dir;
  private final Address address = new Address("collector-test", UUID.randomUUID());

  private CollectorConfig config() {
    return CollectorConfig.of(PeerConfig.server(dir.resolve("store")), address)
        .withFlushInterval(Duration.ofHours(1));
  }

  static List<byte[]> tweets(int from, int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(Chunk.encode(new Transaction("add-tweet",
          JsonNodeFactory.instance.objectNode().put("id", i).put("text", "tweet " + i + " 🚀"))));
    }
    return out;
  }

  /** Returns the ids of every add-tweet transaction in the CDVCS, in commit order. */
  static List<Long> ids(Peer peer, Address address) {
    return JsonLinesSourceTest.transactions(peer, address).stream()
        .map(t -> t.params().get("id").asLong()).toList();
  }

  @Test
  void flush_afterSubmissions_commitsEveryEventOnceInOrder() {
    try (Collector c = Collector.start(config())) {
      for (int i = 0; i < 10; i++) {
        c.submit(Submission.of(tweets(i * 10, 10))).join();
      }
      Hash head = c.flush().join();
      assertThat(c.peer().heads(address).join()).containsExactly(head);
      assertThat(ids(c.peer(), address)).hasSize(100).doesNotHaveDuplicates().isSorted();
      assertThat(c.stats().commits()).isEqualTo(1);
      assertThat(c.flush().join()).isEqualTo(head); // nothing new: no new commit
    }
  }

  @Test
  void submit_atTheThreshold_flushesWithoutBeingAsked() {
    try (Collector c = Collector.start(config().withFlushThreshold(50))) {
      c.submit(Submission.of(tweets(0, 120))).join();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> c.stats().committed() >= 100);
      assertThat(c.stats().commits()).isGreaterThanOrEqualTo(2);
      // no commit holds more than the threshold
      for (Hash id : c.peer().commitsAfter(address, Set.of()).join()) {
        assertThat(c.peer().transactions(c.peer().commit(id)).size()).isLessThanOrEqualTo(50);
      }
    }
  }

  @Test
  void flushInterval_commitsWithoutBeingAsked() {
    try (Collector c = Collector.start(config().withFlushInterval(Duration.ofMillis(100)))) {
      c.submit(Submission.of(tweets(0, 3))).join();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> c.stats().committed() == 3);
    }
  }

  @Test
  void flushInterval_aSteadyStream_isCommittedOncePerInterval_notChasedInTinyCommits()
      throws Exception {
    try (Collector c = Collector.start(config().withFlushInterval(Duration.ofMillis(500)))) {
      long start = System.nanoTime();
      int n = 0;
      while (System.nanoTime() - start < 3_000_000_000L) { // an event every 5 ms for 3 s
        c.submit(Submission.of(tweets(n++, 1))).join();
        Thread.sleep(5);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      c.flush().join();
      assertThat(ids(c.peer(), address)).hasSize(n);
      // one commit per elapsed interval, and the final flush: a flush that went on committing
      // whatever arrived while it committed made one commit every few milliseconds
      assertThat(c.stats().commits()).isLessThanOrEqualTo((long) (seconds / 0.5) + 2);
    }
  }

  @Test
  void close_commitsWhatIsPending_andARestartFindsItAll() {
    try (Collector c = Collector.start(config())) {
      c.submit(Submission.of(tweets(0, 7))).join();
    }
    try (Collector c = Collector.start(config())) {
      assertThat(c.stats().recovered()).isZero();
      assertThat(ids(c.peer(), address)).hasSize(7);
    }
  }

  @Test
  void submit_sameIdempotencyKeyTwice_isJournaledOnce_evenAfterARestart() {
    try (Collector c = Collector.start(config())) {
      Accepted first = c.submit(Submission.of(tweets(0, 5)).withIdempotencyKey("req-1")).join();
      Accepted again = c.submit(Submission.of(tweets(0, 5)).withIdempotencyKey("req-1")).join();
      assertThat(first).isEqualTo(new Accepted(5, false));
      assertThat(again).isEqualTo(new Accepted(5, true));
    }
    try (Collector c = Collector.start(config())) {
      assertThat(c.submit(Submission.of(tweets(0, 5)).withIdempotencyKey("req-1")).join())
          .isEqualTo(new Accepted(5, true));
      c.flush().join();
      assertThat(ids(c.peer(), address)).hasSize(5);
    }
  }

  @Test
  void submit_concurrentRepeatsOfOneKey_journalOnlyOne() {
    try (Collector c = Collector.start(config())) {
      List<CompletableFuture<Accepted>> answers = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        answers.add(CompletableFuture.supplyAsync(() ->
            c.submit(Submission.of(tweets(0, 2)).withIdempotencyKey("same")).join()));
      }
      long fresh = answers.stream().map(CompletableFuture::join).filter(a -> !a.repeat()).count();
      assertThat(fresh).isEqualTo(1);
      c.flush().join();
      assertThat(ids(c.peer(), address)).hasSize(2);
    }
  }

  @Test
  void submit_beyondMaxPending_isRefusedAsOverloaded_andWhatWasAdmittedIsCommitted() {
    try (Collector c = Collector.start(config().withFlushThreshold(1000).withMaxPending(4000))) {
      List<CompletableFuture<Accepted>> answers = new ArrayList<>();
      for (int i = 0; i < 50; i++) { // far faster than the journal: the bound is reached
        answers.add(c.submit(Submission.of(tweets(i * 1000, 1000))));
      }
      long refused = 0;
      long admitted = 0;
      for (CompletableFuture<Accepted> a : answers) {
        try {
          admitted += a.join().count();
        } catch (java.util.concurrent.CompletionException e) {
          assertThat(e.getCause()).isInstanceOfSatisfying(ReplikonException.class,
              r -> assertThat(r.reason()).isEqualTo(ReplikonException.Reason.OVERLOADED));
          refused++;
        }
      }
      assertThat(refused).isPositive();
      assertThat(c.stats().refused()).isEqualTo(refused);
      c.flush().join();
      assertThat(ids(c.peer(), address)).hasSize((int) admitted).doesNotHaveDuplicates();
    }
  }

  @Test
  void awaitCapacity_thenSubmit_isAdmitted() throws InterruptedException {
    try (Collector c = Collector.start(config().withFlushThreshold(100).withMaxPending(100))) {
      for (int i = 0; i < 20; i++) {
        c.awaitCapacity();
        c.submit(Submission.of(tweets(i * 100, 100))).join(); // never OVERLOADED
      }
      c.flush().join();
      assertThat(ids(c.peer(), address)).hasSize(2000);
    }
  }

  @Test
  void cursor_isTheLastJournaledOne_andSurvivesACommitAndRestart() {
    try (Collector c = Collector.start(config())) {
      assertThat(c.cursor()).isEmpty();
      c.submit(Submission.of(tweets(0, 1)).withCursor(new byte[] {1})).join();
      c.submit(Submission.of(tweets(1, 1)).withCursor(new byte[] {2})).join();
      assertThat(c.cursor()).contains(new byte[] {2});
      c.flush().join();
    }
    try (Collector c = Collector.start(config())) {
      assertThat(c.cursor()).contains(new byte[] {2});
    }
  }

  @Test
  void submit_afterClose_failsAsClosed() {
    Collector c = Collector.start(config());
    c.close();
    assertThatThrownBy(() -> c.submit(Submission.of(tweets(0, 1))).join())
        .hasMessageContaining("closed");
  }
}
