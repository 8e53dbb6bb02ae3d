package io.replikon.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Checkpoint;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.collector.Accepted;
import io.replikon.collector.Collector;
import io.replikon.collector.CollectorConfig;
import io.replikon.collector.CollectorStats;
import io.replikon.collector.JsonLinesConfig;
import io.replikon.collector.Sources;
import io.replikon.collector.Submission;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

/**
 * The collector's JSON-lines path: N ~3 KB tweets from a file to committed CDVCS commits, and its
 * parts alone.
 *
 * <p>N statuses from {@link Tweets} (a pool of 5,000, cycled, {@code id}/{@code id_str} unique) are
 * written one a line to a file on tmpfs ({@code /dev/shm}), so reading the input costs no disk.
 * The collector is a server peer on RocksDB in a temporary directory under {@code /tmp} (the peer's
 * default durability, {@code BATCH}; the journal inside the store directory, on the same disk),
 * default flush threshold 10,000, flush interval 1 h (so only the threshold and the final flush
 * commit).
 *
 * <ol>
 *   <li><b>parse + encode</b>: the file's lines (read into memory first) parsed by Jackson into a
 *       tree and encoded by {@code Chunk.encode} (the path before {@code JsonCbor}), then read
 *       straight into canonical CBOR by {@code Chunk.encodeJson} as the collector does now; on one
 *       thread, and in parallel batches of 1,000 on the common pool as {@code JsonLinesSource} does.
 *   <li><b>journal append</b>: the encoded events submitted to a collector in submissions of
 *       1,000, four in flight (as the source does), its threshold set to N so nothing is committed
 *       meanwhile; from the first submit until every one is acknowledged (written and fsynced).
 *   <li><b>commit</b>: a fresh server peer commits the encoded events in commits of 10,000 with
 *       {@code Chunk.splitEncoded} and {@code Peer.transact(address, chunks, checkpoint)}, one
 *       at a time: what the collector's flusher does.
 *   <li><b>jsonl to committed</b> (repeated): a fresh collector runs
 *       {@code Sources.jsonLines(JsonLinesConfig.file(f))} to the end, then {@code flush().join()};
 *       from the start of reading to the return of the last commit.
 * </ol>
 *
 * <p>Run: {@code java -Xmx4g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.CollectorThroughput [tweets] [runs] [parts]} (default 200000 3 true).
 */
