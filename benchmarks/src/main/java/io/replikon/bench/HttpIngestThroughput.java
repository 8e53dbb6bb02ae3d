package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.client.PeerConfig;
import io.replikon.collector.Accepted;
import io.replikon.collector.Collector;
import io.replikon.collector.CollectorConfig;
import io.replikon.collector.CollectorStats;
import io.replikon.collector.HttpIngest;
import io.replikon.collector.HttpIngestConfig;
import io.replikon.collector.Intake;
import io.replikon.collector.Sources;
import io.replikon.collector.Submission;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP ingest throughput: {@code POST /events} from 100 concurrent keep-alive connections into a
 * collector that journals every event before its 202, beside the same {@link HttpIngest} with an
 * {@link Intake} that accepts at once and journals nothing (the HTTP stack's own limit: request
 * parsing, JSON parsing, canonical encoding and the 202).
 *
 * <p>The collector is a server peer on RocksDB in a temporary directory under {@code /tmp}, with
 * the defaults: flush threshold 10,000, interval 10 s, max pending 40,000 (a 503 beyond). The
 * client is {@link HttpLoad}: one Netty event-loop thread, 100 connections, each sending its next
 * request when the last is answered (a 503 is retried after 10 ms and counted). Client and server
 * share the machine's cores. Each case warms up, then measures; only requests sent in the
 * measured window count.
 *
 * <p>Events: a ~200 B JSON object ({@code small}) or a ~3 KB tweet from {@link Tweets}
 * ({@code tweets}), one a request or a JSON array of 100.
 *
 * <p>Run: {@code java -Xmx4g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.HttpIngestThroughput [seconds] [runs] [small|tweets|both] [1|100|both]
 * [accept|journal|both]} (default 10 2 small both both).
 */
