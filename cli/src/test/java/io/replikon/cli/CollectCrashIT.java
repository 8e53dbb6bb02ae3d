package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.value.Hash;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under SIGKILL for HTTP ingest: {@code replikon collect --source http} runs in a
 * child JVM while 100 clients each POST 1,000 events (10 requests of 100, each with an
 * Idempotency-Key, retried until answered 202); the collector is killed with SIGKILL mid-way and
 * restarted, then stopped with SIGTERM. Every event that got a 202 is committed exactly once.
 */
class CollectCrashIT {
  private static final Address EVENTS = new Address("ingest", new UUID(5, 5));
  private static final int CLIENTS = 100;
  private static final int REQUESTS = 10;
  private static final int PER_REQUEST = 100;

  @TempDir Path dir;

  @Test
  void collect_killedWhileTakingHttpEvents_commitsEveryAcknowledgedEventExactlyOnce()
      throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort(); // an ephemeral port, kept across the restarts
    }
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "collect", "--store", dir.resolve("store").toString(), "--crdt", EVENTS.toString(),
        "--source", "http", "--host", "127.0.0.1", "--http-port", Integer.toString(port),
        "--port", "0", "--flush-interval", "300ms", "--flush-threshold", "2000",
        "--fn", "add-event");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    Process child = start(command, 0);
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      done.add(CompletableFuture.runAsync(() -> {
        for (int r = 0; r < REQUESTS; r++) {
          StringBuilder body = new StringBuilder("[");
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < PER_REQUEST; i++) {
            String id = client + "-" + (r * PER_REQUEST + i);
            ids.add(id);
            body.append(i == 0 ? "" : ",").append("{\"event\":\"").append(id).append("\"}");
          }
          HttpRequest request = HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + port + "/events"))
              .header("Idempotency-Key", "client-" + client + "-request-" + r)
              .header("Content-Type", "application/json")
              .timeout(Duration.ofSeconds(30))
              .POST(HttpRequest.BodyPublishers.ofString(body.append(']').toString())).build();
          while (true) { // retry until answered 202: through the kill and the restart
            try {
              HttpResponse<String> answer = http.send(request,
                  HttpResponse.BodyHandlers.ofString());
              if (answer.statusCode() == 202) {
                acknowledged.addAll(ids);
                break;
              }
            } catch (IOException e) {
              // the collector is down: try again
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
            sleep(100);
          }
        }
      }, clients));
    }
    // Kill it once a good part, but not all, is acknowledged.
    int killAt = 20_000 + random.nextInt(40_000);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (acknowledged.size() < killAt && System.nanoTime() < deadline) {
      sleep(20);
    }
    int beforeKill = acknowledged.size();
    child.destroyForcibly(); // SIGKILL
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    child = start(command, 1);
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
    clients.shutdown();
    child.destroy(); // SIGTERM: commits what is pending, then exits
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(dir.resolve("child-1.log"));
    assertThat(child.exitValue()).as("seed %d: %s", seed, log).isEqualTo(143);

    assertThat(beforeKill).as("seed %d: killed after %d acknowledged", seed, beforeKill)
        .isLessThan(CLIENTS * REQUESTS * PER_REQUEST);
    assertThat(acknowledged).hasSize(CLIENTS * REQUESTS * PER_REQUEST);
    List<String> committed = new ArrayList<>();
    try (Peer reader = Peer.start(PeerConfig.client(dir.resolve("store")))) {
      for (Hash id : reader.commitsAfter(EVENTS, Set.of()).get(60, TimeUnit.SECONDS)) {
        for (Transaction t : reader.transactions(reader.commit(id))) {
          committed.add(t.params().get("event").asText());
        }
      }
    }
    // Plain set arithmetic: AssertJ compares 100,000-element collections pairwise.
    Set<String> distinct = new HashSet<>(committed);
    Set<String> lost = new HashSet<>(acknowledged);
    lost.removeAll(distinct);
    assertThat(lost).as("seed %d: acknowledged but not committed", seed).isEmpty();
    assertThat(committed.size() - distinct.size())
        .as("seed %d: events committed twice (killed after %d acknowledged)", seed, beforeKill)
        .isZero();
    assertThat(distinct).hasSize(CLIENTS * REQUESTS * PER_REQUEST);
  }

  private Process start(List<String> command, int run) throws IOException {
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("child-" + run + ".log").toFile()).start();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
