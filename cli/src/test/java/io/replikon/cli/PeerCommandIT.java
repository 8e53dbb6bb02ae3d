package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replikon peer} as a real process: start, serve a client, stop on SIGTERM. */
class PeerCommandIT {
  static final Address TWEETS = new Address("alice", new UUID(3, 4));
  static final Pattern LISTENING =
      Pattern.compile("listening on (ws://\\S+/replikon); http on (http://\\S+)");

  @TempDir Path dir;

  @Test
  void peer_servesClients_andStopsCleanlyOnSigterm() throws Exception {
    Path store = dir.resolve("peer-data");
    Process process = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "peer", "--store", store.toString(), "--host", "127.0.0.1", "--port", "0",
        "--http-port", "0", "--peer-id", "it-peer")
        .redirectErrorStream(true).start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    StringBuilder output = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
          synchronized (output) {
            output.append(line).append('\n');
          }
        }
      } catch (java.io.IOException e) {
        // the process ended
      }
    });
    reader.start();
    try {
      Matcher m = null;
      while (m == null) {
        String line = lines.poll(60, TimeUnit.SECONDS);
        assertThat(line).as("the peer did not start: %s", output).isNotNull();
        Matcher candidate = LISTENING.matcher(line);
        if (candidate.find()) {
          m = candidate;
        }
      }
      URI ws = URI.create(m.group(1));
      URI http = URI.create(m.group(2));
      synchronized (output) {
        assertThat(output).contains("configuration: peer-id=it-peer");
      }
      try (Peer client = Peer.start(PeerConfig.client(null).withConnect(List.of(ws)))) {
        client.create(TWEETS).get(30, TimeUnit.SECONDS);
        client.transact(TWEETS, List.of(new Transaction("add-tweet",
            JsonNodeFactory.instance.objectNode().put("text", "hello")))).get(30, TimeUnit.SECONDS);
        HttpClient httpClient = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String metrics = "";
        while (!metrics.contains("replikon_commits_stored_total 2")
            && System.nanoTime() < deadline) {
          metrics = httpClient.send(HttpRequest.newBuilder(http.resolve("/metrics")).build(),
              HttpResponse.BodyHandlers.ofString()).body();
          Thread.sleep(100);
        }
        assertThat(metrics).contains("replikon_commits_stored_total 2");
      }
      // SIGTERM through the handle: Process.destroy() would also close our end of its output.
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).isEqualTo(143);
      reader.join(5_000);
      synchronized (output) {
        assertThat(output).contains("peer it-peer stopped");
      }
    } finally {
      process.destroyForcibly();
    }
    // The store is released and holds what the client published.
    Cli.Result log = Cli.run("", "log", "--store", store.toString());
    assertThat(log.exitCode()).as(log.err()).isZero();
    assertThat(log.out()).contains(TWEETS + " 2 commits 1 transactions");
  }

  @Test
  void peer_onAStoreInUse_failsNamingTheHolder() throws Exception {
    Path store = dir.resolve("held");
    try (Peer holder = Peer.start(PeerConfig.server(store))) {
      assertThat(holder.url()).isPresent();
      Cli.Result r = Cli.run("", "peer", "--store", store.toString(), "--port", "0");
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).containsAnyOf("in use", "already open").contains(store.toString());
    }
  }
}
