package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Checkpoint;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.storage.Durability;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * Replication throughput of tweets from a server peer to a subscribed client peer over real
 * loopback WebSockets, next to the raw throughput of the same bytes over a bare Netty WebSocket.
 *
 * <p>Two {@link Peer}s in this JVM, each on RocksDB in a temporary directory with
 * {@link Durability#BATCH}; the client connects to the server and subscribes to one address.
 * Commits hold {@code tweetsPerCommit} transactions {@code ["tweet", {"seq": n, "tweet": t}]},
 * {@code t} a ~3 KB status from {@link Tweets} (a pool of 5,000, cycled; {@code seq} makes every
 * commit's chunks distinct).
 *
 * <ul>
 *   <li><b>live</b>: the client is subscribed and in sync; the server commits {@code commits}
 *       commits as fast as it accepts them ({@code -Dinflight=N} transacts in flight, default 2).
 *       Time from the first transact to the moment the client's heads equal the server's
 *       (polled every 2 ms).
 *   <li><b>catch-up</b>: then a second, empty client connects and subscribes. Time from its start
 *       to heads equal.
 *   <li><b>live, from JSON text</b>: the same on a fourth address, the producer (this thread)
 *       holding each tweet as JSON text and encoding it with {@code Chunk.encodeJson} (the
 *       collector's path; the same bytes as the trees give, checked at the start).
 *   <li><b>live, chunks encoded beforehand</b>: the same on a third address, with every commit's
 *       chunks made by {@code Chunk.split} before the clock starts and committed with
 *       {@code transact(address, chunks, checkpoint)}, as the collector does: replication without
 *       the producer's encoding.
 *   <li><b>raw</b>: the CBOR bytes of the same transactions, as many bytes as all commits hold,
 *       streamed in 1 MiB binary frames through {@link RawWebSocket} (8 frames in flight), plain
 *       and with permessage-deflate (which replikon's transport negotiates).
 *   <li><b>Chunk.split alone</b>: the canonical encoding and hashing that {@code transact} does
 *       on the server's engine thread, timed on one thread for up to 20 commits and scaled.
 * </ul>
 *
 * <p>Run: {@code java -Xmx3g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.ReplicationThroughput [commits] [tweetsPerCommit]} (default 100 1000).
 */
public final class ReplicationThroughput {
  /** Transacts in flight at the server in the live phase: {@code -Dinflight=N} (default 2). */
  private static final int IN_FLIGHT = Integer.getInteger("inflight", 2);
  /** The durability of both stores: {@code -Ddurability=NONE|BATCH|SYNC} (default BATCH). */
  private static final Durability DURABILITY =
      Durability.valueOf(System.getProperty("durability", "BATCH"));

  private static final int POOL = 5_000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(180);

  private ReplicationThroughput() {}

  public static void main(String[] args) throws Exception {
    int commits = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int perCommit = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    long tweets = (long) commits * perCommit;
    Tweets source = new Tweets(42);
    List<JsonNode> pool = new ArrayList<>(POOL);
    for (int i = 0; i < POOL; i++) {
      pool.add(source.next());
    }
    // The encoded transactions of the first commit: their size stands for every commit's (seq
    // differs by a byte or two), and they are the raw baseline's payload.
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    for (Transaction t : transactions(pool, 0, perCommit)) {
      first.write(CanonicalCbor.encode(t.toValue()));
    }
    byte[] payload = first.toByteArray();
    List<byte[]> fromText = new ArrayList<>();
    for (long n = 0; n < perCommit; n++) {
      byte[] json = tweetJson(n, JSON.writeValueAsBytes(pool.get((int) (n % POOL))));
      fromText.add(Chunk.encodeJson("tweet", json, 0, json.length));
    }
    if (!Chunk.splitEncoded(fromText).equals(Chunk.split(transactions(pool, 0, perCommit)))) {
      throw new IllegalStateException("JSON text and trees give different chunks");
    }
    long totalBytes = (long) payload.length * commits;
    System.out.printf("%,d commits x %,d tweets = %,d tweets, %.1f MB of encoded transactions "
        + "(%,d B a tweet)%n", commits, perCommit, tweets, totalBytes / 1e6,
        payload.length / perCommit);

    Path serverDir = Files.createTempDirectory("replikon-bench-server");
    Path liveDir = Files.createTempDirectory("replikon-bench-live");
    Figures f;
    try (Peer server = Peer.start(PeerConfig.server(serverDir).withPeerId("server")
        .withDurability(DURABILITY));
        Peer live = Peer.start(PeerConfig.client(liveDir).withPeerId("live")
            .withDurability(DURABILITY).withConnect(List.of(server.url().orElseThrow())))) {
      // Warm-up: every phase once on a quarter of the commits (at least 10), on other addresses
      // and another catch-up peer, so that the measured pass runs compiled code throughout
      // (without it the JIT compiler took up to a third of the CPU in the later phases).
      int warmCommits = Math.min(commits, Math.max(10, commits / 4));
      System.out.printf("warm-up: every phase with %,d commits%n", warmCommits);
      // numbered past every tweet of the measured pass, so that no chunk is already stored
      run(server, live, pool, warmCommits, perCommit, 3L * commits * perCommit, "warm-up ");
      System.out.println("measured:");
      f = run(server, live, pool, commits, perCommit, 0, "");
    } finally {
      delete(serverDir);
      delete(liveDir);
    }

    // What the server's engine thread does per commit in transact, alone: encode the transactions
    // canonically into chunks and hash them (Chunk.split), on this thread, for up to 20 commits.
    int encodeCommits = Math.min(20, commits);
    long e0 = System.nanoTime();
    for (int c = 0; c < encodeCommits; c++) {
      Chunk.split(transactions(pool, (long) c * perCommit, perCommit));
    }
    double encodeSeconds = (System.nanoTime() - e0) / 1e9 * commits / encodeCommits;

    // 1 MiB frames, or one commit's bytes when a commit holds less (small commits)
    int frame = Math.min(1 << 20, payload.length);
    RawWebSocket.Run sink = new RawWebSocket.Run(frame, 8, false, false);
    RawWebSocket.Run echo = new RawWebSocket.Run(frame, 8, false, true);
    RawWebSocket.stream(payload, Math.min(totalBytes, 200L << 20), echo); // warm-up
    RawWebSocket.stream(payload, Math.min(totalBytes, 200L << 20), sink);
    double rawSeconds = medianOfThree(payload, totalBytes, echo, "raw echo");
    double sinkSeconds = medianOfThree(payload, totalBytes, sink, "raw one way (sink)");
    double deflateSeconds = RawWebSocket.stream(payload, totalBytes,
        new RawWebSocket.Run(frame, 8, true, true));

    double rawRate = tweets / rawSeconds;
    System.out.println();
    System.out.printf("%-46s %10s %12s %10s %14s%n", "", "seconds", "tweets/s", "MB/s",
        "vs raw echo");
    row("replikon live: server accepts the commits", f.accept(), tweets, totalBytes, rawRate);
    row("replikon live: until the subscriber has all", f.live(), tweets, totalBytes, rawRate);
    row("replikon live, chunks encoded beforehand", f.preEncoded(), tweets, totalBytes,
        rawRate);
    row("replikon live, from JSON text (encodeJson)", f.fromJson(), tweets, totalBytes, rawRate);
    row("replikon catch-up: new subscriber", f.catchUp(), tweets, totalBytes, rawRate);
    row("Chunk.split alone (encode + hash), 1 thread", encodeSeconds, tweets, totalBytes,
        rawRate);
    row("raw Netty WebSocket echo, 1 MiB frames", rawSeconds, tweets, totalBytes, rawRate);
    row("raw Netty WebSocket one way (sink)", sinkSeconds, tweets, totalBytes, rawRate);
    row("raw Netty WebSocket echo + permessage-deflate", deflateSeconds, tweets, totalBytes,
        rawRate);
    System.out.printf("%ntarget: 50,000 tweets/s sustained (live: %s, live pre-encoded: %s,"
        + " live from JSON text: %s, catch-up: %s)%n", met(tweets / f.live()),
        met(tweets / f.preEncoded()), met(tweets / f.fromJson()), met(tweets / f.catchUp()));
    System.out.printf("replikon / raw echo, target 0.5: live %.2f, live pre-encoded %.2f,"
        + " from JSON %.2f, catch-up %.2f (against the one-way sink: %.2f, %.2f, %.2f, %.2f)%n",
        rawSeconds / f.live(), rawSeconds / f.preEncoded(), rawSeconds / f.fromJson(),
        rawSeconds / f.catchUp(), sinkSeconds / f.live(), sinkSeconds / f.preEncoded(),
        sinkSeconds / f.fromJson(), sinkSeconds / f.catchUp());
  }

  /** Seconds of each replikon phase of one pass. */
  private record Figures(double accept, double live, double preEncoded, double fromJson,
      double catchUp) {}

  /**
   * One pass of the replikon phases, each on a new address: live (the server encodes the
   * transactions), live with chunks encoded beforehand, and a new peer catching up on the first.
   * Tweets are numbered from {@code firstSeq} so no chunk repeats an earlier pass's.
   */
  private static Figures run(Peer server, Peer live, List<JsonNode> pool, int commits,
      int perCommit, long firstSeq, String label) throws Exception {
    Address address = createAndSubscribe(server, live);
    PhaseProfile profile = PhaseProfile.start(label + "replication-live");
    long start = System.nanoTime();
    long cpu0 = CollectorThroughput.cpu();
    Deque<CompletableFuture<Hash>> inFlight = new ArrayDeque<>();
    for (int c = 0; c < commits; c++) {
      inFlight.add(server.transact(address, transactions(pool, firstSeq + (long) c * perCommit,
          perCommit)));
      if (inFlight.size() >= IN_FLIGHT) {
        inFlight.poll().get(60, TimeUnit.SECONDS);
      }
    }
    while (!inFlight.isEmpty()) {
      inFlight.poll().get(60, TimeUnit.SECONDS);
    }
    double accept = (System.nanoTime() - start) / 1e9;
    // Not the last transact's commit: transacts in flight may enter in any order (each encodes
    // on its own thread), so the last one accepted need not be the head.
    waitForHeads(live, address, server.heads(address).get());
    double liveSeconds = (System.nanoTime() - start) / 1e9;
    profile.close();
    printCpu(label + "live", cpu0, liveSeconds);

    // The same again with the chunks encoded beforehand, as a collector hands them over.
    Address pre = createAndSubscribe(server, live);
    // (the list is held by the method reference alone, so it goes once the phase is over)
    double preEncoded = replicate(server, live, pre, commits,
        splitBeforehand(pool, firstSeq + (long) commits * perCommit, commits, perCommit)::get,
        label + "live, chunks encoded beforehand");

    // The same again with the producer holding JSON text, as the collector does: each tweet's
    // text encoded straight to canonical CBOR (Chunk.encodeJson) on this thread, while earlier
    // commits replicate.
    Address text = createAndSubscribe(server, live);
    List<byte[]> poolJson = new ArrayList<>(pool.size());
    for (JsonNode t : pool) {
      poolJson.add(JSON.writeValueAsBytes(t));
    }
    double fromJson = replicate(server, live, text, commits, c -> {
      long first = firstSeq + (long) (2 * commits + c) * perCommit;
      List<byte[]> encoded = new ArrayList<>(perCommit);
      for (long n = first; n < first + perCommit; n++) {
        byte[] json = tweetJson(n, poolJson.get((int) (n % poolJson.size())));
        encoded.add(Chunk.encodeJson("tweet", json, 0, json.length));
      }
      return Chunk.splitEncoded(encoded);
    }, label + "live, from JSON text");

    // A new, empty peer subscribes to the first address and catches up.
    Path catchUpDir = Files.createTempDirectory("replikon-bench-catchup");
    try {
      profile = PhaseProfile.start(label + "replication-catch-up");
      start = System.nanoTime();
      cpu0 = CollectorThroughput.cpu();
      try (Peer late = Peer.start(PeerConfig.client(catchUpDir).withPeerId("late")
          .withDurability(DURABILITY).withConnect(List.of(server.url().orElseThrow())))) {
        late.subscribe(address);
        waitForHeads(late, address, server.heads(address).get());
      }
      double catchUp = (System.nanoTime() - start) / 1e9;
      profile.close();
      printCpu(label + "catch-up", cpu0, catchUp);
      return new Figures(accept, liveSeconds, preEncoded, fromJson, catchUp);
    } finally {
      delete(catchUpDir);
    }
  }

  /**
   * Commits {@code commits} commits of the chunks {@code chunksOf} gives (called on this thread,
   * inside the timed loop) to {@code address} at the server, {@code IN_FLIGHT} at a time, and
   * returns the seconds until {@code subscriber} has them all; prints the phase's CPU time and
   * profiles it as {@code phase}.
   */
  private static double replicate(Peer server, Peer subscriber, Address address, int commits,
      IntFunction<List<Chunk>> chunksOf, String phase) throws Exception {
    PhaseProfile profile = PhaseProfile.start("replication-" + phase);
    long start = System.nanoTime();
    long cpu0 = CollectorThroughput.cpu();
    Deque<CompletableFuture<Hash>> inFlight = new ArrayDeque<>();
    for (int c = 0; c < commits; c++) {
      inFlight.add(server.transact(address, chunksOf.apply(c),
          new Checkpoint("bench", ByteBuffer.allocate(4).putInt(c).array())));
      if (inFlight.size() >= IN_FLIGHT) {
        inFlight.poll().get(60, TimeUnit.SECONDS);
      }
    }
    while (!inFlight.isEmpty()) {
      inFlight.poll().get(60, TimeUnit.SECONDS);
    }
    waitForHeads(subscriber, address, server.heads(address).get());
    double seconds = (System.nanoTime() - start) / 1e9;
    profile.close();
    printCpu(phase, cpu0, seconds);
    return seconds;
  }

  /** The chunks of {@code commits} commits of tweets numbered from {@code firstSeq}. */
  private static List<List<Chunk>> splitBeforehand(List<JsonNode> pool, long firstSeq,
      int commits, int perCommit) {
    List<List<Chunk>> chunks = new ArrayList<>(commits);
    for (int c = 0; c < commits; c++) {
      chunks.add(Chunk.split(transactions(pool, firstSeq + (long) c * perCommit, perCommit)));
    }
    return chunks;
  }

  /** The text {@code {"seq":n,"tweet":...}} of one transaction's parameters. */
  private static byte[] tweetJson(long seq, byte[] tweet) {
    byte[] head = ("{\"seq\":" + seq + ",\"tweet\":").getBytes(StandardCharsets.US_ASCII);
    byte[] out = Arrays.copyOf(head, head.length + tweet.length + 1);
    System.arraycopy(tweet, 0, out, head.length, tweet.length);
    out[out.length - 1] = '}';
    return out;
  }

  /** A new address on the server, with {@code client} subscribed and in sync. */
  private static Address createAndSubscribe(Peer server, Peer client) throws Exception {
    Address address = new Address("bench@replikon.io", UUID.randomUUID());
    server.create(address).get(10, TimeUnit.SECONDS);
    client.subscribe(address).get(30, TimeUnit.SECONDS);
    waitForHeads(client, address, server.heads(address).get());
    return address;
  }

  private static String met(double rate) {
    return rate >= 50_000 ? "MET" : "MISSED";
  }

  /** Streams the raw baseline three times and returns the median seconds. */
  private static double medianOfThree(byte[] payload, long totalBytes, RawWebSocket.Run run,
      String name) throws Exception {
    double[] runs = new double[3];
    for (int i = 0; i < runs.length; i++) {
      runs[i] = RawWebSocket.stream(payload, totalBytes, run);
    }
    Arrays.sort(runs);
    System.out.printf("%s, 3 runs: %.2f / %.2f / %.2f s (the median counts)%n", name, runs[0],
        runs[1], runs[2]);
    return runs[1];
  }

  /** Prints the CPU time the process used in a phase, and how many cores that is on average. */
  private static void printCpu(String phase, long cpuBefore, double seconds) {
    double cpu = (CollectorThroughput.cpu() - cpuBefore) / 1e9;
    System.out.printf("%s: %.2f CPU-s in %.2f s (%.2f cores busy)%n", phase, cpu, seconds,
        cpu / seconds);
  }

  private static void row(String name, double seconds, long tweets, long bytes, double rawRate) {
    System.out.printf("%-46s %10.2f %,12.0f %10.1f %14.2f%n", name, seconds, tweets / seconds,
        bytes / 1e6 / seconds, tweets / seconds / rawRate);
  }

  /** The transactions of one commit: tweets {@code first ..} of the pool, cycled, numbered. */
  static List<Transaction> transactions(List<JsonNode> pool, long first, int count) {
    List<Transaction> out = new ArrayList<>(count);
    for (long n = first; n < first + count; n++) {
      out.add(new Transaction("tweet", JsonNodeFactory.instance.objectNode().put("seq", n)
          .set("tweet", pool.get((int) (n % pool.size())))));
    }
    return out;
  }

  /** Polls {@code peer}'s heads every 2 ms until they equal {@code heads}. */
  static void waitForHeads(Peer peer, Address address, Set<Hash> heads) throws Exception {
    long deadline = System.nanoTime() + TIMEOUT_NANOS;
    while (!peer.heads(address).get(60, TimeUnit.SECONDS).equals(heads)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(peer.config().peerId() + " did not reach " + heads
            + " within " + TimeUnit.NANOSECONDS.toSeconds(TIMEOUT_NANOS) + " s; status "
            + peer.status().get());
      }
      Thread.sleep(2);
    }
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
