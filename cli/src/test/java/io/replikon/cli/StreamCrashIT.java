package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under SIGKILL: {@code replikon stream} runs in a child JVM and is killed at random
 * moments, at least five times, then runs to the end. Every transaction is in the sink once.
 */
class StreamCrashIT {
  static final Address TWEETS = new Address("crash", new UUID(9, 9));
  static final int COMMITS = 100;
  static final int PER_COMMIT = 1_000;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sqlite", "jsonl"})
  void stream_killedAtRandomMoments_appliesEveryTransactionExactlyOnce(String kind)
      throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    Path sink = dir.resolve(kind.equals("sqlite") ? "tweets.db" : "ops.jsonl");
    try (Peer server = Peer.start(PeerConfig.server(dir.resolve("server")))) {
      server.create(TWEETS).get(30, TimeUnit.SECONDS);
      for (int c = 0; c < COMMITS; c++) {
        server.transact(TWEETS, StreamCommandIT.tweets(c * PER_COMMIT, PER_COMMIT))
            .get(60, TimeUnit.SECONDS);
      }
      List<String> command = List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Main.class.getName(),
          "stream", "--connect", server.url().orElseThrow().toString(),
          "--crdt", TWEETS.toString(), "--into", kind + ":" + sink, "--until-synced");
      int kills = 0;
      long applied = -1;
      while (kills < 5) {
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(dir.resolve("child-" + kills + ".log").toFile()).start();
        // Let it start and get into the realization, then kill it without warning.
        long delay = 1_500 + random.nextInt(2_500);
        if (child.waitFor(delay, TimeUnit.MILLISECONDS)) {
          break; // it finished before the kill: the rest is checked below
        }
        child.destroyForcibly(); // SIGKILL
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        kills++;
        applied = applied(kind, sink);
      }
      Process last = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("child-last.log").toFile()).start();
      assertThat(last.waitFor(120, TimeUnit.SECONDS)).as("seed %d", seed).isTrue();
      assertThat(last.exitValue()).as("seed %d: %s", seed,
          Files.readString(dir.resolve("child-last.log"))).isZero();
      assertThat(applied(kind, sink)).as("seed %d, %d kills", seed, kills)
          .isEqualTo((long) COMMITS * PER_COMMIT);
      assertThat(distinctKeys(kind, sink)).as("seed %d: no transaction twice", seed)
          .isEqualTo((long) COMMITS * PER_COMMIT);
    }
  }

  private static long applied(String kind, Path sink) throws Exception {
    if (!Files.exists(sink)) {
      return 0;
    }
    if (kind.equals("sqlite")) {
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
