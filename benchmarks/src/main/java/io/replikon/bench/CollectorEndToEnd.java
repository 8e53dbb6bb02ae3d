package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.client.realize.Realizer;
import io.replikon.client.realize.Sink;
import io.replikon.client.realize.Sinks;
import io.replikon.collector.Collector;
import io.replikon.collector.CollectorConfig;
import io.replikon.collector.HttpIngest;
import io.replikon.collector.HttpIngestConfig;
import io.replikon.collector.Sources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * End to end: tweets posted to a collector's HTTP ingest, committed, replicated to a client peer
 * and realized live into SQLite; the delay from each acknowledgement (the 202 received) to the row
 * being visible in SQLite.
 *
 * <p>The collector is a server peer on RocksDB (default durability, journal in its store) with
 * HTTP ingest, at a given flush interval (default threshold 10,000). A client peer on RocksDB
 * connects over loopback WebSockets and runs a live {@code Realizer} into {@code Sinks.sqlite}
 * (default {@code add-tweet} handler: ops, tweets, FTS5). Once the client is caught up (on the empty
 * CDVCS), {@link HttpLoad} posts N tweets (~3.8 KB, unique ids, one a request) on 100 keep-alive
 * connections at a steady rate, recording each 202's arrival in arrival order. A poller thread on
 * its own JDBC connection reads {@code SELECT max(seq) FROM ops} every 10 ms ({@code seq} counts
 * rows from 1 in the order they are applied, and the table only grows, so it is the row count
 * without scanning it) and records (time after the query, count).
 *
 * <p>Rows are applied in journal order, and acknowledgements arrive nearly in journal order, so the
 * k-th acknowledged event's delay is taken as (the first poll that saw at least k rows) minus (the
 * k-th acknowledgement). The poll overstates it by at most one poll period plus the query time;
 * acknowledgements of events journaled in the same group commit may arrive in another order than
 * they were journaled, which moves single delays by at most the spread of that group's answers
 * (a few ms). Throughput: N / (the time the count reached N minus the first request).
 *
 * <p>Run: {@code java -Xmx4g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.CollectorEndToEnd [rate] [seconds] [interval,interval...] [burst]}
 * (default 1000 30 10s,100ms 20000). {@code burst}: tweets posted as fast as 100 connections take
 * them, at 100 ms, for the throughput alone (0: none).
 */
public final class CollectorEndToEnd {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private CollectorEndToEnd() {}

