package io.replikon.cli;

import io.replikon.client.KeyFiles;
import io.replikon.error.ReplikonException;
import io.replikon.storage.PrivateFiles;
import io.replikon.trust.SigningKey;
import io.replikon.trust.VerifyingKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replikon demo}: a server peer, a collector on the sample tweets and a stream into SQLite,
 * each a process of its own, then a query of the result.
 */
@Command(
    name = "demo",
    header = "Run the whole pipeline on the bundled sample tweets and query the result.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Starts a server peer, runs a collector on the sample tweets (samples/tweets.jsonl) that "
          + "pushes them to the peer as a CDVCS, streams the CDVCS into a SQLite file, and "
          + "prints the tweet count, the full-text matches for a word and the five most active "
          + "accounts. Each part is a process of its own, as you would run it; the demo stops "
          + "them all at the end and prints the commands to run each part alone.",
      "",
      "The data (stores, logs, the SQLite file) stays in --dir for you to look at."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:The pipeline ran and the query printed its result.",
      "1:A part failed; its log is named in the message."
    })
final class DemoCommand implements Callable<Integer> {
  private static final Pattern LISTENING = Pattern.compile("listening on (ws://\\S+)");

  private final Io io;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Where the demo keeps its data (default: a new directory under the system's "
          + "temporary directory).")
  private Path dir;

  @Option(names = "--tweets", paramLabel = "FILE",
      description = "JSON lines of tweets to collect (default: samples/tweets.jsonl of this "
          + "source tree).")
  private Path tweets;

  @Option(names = "--word", paramLabel = "WORD", defaultValue = "ethereum",
      description = "The word to search the tweets for (default: ${DEFAULT-VALUE}).")
  private String word;

  @Option(names = "--key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_KEY}",
      description = "The private key the collector signs with (default: a new one, written to "
          + "keys/collector.key in the demo's directory).")
  private Path key;

  DemoCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() throws Exception {
    PrintStream out = new PrintStream(io.out(), true, StandardCharsets.UTF_8);
    Path input = tweets != null ? tweets : bundledTweets();
    if (!Files.isRegularFile(input)) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT, "no tweets at " + input
          + "; give --tweets FILE (JSON lines)");
    }
    Path work = dir != null ? Files.createDirectories(dir)
        : Files.createTempDirectory("replikon-demo-");
    String crdt = "demo/" + UUID.randomUUID();
    Path db = work.resolve("tweets.db");
    long started = System.nanoTime();
    out.printf("replikon demo in %s%n", work);
    List<Process> running = new ArrayList<>();
    Thread cleanup = new Thread(() -> running.forEach(Process::destroy), "replikon-demo-stop");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      Path collectorKey = key != null ? key : work.resolve("keys").resolve("collector.key");
      if (key == null && !Files.exists(collectorKey)) { // a second run in --dir keeps its key
        PrivateFiles.createDirectories(collectorKey.getParent());
        KeyFiles.write(collectorKey, SigningKey.generate());
      }
      VerifyingKey signer = KeyFiles.read(collectorKey).verifyingKey();
      Path writers = Files.writeString(work.resolve("writers.txt"), "# who may write what\n"
          + "demo " + signer + "\n");
      out.printf("0. the collector signs with %s (%s);%n   the peer takes commits to demo/..."
          + " from that key only (%s)%n", collectorKey, signer, writers);
      out.println("1. starting a server peer");
      Process peer = start(running, work, "peer", "peer", "--port", "0", "--host", "127.0.0.1",
          "--store", work.resolve("peer").toString(), "--writers", writers.toString());
      String url = awaitListening(peer, work.resolve("peer.log"));
      out.printf("   listening on %s%n", url);

      out.printf("2. collecting %s into %s, pushed to the peer%n", input.getFileName(), crdt);
      Process collector = start(running, work, "collector", "collect", "--store",
          work.resolve("collector").toString(), "--crdt", crdt, "--source", "jsonl", "--file",
          input.toString(), "--connect", url, "--key", collectorKey.toString());
      awaitExit(collector, "collector", work, 120);

      out.printf("3. streaming %s into %s%n", crdt, db);
      Process stream = start(running, work, "stream", "stream", "--connect", url, "--crdt", crdt,
          "--into", "sqlite:" + db, "--until-synced");
      awaitExit(stream, "stream", work, 120);

      out.println("4. the query");
      query(out, db);
      peer.destroy();
      peer.waitFor(30, TimeUnit.SECONDS);
      out.printf("%nDone in %.1f s; every process stopped. Data, logs and the SQLite file are in"
          + " %s%n", (System.nanoTime() - started) / 1e9, work);
      printParts(out, work, input, crdt, collectorKey);
      return 0;
    } finally {
      running.forEach(Process::destroy);
      for (Process p : running) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private void query(PrintStream out, Path db) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath())) {
      long count = single(c, "SELECT count(*) FROM tweets", null);
      out.printf("   tweets:                      %,d%n", count);
      long matches = single(c, "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH ?",
          '"' + word.replace("\"", "\"\"") + '"');
      out.printf("   tweets matching \"%s\":  %,d%n", word, matches);
      try (PreparedStatement s = c.prepareStatement("SELECT t.screen_name, substr(t.text, 1, 70)"
          + " FROM tweets_fts f JOIN tweets t ON t.id = f.rowid WHERE tweets_fts MATCH ?"
          + " ORDER BY t.id LIMIT 3")) {
        s.setString(1, '"' + word.replace("\"", "\"\"") + '"');
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            out.printf("     @%s: %s%n", r.getString(1), r.getString(2).replace('\n', ' '));
          }
        }
      }
      out.println("   the five most active accounts:");
      try (ResultSet r = c.createStatement().executeQuery("SELECT screen_name, count(*) n FROM"
          + " tweets GROUP BY screen_name ORDER BY n DESC, screen_name LIMIT 5")) {
        while (r.next()) {
          out.printf("     @%-24s %,d tweets%n", r.getString(1), r.getLong(2));
        }
      }
    }
  }

  private static long single(Connection c, String sql, String parameter) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      if (parameter != null) {
        s.setString(1, parameter);
      }
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    }
  }

  private static void printParts(PrintStream out, Path work, Path input, String crdt,
      Path collectorKey) {
    String root = "./replikon";
    out.println();
    out.println("Run each part alone (from the source tree; each in a terminal of its own):");
    out.printf("  %s peer --port 9095 --store %s \\%n      --writers %s%n", root,
        work.resolve("peer"), work.resolve("writers.txt"));
    out.printf("  %s collect --store %s --crdt %s --source jsonl --file %s \\%n"
        + "      --connect ws://127.0.0.1:9095/replikon --key %s%n", root,
        work.resolve("collector"), crdt, input, collectorKey);
    out.printf("  %s stream --connect ws://127.0.0.1:9095/replikon --crdt %s \\%n"
        + "      --into sqlite:%s --until-synced%n", root, crdt, work.resolve("tweets.db"));
    out.printf("  sqlite3 %s \"SELECT screen_name, count(*) n FROM tweets GROUP BY 1"
        + " ORDER BY n DESC LIMIT 5\"%n", work.resolve("tweets.db"));
  }

  /** Starts {@code replikon ARGS} in a JVM of its own, logging to {@code DIR/NAME.log}. */
  private static Process start(List<Process> running, Path work, String name, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    // the same heap and GC settings as this JVM (the launcher's -XX:G1HeapRegionSize=4m)
    java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-X")).forEach(command::add);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    Path log = work.resolve(name + ".log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    running.add(p);
    return p;
  }

  /** Waits for the peer's "listening on ws://..." line in its log; returns the URL. */
  private static String awaitListening(Process peer, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!peer.isAlive()) {
        throw failed("peer", log, "exited with status " + peer.exitValue());
      }
      if (Files.exists(log)) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
            Files.newInputStream(log), StandardCharsets.UTF_8))) {
          for (String line = r.readLine(); line != null; line = r.readLine()) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
              return m.group(1);
            }
          }
        }
      }
      Thread.sleep(100);
    }
    throw failed("peer", log, "did not start listening within 60 s");
  }

  private static void awaitExit(Process p, String name, Path work, int seconds)
      throws Exception {
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      throw failed(name, work.resolve(name + ".log"), "did not finish within " + seconds + " s");
    }
    if (p.exitValue() != 0) {
      throw failed(name, work.resolve(name + ".log"), "exited with status " + p.exitValue());
    }
  }

  private static ReplikonException failed(String name, Path log, String what) {
    String tail = "";
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      tail = String.join("\n  ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      // no log to show
    }
    return new ReplikonException(ReplikonException.Reason.CONNECTION, "the " + name + " "
        + what + "; its log is " + log + (tail.isEmpty() ? "" : ":\n  " + tail));
  }

  /** Returns samples/tweets.jsonl of the source tree this command runs from. */
  private static Path bundledTweets() {
    Optional<Path> fromJar = Optional.empty();
    try {
      Path code = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      // cli/target/replikon-cli.jar or cli/target/classes -> the root is three levels up
      fromJar = Optional.ofNullable(code.getParent()).map(Path::getParent).map(Path::getParent)
          .map(root -> root.resolve("samples").resolve("tweets.jsonl"));
    } catch (URISyntaxException | RuntimeException e) {
      // fall back to the working directory
    }
    return fromJar.filter(Files::isRegularFile)
        .orElse(Path.of("samples", "tweets.jsonl").toAbsolutePath());
  }
}