public final class CollectorThroughput {
  private static final int POOL = 5_000;
  private static final int BATCH = 1_000;
  private static final int WINDOW = 4;
  private static final int THRESHOLD = 10_000;
  /** As the collector's {@code Events}: duplicate keys refused, found by the tree builder. */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private CollectorThroughput() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    boolean parts = args.length <= 2 || Boolean.parseBoolean(args[2]);
    Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "replikon-bench-collector");
    Path work = Files.createTempDirectory("replikon-bench-collector");
    try {
      Path file = shm.resolve("tweets.jsonl");
      long bytes = writeTweets(file, n);
      System.out.printf("%,d tweets, %,d B of JSON lines (%,d B a tweet) in %s (tmpfs);"
          + " stores and journals under %s%n", n, bytes, bytes / n, file, work);
      double mb = bytes / 1e6;
      List<String[]> rows = new ArrayList<>();

      if (parts) {
        List<byte[]> lines = readLines(file);
        // 1. parse + encode
        for (int warm = 0; warm < 2; warm++) {
          encodeSerial(lines.subList(0, Math.min(20_000, n)));
          lines.subList(0, Math.min(20_000, n)).forEach(CollectorThroughput::treeEncode);
          encodeParallel(lines.subList(0, Math.min(20_000, n)));
        }
        String load = load();
        mark();
        long p0 = System.nanoTime();
        long parsedCount = 0;
        for (byte[] line : lines) {
          parsedCount += parse(line).size();
        }
        double parseOnly = seconds(p0);
        rows.add(row("Jackson parse alone, 1 thread", parseOnly, n, mb, load));
        if (parsedCount == 0) {
          throw new IllegalStateException("nothing parsed");
        }
        load = load();
        mark();
        long t0 = System.nanoTime();
        for (byte[] line : lines) {
          treeEncode(line);
        }
        rows.add(row("Jackson tree + canonical encode (the path before JsonCbor), 1 thread",
            seconds(t0), n, mb, load));
        load = load();
        mark();
        long e0 = System.nanoTime();
        List<byte[]> encoded = encodeSerial(lines);
        rows.add(row("JSON straight to canonical CBOR (Chunk.encodeJson), 1 thread", seconds(e0),
            n, mb, load));
        load = load();
        mark();
        e0 = System.nanoTime();
        encoded = encodeParallel(lines);
        rows.add(row("encodeJson, batches of 1,000 in parallel (as the source)",
            seconds(e0), n, mb, load));
        lines = null;
        long encodedBytes = encoded.stream().mapToLong(b -> b.length).sum();
        System.out.printf("encoded: %,d B (%,d B a tweet)%n", encodedBytes, encodedBytes / n);
        double encMb = encodedBytes / 1e6;

        // 2. journal append alone
        load = load();
        Address address = new Address("bench@replikon.io", UUID.randomUUID());
        Path store = work.resolve("journal-only");
        double journalSeconds;
        double journalCpu;
        String[] writerRow;
        try (Collector c = Collector.start(CollectorConfig.of(PeerConfig.server(store), address)
            .withFlushInterval(Duration.ofHours(1)).withFlushThreshold(n))) {
          long writer0 = threadCpu("replikon-journal");
          mark();
          long j0 = System.nanoTime();
          ArrayDeque<CompletableFuture<Accepted>> inFlight = new ArrayDeque<>();
          for (int i = 0; i < n; i += BATCH) {
            while (inFlight.size() >= WINDOW) {
              inFlight.removeFirst().join();
            }
            inFlight.add(c.submit(Submission.of(encoded.subList(i, Math.min(n, i + BATCH)))));
          }
          while (!inFlight.isEmpty()) {
            inFlight.removeFirst().join();
          }
          journalSeconds = seconds(j0);
          journalCpu = cpuSince();
          double writerCpu = (threadCpu("replikon-journal") - writer0) / 1e9;
          writerRow = row("  of which the journal's writer thread (copy, CRC, write, fsync)",
              journalSeconds, writerCpu, n, encMb, load);
          long f0 = System.nanoTime();
          c.flush().join();
          System.out.printf("(then one commit of all %,d: %.2f s, not in the table)%n", n,
              seconds(f0));
        }
        rows.add(row("journal append alone (submissions of 1,000, 4 in flight, fsync)",
            journalSeconds, journalCpu, n, encMb, load));
        rows.add(writerRow);
        ReplicationThroughput.delete(store);

        // 3. commit alone
        load = load();
        Path commitStore = work.resolve("commit-only");
        double commitSeconds;
        double commitCpu;
        try (Peer peer = Peer.start(PeerConfig.server(commitStore))) {
          peer.create(address).join();
          mark();
          long c0 = System.nanoTime();
          for (int i = 0; i < n; i += THRESHOLD) {
            List<byte[]> batch = encoded.subList(i, Math.min(n, i + THRESHOLD));
            byte[] checkpoint = ByteBuffer.allocate(8).putLong(i + batch.size()).array();
            peer.transact(address, Chunk.splitEncoded(batch),
                new Checkpoint("collector/" + address, checkpoint)).join();
          }
          commitSeconds = seconds(c0);
          commitCpu = cpuSince();
        }
        rows.add(row("commit alone (splitEncoded + SHA-256 + transact, 10,000 a commit)",
            commitSeconds, commitCpu, n, encMb, load));
        ReplicationThroughput.delete(commitStore);
        encoded = null;
      }

      // 4. the whole path
      for (int r = 1; r <= runs; r++) {
        Address address = new Address("bench@replikon.io", UUID.randomUUID());
        Path store = work.resolve("run-" + r);
        String load = load();
        double total;
        double totalCpu;
        CollectorStats stats;
        try (Collector c = Collector.start(CollectorConfig.of(PeerConfig.server(store), address)
            .withFlushInterval(Duration.ofHours(1)))) {
          java.util.Map<String, Long> threads0 = threadTimes();
          mark();
          long t0 = System.nanoTime();
          Sources.jsonLines(JsonLinesConfig.file(file)).run(c);
          double read = seconds(t0);
          c.flush().join();
          total = seconds(t0);
          totalCpu = cpuSince();
          printThreadTimes(threads0, threadTimes());
          stats = c.stats();
          System.out.printf("run %d: read and journaled in %.2f s, committed in %.2f s; %s%n", r,
              read, total, stats);
        }
        if (stats.committed() != n) {
          throw new IllegalStateException("committed " + stats.committed() + " of " + n);
        }
        rows.add(row("jsonl -> committed, run " + r, total, totalCpu, n, mb, load));
        ReplicationThroughput.delete(store);
      }

      System.out.println();
      System.out.printf("| %-72s | %8s | %10s | %7s | %8s | %14s | %s |%n", "what", "s",
          "tweets/s", "MB/s", "CPU s", "tweets/CPU-s", "load (1/5/15 min)");
      for (String[] row : rows) {
        System.out.printf("| %-72s | %8s | %10s | %7s | %8s | %14s | %s |%n", (Object[]) row);
      }
      System.out.println("(MB/s: of JSON for parsing and the whole path, of encoded"
          + " transactions for the journal and commits)");
    } finally {
      ReplicationThroughput.delete(work);
      ReplicationThroughput.delete(shm);
    }
  }

  /** Writes N statuses, one a line; returns the file's size. */
  private static long writeTweets(Path file, int n) throws Exception {
    Tweets source = new Tweets(42);
    List<JsonNode> pool = new ArrayList<>(POOL);
    for (int i = 0; i < POOL; i++) {
      pool.add(source.next());
    }
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      for (int i = 0; i < n; i++) {
        out.write(JSON.writeValueAsBytes(RealizeThroughput.status(pool, i)));
        out.write('\n');
      }
    }
    return Files.size(file);
  }

  private static List<byte[]> readLines(Path file) throws Exception {
    byte[] all = Files.readAllBytes(file);
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n') {
        lines.add(Arrays.copyOfRange(all, start, i));
        start = i + 1;
      }
    }
    return lines;
  }

  private static JsonNode parse(byte[] line) {
    try {
      return JSON.readTree(line);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] treeEncode(byte[] line) {
    return Chunk.encode(new Transaction("add-tweet", parse(line)));
  }

  private static byte[] encode(byte[] line) {
    return Chunk.encodeJson("add-tweet", line, 0, line.length);
  }

  private static List<byte[]> encodeSerial(List<byte[]> lines) {
    List<byte[]> out = new ArrayList<>(lines.size());
    for (byte[] line : lines) {
      out.add(encode(line));
    }
    return out;
  }

  private static List<byte[]> encodeParallel(List<byte[]> lines) {
    byte[][] out = new byte[lines.size()][];
    for (int from = 0; from < lines.size(); from += BATCH) {
      int to = Math.min(lines.size(), from + BATCH);
      IntStream.range(from, to).parallel().forEach(i -> out[i] = encode(lines.get(i)));
    }
    return Arrays.asList(out);
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  /** CPU time of this process so far, in nanoseconds (every thread, GC and JIT included). */
  static long cpu() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** CPU time so far of the live threads whose name starts with {@code prefix}, nanoseconds. */
  static long threadCpu(String prefix) {
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(prefix)) {
        sum += Math.max(0, threads.getThreadCpuTime(t.getId()));
      }
    }
    return sum;
  }

  private static long cpuMark;

  /**
   * CPU time (user + system, in clock ticks) of every thread of this process by thread id and
   * name, from /proc/self/task: JVM threads, GC and JIT threads, and RocksDB's own native threads
   * alike. Empty where there is no /proc.
   */
  static java.util.Map<String, Long> threadTimes() {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String[] f = stat.substring(close + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          out.put(task.getFileName() + " " + stat.substring(open + 1, close), ticks);
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (java.io.IOException e) {
      return out;
    }
    return out;
  }

  /** Prints the CPU seconds threads used between two {@link #threadTimes}, grouped by name. */
  static void printThreadTimes(java.util.Map<String, Long> before,
      java.util.Map<String, Long> after) {
    java.util.Map<String, Long> byName = new java.util.TreeMap<>();
    long all = 0;
    for (var e : after.entrySet()) {
      long used = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      String name = e.getKey().substring(e.getKey().indexOf(' ') + 1)
          .replaceAll("[0-9]+$", "").replaceAll("-[0-9a-f]{6,}$", "").replaceAll("[-#]$", "");
      byName.merge(name, used, Long::sum);
      all += used;
    }
    if (all == 0) {
      return;
    }
    StringBuilder line = new StringBuilder("  CPU by thread (s):");
    long total = all;
    byName.entrySet().stream().filter(e -> e.getValue() * 100 >= total) // at least 1%
        .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> line.append(String.format(" %s %.2f;", e.getKey(), e.getValue() / 100.0)));
    System.out.println(line.append(String.format(" all %.2f", all / 100.0)));
  }

  /** Starts the CPU clock of a row. */
  private static void mark() {
    cpuMark = cpu();
  }

  /** The load average now, as uptime prints it. */
  static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  /** A table row; the CPU time is the process's since the last {@link #mark}. */
  private static String[] row(String what, double seconds, long n, double mb, String load) {
    return row(what, seconds, cpuSince(), n, mb, load);
  }

  /** The process's CPU seconds since the last {@link #mark}. */
  private static double cpuSince() {
    return (cpu() - cpuMark) / 1e9;
  }

  private static String[] row(String what, double seconds, double cpuSeconds, long n, double mb,
      String load) {
    return new String[] {what, String.format("%.2f", seconds), String.format("%,.0f", n / seconds),
        String.format("%.0f", mb / seconds), String.format("%.2f", cpuSeconds),
        String.format("%,.0f", n / cpuSeconds), load};
  }
}
