package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import io.replikon.client.realize.Sinks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under SIGKILL: {@code replikon stream} runs in a child JVM that pauses after each
 * committed batch ({@link StreamCommand#BATCH_PAUSE_PROPERTY}) and is killed as soon as it has
 * applied something new, five times, then runs to the end. At least three kills must land in the
 * middle of a run (the child had applied some but not all transactions, and more than before it
 * started), and every transaction is in the sink once.
 */
class StreamCrashIT {
  static final Address TWEETS = new Address("crash", new UUID(9, 9));
  static final int COMMITS = 100;
  static final int PER_COMMIT = 1_000;
  static final long TOTAL = (long) COMMITS * PER_COMMIT;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sqlite", "jsonl"})
  void stream_killedInTheMiddleOfRuns_appliesEveryTransactionExactlyOnce(String kind)
      throws Exception {
    Path sink = dir.resolve(kind.equals("sqlite") ? "tweets.db" : "ops.jsonl");
    try (Peer server = Peer.start(PeerConfig.server(dir.resolve("server")))) {
      server.create(TWEETS).get(30, TimeUnit.SECONDS);
      for (int c = 0; c < COMMITS; c++) {
        server.transact(TWEETS, StreamCommandIT.tweets(c * PER_COMMIT, PER_COMMIT))
            .get(60, TimeUnit.SECONDS);
      }
      List<String> command = List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-D" + StreamCommand.BATCH_PAUSE_PROPERTY + "=200",
          "-cp", System.getProperty("java.class.path"), Main.class.getName(),
          "stream", "--connect", server.url().orElseThrow().toString(),
          "--crdt", TWEETS.toString(), "--into", kind + ":" + sink, "--until-synced");
      List<Long> afterKills = new ArrayList<>();
      int midRun = 0;
      long committed = 0;
      for (int run = 0; run < 5; run++) {
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(dir.resolve("child-" + run + ".log").toFile()).start();
        long before = committed;
        // Kill it without warning once it has applied something new (or if it ended).
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!child.waitFor(20, TimeUnit.MILLISECONDS) && written(kind, sink) <= before) {
          assertThat(System.nanoTime() - deadline).as("the child applies nothing").isNegative();
        }
        if (kind.equals("jsonl")) {
          // Lines appear before their batch commits: wait until the file stops growing for a
          // moment (the child's pause after a committed batch), so the kill follows a commit.
          long seen = -1;
          long now = written(kind, sink);
          while (now != seen && !child.waitFor(100, TimeUnit.MILLISECONDS)) {
            seen = now;
            now = written(kind, sink);
          }
        }
        child.destroyForcibly(); // SIGKILL
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        committed = committed(kind, sink);
        afterKills.add(committed);
        if (committed > before && committed < TOTAL) {
          midRun++;
        }
      }
      assertThat(midRun).as("kills that landed mid-run; applied after each: %s", afterKills)
          .isGreaterThanOrEqualTo(3);
      Process last = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("child-last.log").toFile()).start();
      assertThat(last.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(last.exitValue()).as(Files.readString(dir.resolve("child-last.log"))).isZero();
      assertThat(committed(kind, sink)).as("applied after each kill: %s", afterKills)
          .isEqualTo(TOTAL);
      assertThat(distinctKeys(kind, sink)).as("no transaction twice").isEqualTo(TOTAL);
    }
  }

  /** What the sink holds now, committed or not (a JSON lines batch is written before it commits). */
  private static long written(String kind, Path sink) throws Exception {
    if (kind.equals("sqlite") || !Files.exists(sink)) {
      return applied(kind, sink);
    }
    long lines = 0;
    for (byte b : Files.readAllBytes(sink)) {
      lines += b == '\n' ? 1 : 0;
    }
    return lines;
  }

  /**
   * What the sink holds committed, its child dead: for JSON lines, after opening the sink as the
   * next run would, which cuts what follows the recorded length.
   */
  private static long committed(String kind, Path sink) throws Exception {
    if (kind.equals("jsonl") && Files.exists(sink)) {
      Sinks.jsonLines(sink).close();
    }
    return applied(kind, sink);
  }

  private static long applied(String kind, Path sink) throws Exception {
    if (!Files.exists(sink)) {
      return 0;
    }
    if (kind.equals("sqlite")) {
      // The child creates the file before its tables: until then it has applied nothing.
      if (StreamCommandIT.count(sink,
          "select count(*) from sqlite_master where type = 'table' and name = 'ops'") == 0) {
        return 0;
      }
      return StreamCommandIT.count(sink, "select count(*) from ops");
    }
    return Files.readAllLines(sink).size();
  }

  private static long distinctKeys(String kind, Path sink) throws Exception {
    if (kind.equals("sqlite")) {
      return StreamCommandIT.count(sink,
          "select count(*) from (select distinct commit_id, tx_index from ops)");
    }
    ObjectMapper mapper = new ObjectMapper();
    Set<String> keys = new HashSet<>();
    for (String line : Files.readAllLines(sink)) {
      JsonNode n = mapper.readTree(line);
      keys.add(n.get("commit").asText() + ":" + n.get("tx").asText());
    }
    return keys.size();
  }
}
