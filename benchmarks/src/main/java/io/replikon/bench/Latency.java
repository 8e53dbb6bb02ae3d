package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.storage.Durability;
import io.replikon.value.Hash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Latency of one small commit across two hops: from {@code transact} at client A to stored at
 * client C, through server B (A -> B -> C), over loopback WebSockets, each peer on RocksDB in a
 * temporary directory with {@link Durability#BATCH}.
 *
 * <p>A creates an address, C subscribes to it through B. Then, one at a time: A commits one tweet
 * (~3 KB); the clock starts before {@code transact} and stops when C's {@code heads()} contains the
 * new commit, polled in a loop with a 20 us pause between calls. The next commit starts once C has
 * the previous one. Warm-up commits first, not counted.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.replikon.bench.Latency [commits]
 * [warmup]} (default 2000 500).
 */
public final class Latency {
  private Latency() {}

  public static void main(String[] args) throws Exception {
    int commits = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    Tweets source = new Tweets(7);
    List<JsonNode> pool = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      pool.add(source.next());
    }
    Path dirB = Files.createTempDirectory("replikon-bench-b");
    Path dirA = Files.createTempDirectory("replikon-bench-a");
    Path dirC = Files.createTempDirectory("replikon-bench-c");
    double[] millis = new double[commits];
    long wall;
    try (Peer b = Peer.start(PeerConfig.server(dirB).withPeerId("B"));
        Peer a = Peer.start(PeerConfig.client(dirA).withPeerId("A")
            .withConnect(List.of(b.url().orElseThrow())));
        Peer c = Peer.start(PeerConfig.client(dirC).withPeerId("C")
            .withConnect(List.of(b.url().orElseThrow())))) {
      Address address = new Address("bench@replikon.io", UUID.randomUUID());
      a.create(address).get(10, TimeUnit.SECONDS);
      c.subscribe(address);
      ReplicationThroughput.waitForHeads(c, address, a.heads(address).get());
      for (int i = 0; i < warmup; i++) {
        once(a, c, address, pool, i);
      }
      long start = System.nanoTime();
      for (int i = 0; i < commits; i++) {
        millis[i] = once(a, c, address, pool, warmup + i) / 1e6;
      }
      wall = System.nanoTime() - start;
    } finally {
      ReplicationThroughput.delete(dirA);
      ReplicationThroughput.delete(dirB);
      ReplicationThroughput.delete(dirC);
    }
    double[] sorted = millis.clone();
    Arrays.sort(sorted);
    double mean = Arrays.stream(millis).average().orElse(0);
    System.out.printf("%nLatency A -> B -> C, one tweet a commit, %,d commits after %,d warm-up "
        + "(%.1f s, %.0f commits/s)%n", commits, warmup, wall / 1e9, commits / (wall / 1e9));
    System.out.printf("%8s %8s %8s %8s %8s %8s %8s%n", "min", "p50", "p90", "p99", "p99.9",
        "max", "mean");
    System.out.printf("%8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f  ms%n", sorted[0],
        pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), pct(sorted, 99.9),
        sorted[sorted.length - 1], mean);
    System.out.printf("target: p99 under 20 ms: %s%n", pct(sorted, 99) < 20 ? "MET" : "MISSED");
  }

  /** One commit at A, until C holds it: nanoseconds. */
  private static long once(Peer a, Peer c, Address address, List<JsonNode> pool, int n)
      throws Exception {
    long start = System.nanoTime();
    Hash id = a.transact(address, List.of(new Transaction("tweet", pool.get(n % pool.size()))))
        .get(10, TimeUnit.SECONDS);
    long deadline = start + TimeUnit.SECONDS.toNanos(30);
    while (!c.heads(address).get(10, TimeUnit.SECONDS).contains(id)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("commit " + n + " did not reach C within 30 s");
      }
      LockSupport.parkNanos(20_000);
    }
    return System.nanoTime() - start;
  }

  private static double pct(double[] sorted, double p) {
    int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
