package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.cdvcs.Address;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
    // not add-tweet: these tests post any JSON; tweets are checked in their own tests
    start(HttpIngestConfig.port(0).withMaxBodyBytes(64 * 1024).withFlushEndpoint()
        .withFn("add-event"));
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
    return post(path, body, key, "application/json", null);
  }

  private HttpResponse<String> post(String path, String body, String key, String contentType,
      String authorization) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + ingest.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
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

  /** Sends {@code raw} on a socket and reads until the server closes; returns what it sent. */
  private String raw(String raw) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", ingest.port())) {
      socket.setSoTimeout(60_000); // a guard against a hang, not a threshold
      socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private void restart(HttpIngestConfig config) {
    stop();
    start(config);
  }

  @Test
  void postEvents_withoutAJsonContentType_answers415_andJournalsNothing() throws Exception {
    for (String type : new String[] {null, "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "application/json; charset=latin1"}) {
      HttpResponse<String> r = post("/events", "{\"id\":1}", null, type, null);
      assertThat(r.statusCode()).as(String.valueOf(type)).isEqualTo(415);
      assertThat(r.body()).startsWith("{\"error\":");
    }
    assertThat(collector.stats().accepted()).isZero();
    assertThat(post("/events", "{\"id\":1}", null, "Application/JSON; Charset=UTF-8", null)
        .statusCode()).isEqualTo(202);
    HttpResponse<String> lines = post("/events", "{\"id\":2}\n\n{\"id\":3}\n", null,
        "application/x-ndjson", null);
    assertThat(lines.statusCode()).isEqualTo(202);
    assertThat(lines.body()).contains("\"accepted\":2");
  }

  @Test
  void withAToken_postsNeedIt_comparedWhole_andHealthDoesNot() throws Exception {
    restart(HttpIngestConfig.port(0).withFlushEndpoint().withFn("add-event")
        .withToken("s3cret-token"));
    for (String auth : new String[] {null, "Bearer wrong", "Bearer s3cret-toke",
        "Bearer s3cret-token-and-more", "Basic s3cret-token", "s3cret-token"}) {
      HttpResponse<String> r = post("/events", "{\"id\":1}", null, "application/json", auth);
      assertThat(r.statusCode()).as(String.valueOf(auth)).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v ->
          assertThat(v).startsWith("Bearer"));
      assertThat(r.body()).startsWith("{\"error\":").doesNotContain("s3cret");
      assertThat(post("/flush", "", null, null, auth).statusCode()).isEqualTo(401);
    }
    assertThat(collector.stats().accepted()).isZero();
    assertThat(post("/events", "{\"id\":1}", null, "application/json", "Bearer s3cret-token")
        .statusCode()).isEqualTo(202);
    assertThat(post("/flush", "", null, null, "bearer s3cret-token").statusCode())
        .isEqualTo(200);
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ingest.port()
        + "/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    assertThat(ingest.toString() + HttpIngestConfig.port(0).withToken("s3cret-token"))
        .doesNotContain("s3cret");
  }

  @Test
  void readToken_trimsTheNewline_andRefusesAnEmptyFile() throws Exception {
    Path file = dir.resolve("token");
    java.nio.file.Files.writeString(file, "abc-123\n");
    assertThat(HttpIngestConfig.readToken(file)).isEqualTo("abc-123");
    java.nio.file.Files.writeString(file, "\n");
    assertThatThrownBy(() -> HttpIngestConfig.readToken(file))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("empty");
    java.nio.file.Files.writeString(file, "two\nlines\n");
    assertThatThrownBy(() -> HttpIngestConfig.readToken(file))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("bearer token");
  }

  @Test
  void postEvents_idempotencyKeyRepeatedWithAnotherBody_answers409() throws Exception {
    assertThat(post("/events", "[1,2]", "k-1").statusCode()).isEqualTo(202);
    HttpResponse<String> other = post("/events", "[1,3]", "k-1");
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(other.body()).startsWith("{\"error\":").contains("Idempotency-Key");
    assertThat(post("/events", "[1, 2]", "k-1").body()).contains("\"repeat\":true");
    assertThat(collector.stats().accepted()).isEqualTo(2);
  }

  @Test
  void idempotencyKeys_areScopedToTheToken() throws Exception {
    assertThat(post("/events", "[1]", "k-1").statusCode()).isEqualTo(202);
    stop();
    collector = Collector.start(CollectorConfig.of(PeerConfig.server(dir.resolve("store")),
        address).withFlushInterval(Duration.ofHours(1)));
    ingest = Sources.http(HttpIngestConfig.port(0).withFn("add-event").withToken("t0ken"));
    running = CompletableFuture.runAsync(() -> {
      try {
        ingest.run(collector);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    HttpResponse<String> r = post("/events", "[9]", "k-1", "application/json", "Bearer t0ken");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(r.body()).doesNotContain("repeat");
  }

  @Test
  void headersOverTheLimit_answer431WithAJsonBody() throws Exception {
    String answer = raw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "X-Big: " + "a".repeat(HttpIngestConfig.MAX_HEADER_BYTES + 10) + "\r\n"
        + "Content-Length: 8\r\n\r\n{\"id\":1}");
    assertThat(answer).startsWith("HTTP/1.1 431").contains("{\"error\":");
    assertThat(collector.stats().accepted()).isZero();
  }

  @Test
  void postEvents_overTheSizeLimit_answers413WithAJsonBody() throws Exception {
    String answer = raw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + (64 * 1024 + 1) + "\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 413").contains("{\"error\":");
  }

  @Test
  void withoutTheTokenOrWithAnotherType_aPostIsRefusedByItsHead_beforeItsBodyIsRead()
      throws Exception {
    // A body of 60,000 bytes is announced and never sent: the refusal cannot wait for it.
    String head = "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n";
    restart(HttpIngestConfig.port(0).withFn("add-event").withToken("s3cret-token")
        .withReadTimeout(Duration.ofMinutes(5)));
    assertThat(raw(head + "Content-Type: application/json\r\n\r\n"))
        .startsWith("HTTP/1.1 401").contains("{\"error\":");
    restart(HttpIngestConfig.port(0).withFn("add-event").withReadTimeout(Duration.ofMinutes(5)));
    assertThat(raw(head + "Content-Type: text/plain\r\n\r\n"))
        .startsWith("HTTP/1.1 415").contains("{\"error\":");
    assertThat(collector.stats().accepted()).isZero();
  }

  @Test
  void aBodyThatNeverEnds_isAnswered408AndClosed_afterTheReadTimeout() throws Exception {
    restart(HttpIngestConfig.port(0).withFn("add-event").withReadTimeout(Duration.ofMillis(300)));
    String answer = raw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 100\r\n\r\n{\"id\":"); // and then nothing: readAllBytes waits
    assertThat(answer).startsWith("HTTP/1.1 408").contains("{\"error\":");
    assertThat(raw("POST /events HTTP/1.1\r\nHost: x\r\nContent-")).isEmpty(); // headers too
  }

  @Test
  void health_answers503UntilTheCollectorTakesEvents() throws Exception {
    HttpIngest waiting = Sources.http(HttpIngestConfig.port(0));
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + waiting.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("starting");
    } finally {
      waiting.close();
    }
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ingest.port()
        + "/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
  }

  @Test
  void postTweets_withoutAnIntegerIdOrNumericIdStr_answer400NamingTheEvent() throws Exception {
    restart(HttpIngestConfig.port(0));
    for (String bad : new String[] {"42", "\"text\"", "{\"text\":\"no id\"}", "{\"id\":\"7\"}",
        "{\"id\":1.5}", "{\"id_str\":\"12a\"}", "{\"id_str\":7}", "null", "[[1]]"}) {
      HttpResponse<String> r = post("/events", bad, null);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("id");
    }
    HttpResponse<String> second = post("/events", "[{\"id\":1},{\"text\":\"x\"}]", null);
    assertThat(second.statusCode()).isEqualTo(400);
    assertThat(second.body()).contains("event 1");
    assertThat(collector.stats().accepted()).isZero();
    assertThat(post("/events", "[{\"id\":1},{\"id\":-2,\"text\":\"x\"},{\"id_str\":\"3\"},"
        + "{\"a\":[{\"id\":\"x\"}],\"id\":4}]", null).statusCode()).isEqualTo(202);
    assertThat(post("/events", "{\"id\":1e400}", null).statusCode()).isEqualTo(400);
  }

  @Test
  void numbersThatAreNotFiniteDoubles_areRefusedWith400_andSkippedAsLines() throws Exception {
    HttpResponse<String> r = post("/events", "{\"id\":1,\"x\":1e400}", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).startsWith("{\"error\":");
    byte[] line = "{\"id\":1,\"x\":-1e400}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SourceSupport.encodedJson("add-tweet", line, 0, line.length))
        .isInstanceOf(ReplikonException.class); // JsonLinesSource skips and logs such a line
    assertThat(collector.stats().accepted()).isZero();
  }
}