  public static void main(String[] args) throws Exception {
    double rate = args.length > 0 ? Double.parseDouble(args[0]) : 1_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    List<Duration> intervals = new ArrayList<>();
    for (String s : (args.length > 2 ? args[2] : "10s,100ms").split(",")) {
      intervals.add(s.endsWith("ms") ? Duration.ofMillis(Long.parseLong(s.replace("ms", "")))
          : Duration.ofSeconds(Long.parseLong(s.replace("s", ""))));
    }
    int burst = args.length > 3 ? Integer.parseInt(args[3]) : 20_000;
    int n = (int) (rate * seconds);
    Tweets source = new Tweets(42);
    List<JsonNode> pool = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      pool.add(source.next());
    }
    int most = Math.max(n, burst);
    byte[][] bodies = new byte[most][];
    long total = 0;
    for (int i = 0; i < most; i++) {
      bodies[i] = JSON.writeValueAsBytes(RealizeThroughput.status(pool, i));
      total += bodies[i].length;
    }
    System.out.printf("%,d tweets (%,d B a tweet) at %,.0f/s for %d s; flush intervals %s%n", n,
        total / most, rate, seconds, intervals);
    List<String> table = new ArrayList<>();
    Path work = Files.createTempDirectory("replikon-bench-e2e");
    try {
      for (Duration interval : intervals) {
        String load = CollectorThroughput.load();
        Run r = run(work.resolve("paced-" + interval.toMillis()), interval, rate, n, bodies);
        long[] d = r.delays();
        String line = String.format("| %s | paced %,.0f/s | %,d | %,.0f | %.0f | %.0f | %.0f |"
                + " %.0f | %s |", interval.toMillis() >= 1000 ? interval.toSeconds() + " s"
                : interval.toMillis() + " ms", rate, n, r.throughput(), ms(pct(d, 0.5)),
            ms(pct(d, 0.99)), ms(d[d.length - 1]), ms(d[0]), load);
        System.out.println(line);
        table.add(line);
      }
      if (burst > 0) {
        String load = CollectorThroughput.load();
        Run r = run(work.resolve("burst"), Duration.ofMillis(100), 1e9, burst, bodies);
        long[] d = r.delays();
        String line = String.format("| 100 ms | as fast as acknowledged | %,d | %,.0f | %.0f |"
                + " %.0f | %.0f | %.0f | %s |", burst, r.throughput(), ms(pct(d, 0.5)),
            ms(pct(d, 0.99)), ms(d[d.length - 1]), ms(d[0]), load);
        System.out.println(line);
        table.add(line);
      }
      System.out.println();
      System.out.println("| flush interval | posting | tweets | tweets/s end to end | p50 ms"
          + " | p99 ms | max ms | min ms | load (1/5/15 min) |");
      table.forEach(System.out::println);
    } finally {
      ReplicationThroughput.delete(work);
    }
  }

  /** Acknowledgement times and poll samples of one run. */
  private record Run(long[] acks, long[] pollTimes, long[] pollCounts, int polls, long firstSent,
      long lastApplied) {
    /** The delay of the k-th acknowledgement (nanoseconds), sorted ascending. */
    long[] delays() {
      long[] d = new long[acks.length];
      int p = 0;
      for (int k = 1; k <= acks.length; k++) {
        while (pollCounts[p] < k) {
          p++;
        }
        d[k - 1] = pollTimes[p] - acks[k - 1];
      }
      Arrays.sort(d);
      return d;
    }

    double throughput() {
      return acks.length / ((lastApplied - firstSent) / 1e9);
    }
  }

  private static Run run(Path dir, Duration interval, double rate, int n, byte[][] bodies)
      throws Exception {
    Address address = new Address("bench@replikon.io", UUID.randomUUID());
    Path db = dir.resolve("tweets.db");
    Files.createDirectories(dir);
    try (Collector collector = Collector.start(CollectorConfig.of(
            PeerConfig.server(dir.resolve("collector")), address).withFlushInterval(interval));
        Peer client = Peer.start(PeerConfig.client(dir.resolve("client"))
            .withConnect(List.of(collector.peer().url().orElseThrow())));
        Sink<?> sink = Sinks.sqlite(db)) {
      HttpIngest ingest = Sources.http(HttpIngestConfig.port(0));
      Thread runner = new Thread(() -> {
        try {
          ingest.run(collector);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "http-ingest-run");
      runner.start();
      try (Realizer.Live live = Realizer.builder(client, address, sink).build().start();
          HttpLoad load = new HttpLoad("127.0.0.1", ingest.port(), 100)) {
        Set<io.replikon.value.Hash> heads = collector.peer().heads(address).join();
        ReplicationThroughput.waitForHeads(client, address, heads);
        Thread.sleep(200);
        int capacity = (int) (n * 1.2) + 100_000;
        long[] pollTimes = new long[capacity];
        long[] pollCounts = new long[capacity];
        int[] polls = {0};
        long[] lastApplied = {0};
        Thread poller = new Thread(() -> {
          try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
              Statement s = c.createStatement()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos((long) (n / rate))
                + interval.toNanos() + TimeUnit.SECONDS.toNanos(300);
            long next = System.nanoTime();
            while (System.nanoTime() < deadline) {
              long count;
              try (ResultSet rs = s.executeQuery("SELECT coalesce(max(seq), 0) FROM ops")) {
                rs.next();
                count = rs.getLong(1);
              }
              long now = System.nanoTime();
              if (polls[0] == pollTimes.length) {
                throw new IllegalStateException("too many polls");
              }
              pollTimes[polls[0]] = now;
              pollCounts[polls[0]] = count;
              polls[0]++;
              if (count >= n) {
                lastApplied[0] = now;
                return;
              }
              next += POLL_NANOS;
              long wait = next - System.nanoTime();
              if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
              } else {
                next = System.nanoTime();
              }
            }
            throw new IllegalStateException("the rows did not all arrive: " + polls[0]);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, "sqlite-poller");
        poller.start();
        long firstSent = System.nanoTime();
        long[] acks = load.paced(rate, n, i -> bodies[(int) i]);
        long posted = System.nanoTime();
        poller.join();
        if (lastApplied[0] == 0) {
          throw new IllegalStateException("the poller stopped early; realizer "
              + (live.stopped().isDone() ? "stopped: " + live.stopped() : "running"));
        }
        System.out.printf("interval %s: %,d posted in %.1f s (%,.0f/s), all in SQLite %.1f s"
                + " after the first request; %s%n", interval, n, (posted - firstSent) / 1e9,
            n / ((posted - firstSent) / 1e9), (lastApplied[0] - firstSent) / 1e9,
            collector.stats());
        return new Run(acks, pollTimes, pollCounts, polls[0], firstSent, lastApplied[0]);
      } finally {
        ingest.close();
        runner.join();
      }
    }
  }

  private static long pct(long[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
