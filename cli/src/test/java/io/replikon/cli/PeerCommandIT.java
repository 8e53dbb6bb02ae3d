package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
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

  /** What a peer process logs once it listens: WebSocket host and port, HTTP host and port. */
  static final Pattern BOUND = Pattern.compile(
      "listening on ws://(\\S+):(\\d+)/replikon; http on http://(\\S+):(\\d+)");

  private static boolean isLoopback(String host) throws UnknownHostException {
    return InetAddress.getByName(host).isLoopbackAddress();
  }

  @Test
  void peer_listensOnLoopbackByDefault_httpPortToo() throws Exception {
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--http-port", "0")) {
      Matcher bound = peer.await(BOUND);
      assertThat(bound.group(1)).isEqualTo("127.0.0.1");
      assertThat(bound.group(3)).isEqualTo("127.0.0.1");
      assertThat(peer.output()).contains("host=127.0.0.1 ").contains("http-host=127.0.0.1 ")
          .doesNotContain("WARN");
    }
  }

  @Test
  void peer_beyondLoopback_withoutWritersOrOpen_exitsTwo_andCreatesNoStore() throws Exception {
    List<String> hosts = new ArrayList<>(List.of("0.0.0.0", "::"));
    nonLoopbackAddress().ifPresent(hosts::add);
    for (String host : hosts) {
      Path store = dir.resolve("never");
      try (CliProcess peer = CliProcess.start("peer", "--store", store.toString(), "--port", "0",
          "--host", host, "--http-port", "0")) {
        assertThat(peer.exitCode()).as(peer.output()).isEqualTo(2);
        assertThat(peer.output()).contains("refusing to listen on " + host
            + ": without --writers FILE anyone who can reach this port can write into any CDVCS")
            .contains("Give --writers FILE", "or --open to accept anyone");
      }
      assertThat(store).doesNotExist();
    }
  }

  @Test
  void peer_beyondLoopback_withOpen_starts_andTheHttpPortStaysOnItsOwnHost() throws Exception {
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--host", "0.0.0.0", "--open", "--port", "0", "--http-port", "0",
        "--http-host", "127.0.0.1")) {
      Matcher bound = peer.await(BOUND);
      assertThat(isLoopback(bound.group(1))).as(bound.group()).isFalse();
      assertThat(bound.group(3)).isEqualTo("127.0.0.1");
      assertThat(peer.output()).contains("with --open: anyone who can reach this port can write")
          .contains("open=true").doesNotContain("readable by anyone");
    }
  }

  @Test
  void peer_beyondLoopback_withWriters_starts_andTheHttpPortFollowsWithAWarning()
      throws Exception {
    Path writers = java.nio.file.Files.writeString(dir.resolve("writers"), "# nobody yet\n");
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--host", "0.0.0.0", "--writers", writers.toString(), "--port", "0",
        "--http-port", "0")) {
      Matcher bound = peer.await(BOUND);
      assertThat(isLoopback(bound.group(1))).as(bound.group()).isFalse();
      assertThat(isLoopback(bound.group(3))).as(bound.group()).isFalse();
      assertThat(peer.output()).contains("writers=" + writers)
          .contains("the HTTP port listens on 0.0.0.0: /health, /metrics and the status page "
              + "are readable by anyone who can reach it")
          .doesNotContain("with --open");
    }
  }

  @Test
  void peer_loopbackHost_httpHostBeyond_needsNoOpen_butWarns() throws Exception {
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--http-port", "0", "--http-host", "0.0.0.0")) {
      Matcher bound = peer.await(BOUND);
      assertThat(bound.group(1)).isEqualTo("127.0.0.1");
      assertThat(isLoopback(bound.group(3))).as(bound.group()).isFalse();
      assertThat(peer.output()).contains("readable by anyone who can reach it");
    }
  }

  /** An address of this machine that is not loopback, if it has one. */
  static Optional<String> nonLoopbackAddress() throws java.net.SocketException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : Collections.list(nic.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return Optional.of(a.getHostAddress());
        }
      }
    }
    return Optional.empty();
  }
}
