package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.client.realize.Progress;
import io.replikon.client.realize.Realizer;
import io.replikon.client.realize.Sink;
import io.replikon.client.realize.Sinks;
import io.replikon.storage.Durability;
import io.replikon.value.Hash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Realization throughput: a CDVCS of N {@code add-tweet} transactions realized by a client peer
 * into SQLite, into JSON lines, and into a callback, next to a plain batched JDBC insert of the
 * same rows.
 *
 * <p>A server {@link Peer} on RocksDB with {@link Durability#NONE} holds one CDVCS of
 * {@code commits x perCommit} transactions {@code ["add-tweet", status]}, {@code status} a ~3 KB
 * Twitter v1.1 status from {@link Tweets} (a pool of 5,000, cycled) with its {@code id} and
 * {@code id_str} made unique per tweet. Clients are peers on RocksDB ({@code NONE}) connected over
 * loopback WebSockets.
 *
 * <ol>
 *   <li><b>SQLite, caught-up client</b>: a client subscribes and catches up (not timed); then
 *       {@code Realizer.builder(client, address, Sinks.sqlite(file)).build().runUntilSynced()} is
 *       timed from the call to its return (the subscribe it makes completes at once).
 *   <li><b>plain JDBC</b>: the same tables (created by opening and closing {@code Sinks.sqlite} on
 *       a fresh file, so the schema, trigger and WAL journal are the sink's own), then the same
 *       ops and tweets rows inserted with two prepared statements, {@code addBatch} /
 *       {@code executeBatch}, one transaction per 5,000 rows, {@code synchronous=NORMAL}; the FTS5
 *       index is kept by the sink's trigger as in (1). Rows are built from the same statuses on
 *       the way (copy, set id, JSON text, ISO created_at): what any program inserting them pays.
 *   <li><b>JSON lines</b>: the caught-up client realized into {@code Sinks.jsonLines}: a symlink
 *       to {@code /dev/null} if the sink accepts it, else a file on tmpfs ({@code /dev/shm}).
 *   <li><b>callback</b>: the caught-up client realized into a callback that counts.
 *   <li><b>join</b>: a fresh client peer starts; the clock starts before {@code Peer.start}. It
 *       subscribes, and a realizer into a callback sink runs. Reports when the subscribe future
 *       completed, when the callback first ran, and when the run ended; once with
 *       {@code runUntilSynced()} (waits for catch-up first) and once with {@code syncFirst(false)}
 *       and {@code start()} (realizes commits as they are stored).
 * </ol>
 *
 * <p>Run: {@code java -Xmx4g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.RealizeThroughput [tweets] [perCommit] [stages] [jsonRuns]} (default 1000000
 * 1000 sqlite,jsonl,callback,join 1): {@code stages} picks which of (1, 2), 3, 4 and 5 run
 * ({@code sqlite} is both 1 and 2; {@code jsonl-file} is 3 into a tmpfs file even where
 * {@code /dev/null} is taken); JSON lines runs {@code jsonRuns} times, each into a fresh file, and
 * the table shows the best.
 */
public final class RealizeThroughput {
  private static final int POOL = 5_000;
  private static final int PLAIN_BATCH = 5_000;
  private static final long FIRST_ID = 1_100_000_000_000_000_000L;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();
  private static final DateTimeFormatter TWITTER_TIME =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss Z yyyy", Locale.ROOT);

  private RealizeThroughput() {}

  public static void main(String[] args) throws Exception {
    long tweets = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    int perCommit = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    Set<String> stages = Set.of((args.length > 2 ? args[2] : "sqlite,jsonl,callback,join")
        .split(","));
    int jsonRuns = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    int commits = (int) ((tweets + perCommit - 1) / perCommit);
    tweets = (long) commits * perCommit;
    Tweets source = new Tweets(42);
    List<JsonNode> pool = new ArrayList<>(POOL);
    for (int i = 0; i < POOL; i++) {
      pool.add(source.next());
    }
    System.out.printf("%,d commits x %,d add-tweet = %,d tweets (~%,d B of JSON a status)%n",
        commits, perCommit, tweets, JSON.writeValueAsBytes(status(pool, 0)).length);

    Address address = new Address("bench@replikon.io", UUID.randomUUID());
    Path work = Files.createTempDirectory("replikon-bench-realize");
    Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "replikon-bench-realize");
    List<String[]> rows = new ArrayList<>();
    try (Peer server = Peer.start(PeerConfig.server(work.resolve("server")).withPeerId("server")
        .withDurability(Durability.NONE))) {
      server.create(address).get(10, TimeUnit.SECONDS);
      long b0 = System.nanoTime();
      List<Hash> commitIds = build(server, address, pool, commits, perCommit);
      System.out.printf("server built in %.1f s%n", (System.nanoTime() - b0) / 1e9);
      Set<Hash> heads = server.heads(address).get();

      // --- a client that is caught up before anything is timed
      double sqliteSeconds = Double.NaN;
      double plainSeconds = Double.NaN;
      double jsonSeconds = Double.NaN;
      double callbackSeconds = Double.NaN;
      String jsonWhere = "-";
      try (Peer client = Peer.start(PeerConfig.client(work.resolve("client")).withPeerId("client")
          .withDurability(Durability.NONE).withConnect(List.of(server.url().orElseThrow())))) {
        long c0 = System.nanoTime();
        client.subscribe(address).get(10, TimeUnit.MINUTES);
        ReplicationThroughput.waitForHeads(client, address, heads);
        double catchUp = (System.nanoTime() - c0) / 1e9;
        System.out.printf("client caught up in %.1f s (%,.0f tweets/s), not timed below%n",
            catchUp, tweets / catchUp);

        Progress p;
        if (stages.contains("sqlite")) {
          // 1. SQLite through the realizer
          Path realized = work.resolve("realized.db");
          long s0 = System.nanoTime();
          long sqliteCpu0 = THREADS.getCurrentThreadCpuTime();
          try (Sink<?> sink = Sinks.sqlite(realized)) {
            // the sink's default add-tweet handler
            p = Realizer.builder(client, address, sink).build().runUntilSynced();
          }
          sqliteSeconds = (System.nanoTime() - s0) / 1e9;
          double sqliteCpu = (THREADS.getCurrentThreadCpuTime() - sqliteCpu0) / 1e9;
          check(p, commits + 1, tweets, "sqlite");
          long[] realizedCounts = counts(realized);
          System.out.printf("realizer -> SQLite: %.1f s, %s%n", sqliteSeconds, describe(p));

          // 2. plain JDBC, same schema and rows
          Path plain = work.resolve("plain.db");
          Sinks.sqlite(plain).close(); // the sink's own DDL, trigger and journal mode
          long j0 = System.nanoTime();
          long plainCpu0 = THREADS.getCurrentThreadCpuTime();
          plainInsert(plain, pool, commitIds, perCommit);
          plainSeconds = (System.nanoTime() - j0) / 1e9;
          double plainCpu = (THREADS.getCurrentThreadCpuTime() - plainCpu0) / 1e9;
          long[] plainCounts = counts(plain);
          System.out.printf("plain JDBC: %.1f s%n", plainSeconds);
          System.out.printf("CPU of the inserting thread (SQLite's own work included): realizer "
              + "%.1f s, plain %.1f s, ratio %.2f%n", sqliteCpu, plainCpu, plainCpu / sqliteCpu);
          System.out.printf(
              "rows (ops, tweets, FTS 'replication' hits, MB): realized %s, plain %s%n",
              java.util.Arrays.toString(realizedCounts), java.util.Arrays.toString(plainCounts));
          if (realizedCounts[0] != tweets || realizedCounts[1] != tweets
              || plainCounts[0] != tweets || plainCounts[1] != tweets
              || realizedCounts[2] != plainCounts[2]) {
            throw new IllegalStateException("row counts differ");
          }
          for (String f : List.of("realized.db", "plain.db")) {
            for (String suffix : List.of("", "-wal", "-shm")) {
              Files.deleteIfExists(work.resolve(f + suffix));
            }
          }
        }

        // 3. JSON lines into /dev/null if the sink takes it, else tmpfs (best of jsonRuns)
        Path devNull = shm.resolve("null.jsonl");
        Files.createSymbolicLink(devNull, Path.of("/dev/null"));
        boolean json = stages.contains("jsonl") || stages.contains("jsonl-file");
        for (int run = 0; run < jsonRuns && json; run++) {
          Sink<?> jsonSink;
          try {
            if (stages.contains("jsonl-file")) {
              throw new IllegalStateException("the jsonl-file stage writes a file");
            }
            // probe: an empty batch writes nothing but fsyncs the file and writes the sidecar
            try (Sink<?> probe = Sinks.jsonLines(devNull)) {
              probe.begin(address).commit(io.replikon.client.realize.AppliedLog.EMPTY);
            }
            Files.deleteIfExists(shm.resolve("null.jsonl.applied"));
            jsonSink = Sinks.jsonLines(devNull);
            jsonWhere = "/dev/null (symlink)";
          } catch (RuntimeException e) {
            System.out.println("JSON lines not into /dev/null: " + e.getMessage());
            Files.deleteIfExists(shm.resolve("null.jsonl.applied"));
            Files.deleteIfExists(shm.resolve("null.jsonl.applied.tmp"));
            jsonSink = Sinks.jsonLines(shm.resolve("out.jsonl"));
            jsonWhere = "tmpfs /dev/shm";
          }
          long l0 = System.nanoTime();
          long cpu0 = THREADS.getCurrentThreadCpuTime();
          try (Sink<?> sink = jsonSink) {
            p = realizer(client, address, sink).runUntilSynced();
          }
          double seconds = (System.nanoTime() - l0) / 1e9;
          double cpu = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e9;
          jsonSeconds = run == 0 ? seconds : Math.min(jsonSeconds, seconds);
          check(p, commits + 1, tweets, "json lines");
          System.out.printf("realizer -> JSON lines (%s): %.2f s (%,.0f tweets/s); realizing "
              + "thread's CPU %.2f s (%,.0f tweets per CPU-second)%n", jsonWhere, seconds,
              tweets / seconds, cpu, tweets / cpu);
          Files.deleteIfExists(shm.resolve("out.jsonl"));
          Files.deleteIfExists(shm.resolve("out.jsonl.applied"));
          Files.deleteIfExists(shm.resolve("null.jsonl.applied"));
        }

        // 4. callback that counts
        if (stages.contains("callback")) {
          AtomicLong seen = new AtomicLong();
          long k0 = System.nanoTime();
          p = Realizer.builder(client, address, Sinks.callback(t -> seen.incrementAndGet()))
              .accept("add-tweet").build().runUntilSynced();
          callbackSeconds = (System.nanoTime() - k0) / 1e9;
          check(p, commits + 1, tweets, "callback");
          if (seen.get() != tweets) {
            throw new IllegalStateException("callback saw " + seen.get());
          }
          System.out.printf("realizer -> callback: %.1f s%n", callbackSeconds);
        }
      }
      rows.add(row("realizer -> SQLite (caught-up client)", sqliteSeconds, tweets));
      rows.add(row("plain JDBC batch insert, same rows", plainSeconds, tweets));
      rows.add(row("realizer -> JSON lines, " + jsonWhere, jsonSeconds, tweets));
      rows.add(row("realizer -> callback (counts)", callbackSeconds, tweets));

      // 5. joining: time to first applied transaction
      boolean joins = stages.contains("join");
      Join synced = joins ? join(server, address, work.resolve("join1"), tweets, true) : null;
      Join live = joins ? join(server, address, work.resolve("join2"), tweets, false) : null;

      System.out.println();
      System.out.printf("%-46s %10s %12s%n", "catch-up realization", "seconds", "tweets/s");
      for (String[] r : rows) {
        System.out.printf("%-46s %10s %12s%n", (Object[]) r);
      }
      System.out.printf("%nrealizer/plain (SQLite): %.2f (aim >= 0.7: %s)%n",
          plainSeconds / sqliteSeconds, plainSeconds / sqliteSeconds >= 0.7 ? "MET" : "MISSED");
      System.out.printf("JSON lines: %,.0f tweets/s (aim >= 100,000: %s)%n",
          tweets / jsonSeconds, tweets / jsonSeconds >= 100_000 ? "MET" : "MISSED");
      System.out.println();
      System.out.printf("%-46s %12s %12s %12s%n", "joining an N-tweet CDVCS (ms from Peer.start)",
          "subscribed", "first row", "all rows");
      if (joins) {
        synced.print("runUntilSynced() (syncFirst)");
        live.print("start(), syncFirst(false), own subscribe");
      }
    } finally {
      ReplicationThroughput.delete(work);
      ReplicationThroughput.delete(shm);
    }
  }

  /** A realizer that records add-tweet and no more (the SQLite sink's handler is its own). */
  private static Realizer realizer(Peer peer, Address address, Sink<?> sink) {
    return Realizer.builder(peer, address, sink).accept("add-tweet").build();
  }

  private static void check(Progress p, long commits, long tweets, String what) {
    if (p.transactionsApplied() != tweets || p.commitsApplied() != commits) {
      throw new IllegalStateException(what + ": " + describe(p) + ", expected " + commits
          + " commits and " + tweets + " transactions");
    }
  }

  private static String describe(Progress p) {
    return p.commitsApplied() + " commits, " + p.transactionsApplied() + " transactions in "
        + p.elapsed().toMillis() + " ms";
  }

  private static String[] row(String name, double seconds, long tweets) {
    return new String[] {name, String.format("%.2f", seconds),
        String.format("%,.0f", tweets / seconds)};
  }

  /** Tweet {@code n}: status {@code n} of the pool, cycled, with id {@code FIRST_ID + n}. */
  static ObjectNode status(List<JsonNode> pool, long n) {
    ObjectNode s = (ObjectNode) pool.get((int) (n % pool.size())).deepCopy();
    long id = FIRST_ID + n;
    s.put("id", id);
    s.put("id_str", Long.toString(id));
    return s;
  }

  /** Commits every tweet on the server, two transacts in flight; returns the commit ids. */
  private static List<Hash> build(Peer server, Address address, List<JsonNode> pool, int commits,
      int perCommit) throws Exception {
    List<Hash> ids = new ArrayList<>(commits);
    Deque<CompletableFuture<Hash>> inFlight = new ArrayDeque<>();
    for (int c = 0; c < commits; c++) {
      List<Transaction> txs = new ArrayList<>(perCommit);
      for (long n = (long) c * perCommit; n < (long) (c + 1) * perCommit; n++) {
        txs.add(new Transaction("add-tweet", status(pool, n)));
      }
      inFlight.add(server.transact(address, txs));
      if (inFlight.size() >= 2) {
        ids.add(inFlight.poll().get(60, TimeUnit.SECONDS));
      }
    }
    while (!inFlight.isEmpty()) {
      ids.add(inFlight.poll().get(60, TimeUnit.SECONDS));
    }
    return ids;
  }

  /** The plain baseline: the sink's rows, batched JDBC, one transaction per 5,000 rows. */
  private static void plainInsert(Path file, List<JsonNode> pool, List<Hash> commitIds,
      int perCommit) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath())) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=NORMAL");
      }
      c.setAutoCommit(false);
      try (PreparedStatement ops = c.prepareStatement(
              "INSERT INTO ops (commit_id, tx_index, fn, params) VALUES (?, ?, ?, ?)");
          PreparedStatement tw = c.prepareStatement("INSERT INTO tweets (id, created_at, "
              + "screen_name, text, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
        int inBatch = 0;
        long n = 0;
        for (Hash commit : commitIds) {
          String hex = commit.hex();
          for (int i = 0; i < perCommit; i++, n++) {
            ObjectNode status = status(pool, n);
            String json = JSON.writeValueAsString(status);
            ops.setString(1, hex);
            ops.setInt(2, i);
            ops.setString(3, "add-tweet");
            ops.setString(4, json);
            ops.addBatch();
            tw.setLong(1, status.get("id").asLong());
            text(tw, 2, createdAt(status.path("created_at").asText()));
            text(tw, 3, status.path("user").path("screen_name").textValue());
            text(tw, 4, status.path("text").textValue());
            tw.setString(5, json);
            tw.addBatch();
            if (++inBatch == PLAIN_BATCH) {
              ops.executeBatch();
              tw.executeBatch();
              c.commit();
              inBatch = 0;
            }
          }
        }
        if (inBatch > 0) {
          ops.executeBatch();
          tw.executeBatch();
          c.commit();
        }
      }
    }
  }

  private static String createdAt(String raw) {
    try {
      return ZonedDateTime.parse(raw, TWITTER_TIME).toInstant().toString();
    } catch (DateTimeParseException e) {
      return raw;
    }
  }

  private static void text(PreparedStatement s, int index, String value) throws SQLException {
    if (value == null) {
      s.setNull(index, Types.VARCHAR);
    } else {
      s.setString(index, value);
    }
  }

  /** Rows of ops and tweets, FTS hits for 'replication', and the file's size in MB. */
  private static long[] counts(Path file) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        Statement s = c.createStatement()) {
      long[] out = new long[4];
      String[] queries = {"SELECT count(*) FROM ops", "SELECT count(*) FROM tweets",
          "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'replication'"};
      for (int i = 0; i < queries.length; i++) {
        try (ResultSet r = s.executeQuery(queries[i])) {
          r.next();
          out[i] = r.getLong(1);
        }
      }
      out[3] = Files.size(file) / 1_000_000;
      return out;
    }
  }

  /** What a joining client saw, in ms from the start of Peer.start. */
  private record Join(double subscribed, double firstRow, double allRows) {
    void print(String name) {
      System.out.printf("%-46s %12.0f %12.0f %12.0f%n", name, subscribed, firstRow, allRows);
    }
  }

  /**
   * A fresh client peer joins: subscribe, and a realizer into a callback sink that records when it
   * is first called and counts.
   */
  private static Join join(Peer server, Address address, Path dir, long tweets,
      boolean syncFirst) throws Exception {
    AtomicLong first = new AtomicLong();
    AtomicLong seen = new AtomicLong();
    AtomicLong subscribed = new AtomicLong();
    long t0 = System.nanoTime();
    try (Peer peer = Peer.start(PeerConfig.client(dir).withPeerId("join")
        .withDurability(Durability.NONE).withConnect(List.of(server.url().orElseThrow())))) {
      peer.subscribe(address).whenComplete((v, e) -> subscribed.set(System.nanoTime()));
      Realizer r = Realizer.builder(peer, address, Sinks.callback(t -> {
        if (seen.getAndIncrement() == 0) {
          first.set(System.nanoTime());
        }
      })).accept("add-tweet").syncFirst(syncFirst).build();
      long end;
      if (syncFirst) {
        r.runUntilSynced();
        end = System.nanoTime();
      } else {
        try (Realizer.Live l = r.start()) {
          long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
          while (seen.get() < tweets) {
            if (System.nanoTime() > deadline || l.stopped().isDone()) {
              throw new IllegalStateException("live realizer saw " + seen.get() + " of " + tweets
                  + (l.stopped().isDone() ? ", stopped" : ""));
            }
            Thread.sleep(1);
          }
          end = System.nanoTime();
        }
      }
      if (seen.get() != tweets) {
        throw new IllegalStateException("join saw " + seen.get() + " of " + tweets);
      }
      long sub = subscribed.get();
      System.out.printf("join (syncFirst %s): subscribed %.0f ms, first row %.0f ms, all %.0f ms%n",
          syncFirst, (sub - t0) / 1e6, (first.get() - t0) / 1e6, (end - t0) / 1e6);
      return new Join((sub - t0) / 1e6, (first.get() - t0) / 1e6, (end - t0) / 1e6);
    } finally {
      ReplicationThroughput.delete(dir);
    }
  }
}
