package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.Hash;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Server and client peers over real WebSockets on loopback, with RocksDB stores. */
class ReplicationIT {
  static final Address TWEETS = new Address("alice", UUID.fromString(
      "12d49511-e733-4007-937b-460c3794fae9"));

  @TempDir Path dir;
  final List<Peer> peers = new ArrayList<>();

  @AfterEach
  void closeAll() {
    peers.forEach(Peer::close);
  }

  Peer server(String name, Peer... upstream) {
    List<URI> connect = new ArrayList<>();
    for (Peer p : upstream) {
      connect.add(p.url().orElseThrow());
    }
    Peer p = Peer.start(PeerConfig.server(dir.resolve(name)).withPeerId(name)
        .withConnect(connect));
    peers.add(p);
    return p;
  }

  Peer client(String name, Peer server) {
    Peer p = Peer.start(PeerConfig.client(dir.resolve(name)).withPeerId(name)
        .withConnect(List.of(server.url().orElseThrow())));
    peers.add(p);
    return p;
  }

  static List<Transaction> tweets(String prefix, int n) {
    List<Transaction> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Transaction("add-tweet", JsonNodeFactory.instance.objectNode()
          .put("id", i).put("text", prefix + " tweet " + i + " " + "x".repeat(3000))));
    }
    return out;
  }

  static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  void awaitSameHeads(Peer... all) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Set<Hash> first = get(all[0].heads(TWEETS));
      assertThat(first).isNotEmpty();
      for (Peer p : all) {
        assertThat(get(p.heads(TWEETS))).as(p.config().peerId()).isEqualTo(first);
      }
    });
  }

  static CdvcsStore.Summary summary(Peer p) throws Exception {
    return get(p.status()).cdvcs().stream().filter(s -> s.address().equals(TWEETS))
        .findFirst().orElseThrow();
  }

  @Test
  void chain_commitAtEitherEnd_reachesEveryPeerOnce() throws Exception {
    Peer a = server("a");
    Peer b = server("b", a);
    Peer c = server("c", b);
    Peer writer = client("writer", a);
    Peer reader = client("reader", c);
    get(writer.create(TWEETS));
    get(writer.transact(TWEETS, tweets("first", 2_000))); // ~6 MB: more than goes inline
    get(reader.subscribe(TWEETS));
    awaitSameHeads(writer, a, b, c, reader);
    get(reader.transact(TWEETS, tweets("reply", 3)));
    awaitSameHeads(writer, a, b, c, reader);
    for (Peer p : List.of(writer, a, b, c, reader)) {
      CdvcsStore.Summary s = summary(p);
      assertThat(s.commitCount()).as(p.config().peerId()).isEqualTo(3);
      assertThat(s.transactionCount()).as(p.config().peerId()).isEqualTo(2_003);
    }
    assertThat(get(c.status()).counters().valuesFetched()).isPositive();
  }

  @Test
  void triangle_concurrentCommits_convergeOnTheSameHeads() throws Exception {
    Peer a = server("a");
    Peer b = server("b", a);
    Peer c = server("c", a, b);
    get(a.create(TWEETS));
    awaitSameHeads(a, b, c);
    List<java.util.concurrent.CompletableFuture<Hash>> commits = new ArrayList<>();
    for (Peer p : List.of(a, b, c)) {
      commits.add(p.transact(TWEETS, tweets(p.config().peerId(), 10)));
    }
    for (int i = 0; i < commits.size(); i++) {
      Peer p = List.of(a, b, c).get(i);
      try {
        get(commits.get(i));
      } catch (java.util.concurrent.ExecutionException e) {
        // Another peer's commit arrived first and met a third one there: a conflict, as in any
        // replicated system. Merge, then commit.
        assertThat(e.getCause()).hasMessageContaining("merge them first");
        mergeThenTransact(p, tweets(p.config().peerId(), 10));
      }
    }
    awaitSameHeads(a, b, c);
    for (Peer p : List.of(a, b, c)) {
      CdvcsStore.Summary s = summary(p);
      assertThat(s.commitCount()).as("root, three commits, and any merges")
          .isGreaterThanOrEqualTo(4);
      assertThat(s.transactionCount()).isEqualTo(30);
    }
  }

  /** Merges the heads and commits, again if more commits arrived in between (bounded). */
  static void mergeThenTransact(Peer p, List<Transaction> txs) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        List<Hash> heads = new ArrayList<>(get(p.heads(TWEETS)));
        if (heads.size() > 1) {
          heads.sort(null);
          get(p.merge(TWEETS, heads));
        }
        get(p.transact(TWEETS, txs));
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (attempt == 10) {
          throw e;
        }
      }
    }
  }

  @Test
  void restart_ofAServer_resumesFromItsStore() throws Exception {
    Peer a = server("a");
    Peer writer = client("writer", a);
    get(writer.create(TWEETS));
    get(writer.transact(TWEETS, tweets("before", 5)));
    awaitSameHeads(writer, a);
    int port = a.address().orElseThrow().getPort();
    a.close();
    peers.remove(a);
    get(writer.transact(TWEETS, tweets("while down", 5)));
    Peer again = Peer.start(PeerConfig.server(dir.resolve("a")).withPeerId("a")
        .withListen("127.0.0.1", port));
    peers.add(again);
    awaitSameHeads(writer, again);
    assertThat(summary(again).transactionCount()).isEqualTo(10);
  }

  @Test
  void wss_peerWithSelfSignedCertificate_replicatesToAClientThatTrustsIt() throws Exception {
    io.netty.handler.ssl.util.SelfSignedCertificate certificate =
        new io.netty.handler.ssl.util.SelfSignedCertificate("localhost");
    try {
      Path cert = java.nio.file.Files.copy(certificate.certificate().toPath(),
          dir.resolve("cert.pem"));
      Path key = java.nio.file.Files.copy(certificate.privateKey().toPath(),
          dir.resolve("key.pem"));
      Peer secure = Peer.start(PeerConfig.server(dir.resolve("secure")).withPeerId("secure")
          .withTls(cert, key));
      peers.add(secure);
      assertThat(secure.url().orElseThrow().getScheme()).isEqualTo("wss");
      Peer client = Peer.start(PeerConfig.client(dir.resolve("tls-client"))
          .withConnect(List.of(secure.url().orElseThrow())).withTrustCertificate(cert));
      peers.add(client);
      get(client.create(TWEETS));
      get(client.transact(TWEETS, tweets("over tls", 3)));
      awaitSameHeads(client, secure);
      assertThat(summary(secure).transactionCount()).isEqualTo(3);
    } finally {
      certificate.delete();
    }
  }

  @Test
  void http_servesHealthMetricsAndStatus() throws Exception {
    Peer a = Peer.start(PeerConfig.server(dir.resolve("a")).withPeerId("a").withHttpPort(0));
    peers.add(a);
    get(a.create(TWEETS));
    HttpClient http = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + a.httpAddress().orElseThrow().getPort());
    HttpResponse<String> health = http.send(HttpRequest.newBuilder(base.resolve("/health"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(base.resolve("/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("replikon_commits_stored_total 1")
        .contains("replikon_cdvcs_commits{address=\"" + TWEETS + "\"} 1");
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(base).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.body()).contains(TWEETS.toString());
  }
}
