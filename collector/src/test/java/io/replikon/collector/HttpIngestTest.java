package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.client.PeerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpIngestTest {
  @TempDir Path dir;
  private final Address address = new Address("http-test", UUID.randomUUID());
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .build();
  private Collector collector;
  private HttpIngest ingest;
  private CompletableFuture<Void> running;

  @BeforeEach
  void start() {
    start(HttpIngestConfig.port(0).withMaxBodyBytes(64 * 1024).withFlushEndpoint());
  }

  private void start(HttpIngestConfig ingestConfig) {
    collector = Collector.start(CollectorConfig.of(PeerConfig.server(dir.resolve("store")),
        address).withFlushInterval(Duration.ofHours(1)));
    ingest = Sources.http(ingestConfig);
    running = CompletableFuture.runAsync(() -> {
      try {
        ingest.run(collector);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  @AfterEach
  void stop() {
    ingest.close();
    running.join();
    collector.close();
  }

  private HttpResponse<String> post(String path, String body, String key) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + ingest.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void postEvents_oneValueOrAnArray_answers202WithTheCount() throws Exception {
    assertThat(post("/events", "{\"id\":1}", null))
        .satisfies(r -> assertThat(r.statusCode()).isEqualTo(202))
        .satisfies(r -> assertThat(r.body()).contains("\"accepted\":1"));
    assertThat(post("/events", "[{\"id\":2},{\"id\":3},\"text too\"]", null).body())
        .contains("\"accepted\":3");
    collector.flush().join();
    assertThat(JsonLinesSourceTest.transactions(collector.peer(), address)).hasSize(4);
  }

  @Test
  void postEvents_invalidJson_answers400WithTheReason_andJournalsNothing() throws Exception {
    HttpResponse<String> r = post("/events", "{\"id\": 1,,}", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("invalid JSON").contains("line 1");
    assertThat(post("/events", "[]", null).statusCode()).isEqualTo(400);
    assertThat(post("/events", "{\"a\":1,\"a\":2}", null).body()).contains("duplicate key");
    assertThat(collector.stats().accepted()).isZero();
  }

  @Test
  void postEvents_overTheSizeLimit_answers413() throws Exception {
    String big = "[" + "\"" + "x".repeat(70 * 1024) + "\"]";
    assertThat(post("/events", big, null).statusCode()).isEqualTo(413);
    assertThat(collector.stats().accepted()).isZero();
  }

  @Test
  void postEvents_retriedWithTheSameIdempotencyKey_isJournaledOnce() throws Exception {
    assertThat(post("/events", "[1,2]", "k-1").body()).isEqualTo("{\"accepted\":2}\n");
    HttpResponse<String> again = post("/events", "[1,2]", "k-1");
    assertThat(again.statusCode()).isEqualTo(202);
    assertThat(again.body()).contains("\"repeat\":true").contains("\"accepted\":2");
    assertThat(collector.stats().accepted()).isEqualTo(2);
  }

  @Test
  void postFlush_whenEnabled_commitsAtOnce() throws Exception {
    post("/events", "[1,2,3]", null);
    HttpResponse<String> r = post("/flush", "", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"head\"");
    assertThat(collector.stats().committed()).isEqualTo(3);
  }

  @Test
  void postFlush_whenNotEnabled_answers403() throws Exception {
    stop();
    start(HttpIngestConfig.port(0));
    HttpResponse<String> r = post("/flush", "", null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("--enable-flush-endpoint");
  }

  @Test
  void unknownPath_answers404() throws Exception {
    assertThat(post("/nope", "1", null).statusCode()).isEqualTo(404);
  }

  /** The load: 100 clients each POST 1,000 events; the CDVCS then holds 100,000. */
  @Test
  void hundredConcurrentClients_thousandEventsEach_allCommittedExactlyOnce() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(100);
    try {
      List<CompletableFuture<Integer>> done = new ArrayList<>();
      for (int c = 0; c < 100; c++) {
        int client = c;
        done.add(CompletableFuture.supplyAsync(() -> {
          int ok = 0;
          for (int batch = 0; batch < 10; batch++) {
            StringBuilder body = new StringBuilder("[");
            for (int i = 0; i < 100; i++) {
              body.append(i == 0 ? "" : ",").append("{\"client\":").append(client)
                  .append(",\"n\":").append(batch * 100 + i).append('}');
            }
            try {
              HttpResponse<String> r = post("/events", body.append(']').toString(),
                  "c" + client + "-b" + batch);
              while (r.statusCode() == 503) {
                Thread.sleep(50);
                r = post("/events", body.toString(), "c" + client + "-b" + batch);
              }
              assertThat(r.statusCode()).isEqualTo(202);
              ok += 100;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
          return ok;
        }, clients));
      }
      int acknowledged = done.stream().mapToInt(CompletableFuture::join).sum();
      assertThat(acknowledged).isEqualTo(100_000);
    } finally {
      clients.shutdown();
    }
    collector.flush().join();
    var txs = JsonLinesSourceTest.transactions(collector.peer(), address);
    assertThat(txs).hasSize(100_000);
    assertThat(txs).extracting(t -> t.params().get("client").asInt() * 1000
        + t.params().get("n").asInt()).doesNotHaveDuplicates();
  }
}