public final class HttpIngestThroughput {
  private static final int CONNECTIONS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] KINDS = {"click", "view", "purchase", "signup", "share"};

  private HttpIngestThroughput() {}

  /** Accepts every submission at once, journals nothing. */
  static final class AcceptAll implements Intake {
    @Override
    public CompletableFuture<Accepted> submit(Submission submission) {
      return CompletableFuture.completedFuture(
          new Accepted(submission.transactions().size(), false));
    }

    @Override
    public void awaitCapacity() {}

    @Override
    public CompletableFuture<Hash> flush() {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no journal"));
    }

    @Override
    public Optional<byte[]> cursor() {
      return Optional.empty();
    }
  }

  /** A ~200 B event. */
  static byte[] smallEvent(long n) {
    return ("{\"id\":" + n + ",\"user\":\"user" + (n % 9973) + "\",\"kind\":\""
        + KINDS[(int) (n % KINDS.length)] + "\",\"ts\":" + (1_700_000_000_000L + n)
        + ",\"page\":\"/products/" + (n % 1000) + "\",\"session\":\""
        + new UUID(n * 31, n).toString() + "\",\"value\":" + (n % 100) / 4.0
        + ",\"tags\":[\"a\",\"b\"]}").getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    String kinds = args.length > 2 ? args[2] : "small";
    int[] perRequests = args.length > 3 && !args[3].equals("both")
        ? new int[] {Integer.parseInt(args[3])} : new int[] {1, 100};
    boolean[] intakes = args.length > 4 && !args[4].equals("both")
        ? new boolean[] {args[4].equals("journal")} : new boolean[] {false, true};
    Path work = Files.createTempDirectory("replikon-bench-http");
    List<String> table = new ArrayList<>();
    try {
      List<byte[]> tweets = new ArrayList<>();
      if (!kinds.equals("small")) {
        Tweets source = new Tweets(42);
        List<JsonNode> pool = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
          pool.add(source.next());
        }
        for (int i = 0; i < 5_000; i++) {
          tweets.add(JSON.writeValueAsBytes(RealizeThroughput.status(pool, i)));
        }
      }
      System.out.printf("small event: %d B; tweet: %s%n", smallEvent(123_456).length,
          tweets.isEmpty() ? "-" : tweets.stream().mapToInt(b -> b.length).sum() / tweets.size()
              + " B");
      List<String> eventKinds = kinds.equals("both") ? List.of("small", "tweets")
          : List.of(kinds);
      for (int run = 1; run <= runs; run++) {
        for (String kind : eventKinds) {
          for (int perRequest : perRequests) {
            byte[][] bodies = bodies(kind, perRequest, tweets);
            for (boolean journaled : intakes) {
              String load = CollectorThroughput.load();
              Result r = measure(work.resolve("run" + run + kind + perRequest), journaled,
                  bodies, perRequest, seconds);
              String line = String.format("| %d | %s | %d | %s | %,.0f | %,.0f | %.1f | %.1f |"
                      + " %,d | %.1f | %,.0f | %s | %s |", run, kind, perRequest,
                  journaled ? "journal (collector)" : "accept at once", r.load.eventsPerSecond(),
                  r.load.requestsPerSecond(), r.load.latencyMs(0.5), r.load.latencyMs(0.99),
                  r.load.refused(), r.cpuSeconds / seconds,
                  r.load.requests() / r.cpuSeconds, r.stats, load);
              System.out.println(line);
              table.add(line);
            }
          }
        }
      }
      System.out.println();
      System.out.println("| run | events | per request | intake | events/s | requests/s"
          + " | p50 ms | p99 ms | 503s | cores used | requests/CPU-s | collector"
          + " | load (1/5/15 min) |");
      table.forEach(System.out::println);
    } finally {
      ReplicationThroughput.delete(work);
    }
  }

  /** 1,000 distinct request bodies (cycled). */
  private static byte[][] bodies(String kind, int perRequest, List<byte[]> tweets) {
    byte[][] out = new byte[1_000][];
    long n = 0;
    for (int i = 0; i < out.length; i++) {
      StringBuilder b = new StringBuilder();
      if (perRequest > 1) {
        b.append('[');
      }
      for (int e = 0; e < perRequest; e++, n++) {
        if (e > 0) {
          b.append(',');
        }
        byte[] event = kind.equals("small") ? smallEvent(n) : tweets.get((int) (n % tweets.size()));
        b.append(new String(event, StandardCharsets.UTF_8));
      }
      if (perRequest > 1) {
        b.append(']');
      }
      out[i] = b.toString().getBytes(StandardCharsets.UTF_8);
    }
    return out;
  }

  /** A case's figures; {@code cpuSeconds}: the process's (client and server) in the window. */
  private record Result(HttpLoad.Result load, double cpuSeconds, String stats) {}

  private static Result measure(Path dir, boolean journaled, byte[][] bodies, int perRequest,
      int seconds) throws Exception {
    Collector collector = null;
    Intake intake = new AcceptAll();
    if (journaled) {
      collector = Collector.start(CollectorConfig.of(PeerConfig.server(dir),
          new Address("bench@replikon.io", UUID.randomUUID())));
      intake = collector;
    }
    HttpIngest ingest = Sources.http(HttpIngestConfig.port(0));
    Intake into = intake;
    Thread runner = new Thread(() -> {
      try {
        ingest.run(into);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "http-ingest-run");
    runner.start();
    try (HttpLoad load = new HttpLoad("127.0.0.1", ingest.port(), CONNECTIONS)) {
      Thread.sleep(100); // the intake is handed over
      long warmUp = TimeUnit.SECONDS.toNanos(3);
      long[] cpu = new long[1];
      Thread marker = new Thread(() -> { // the process's CPU time at the start of the window
        try {
          TimeUnit.NANOSECONDS.sleep(warmUp);
          cpu[0] = CollectorThroughput.cpu();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      marker.start();
      HttpLoad.Result r = load.closedLoop(warmUp, TimeUnit.SECONDS.toNanos(seconds),
          i -> bodies[(int) (i % bodies.length)], perRequest);
      double cpuSeconds = (CollectorThroughput.cpu() - cpu[0]) / 1e9;
      marker.join();
      String stats = "-";
      if (collector != null) {
        CollectorStats s = collector.stats();
        stats = String.format("%,d accepted, %,d commits, %,d pending", s.accepted(),
            s.commits(), s.pending());
      }
      return new Result(r, cpuSeconds, stats);
    } finally {
      ingest.close();
      runner.join();
      if (collector != null) {
        collector.close();
      }
      ReplicationThroughput.delete(dir);
    }
  }
}
