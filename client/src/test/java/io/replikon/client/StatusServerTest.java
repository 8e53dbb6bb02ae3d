package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The status server against slow and malformed clients: a slow one holds its own socket until
 * its timeout and nobody else's; bad requests get their own answer.
 */
class StatusServerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);

  private Peer peer;
  private StatusServer status;

  @BeforeEach
  void start() {
    peer = Peer.start(PeerConfig.server(null).withPeerId("status-test"));
    status = StatusServer.start("127.0.0.1", 0, peer, new StatusServer.Limits(REQUEST_TIMEOUT,
        Duration.ofMillis(800), Duration.ofSeconds(10), 64));
  }

  @AfterEach
  void stop() {
    status.close();
    peer.close();
  }

  @Test
  void slowloris_oneByteThenNothing_doesNotBlockHealth_andIsClosedAfterTheTimeout()
      throws Exception {
    try (Socket slow = connect()) {
      slow.getOutputStream().write('G');
      slow.getOutputStream().flush();
      // The slow connection is open and mid-request: /health answers anyway.
      HttpResponse<String> health = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(base().resolve("/health")).timeout(WAIT).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("ok\n");
      // And the slow one is closed, without an answer, once its request is overdue.
      assertThat(readToEnd(slow.getInputStream())).isEmpty();
    }
    await().atMost(WAIT).until(() -> status.openConnections() == 0);
  }

  @Test
  void idle_keepAliveConnectionWithoutARequest_isClosed() throws Exception {
    try (Socket idle = connect()) {
      assertThat(readToEnd(idle.getInputStream())).isEmpty();
    }
  }

  @Test
  void metrics_ofAFreshPeer_keepTheirTextByteForByte() throws Exception {
    String response = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n")
        .containsIgnoringCase("content-type: text/plain; version=0.0.4; charset=utf-8\r\n");
    assertThat(body(response)).isEqualTo("""
        # HELP replikon_connections Open connections to peers.
        # TYPE replikon_connections gauge
        replikon_connections 0
        # HELP replikon_connections_opened_total Connections opened.
        # TYPE replikon_connections_opened_total counter
        replikon_connections_opened_total 0
        # HELP replikon_commits_stored_total Commits stored.
        # TYPE replikon_commits_stored_total counter
        replikon_commits_stored_total 0
        # HELP replikon_publishes_stored_total Publishes from peers that brought commits.
        # TYPE replikon_publishes_stored_total counter
        replikon_publishes_stored_total 0
        # HELP replikon_values_fetched_total Values received in fetch replies.
        # TYPE replikon_values_fetched_total counter
        replikon_values_fetched_total 0
        # HELP replikon_fetched_bytes_total Bytes received in fetch replies.
        # TYPE replikon_fetched_bytes_total counter
        replikon_fetched_bytes_total 0
        # HELP replikon_refusals_total Connections closed for bad input or for passing a limit.
        # TYPE replikon_refusals_total counter
        replikon_refusals_total 0
        # HELP replikon_internal_errors_total Failures of this peer on a connection's messages \
        (that connection closed).
        # TYPE replikon_internal_errors_total counter
        replikon_internal_errors_total 0
        # HELP replikon_store_failures_total Store writes or reads that failed on what a peer \
        sent or asked for (answered internal).
        # TYPE replikon_store_failures_total counter
        replikon_store_failures_total 0
        # HELP replikon_forbidden_total Publishes and read proofs refused as forbidden, by \
        reason (signature, writer, address, reader).
        # TYPE replikon_forbidden_total counter
        replikon_forbidden_total{reason="address"} 0
        replikon_forbidden_total{reason="reader"} 0
        replikon_forbidden_total{reason="signature"} 0
        replikon_forbidden_total{reason="writer"} 0
        # HELP replikon_cdvcs_commits Commits held per CDVCS.
        # TYPE replikon_cdvcs_commits gauge
        # HELP replikon_cdvcs_heads Heads per CDVCS (more than one: a conflict).
        # TYPE replikon_cdvcs_heads gauge
        """);
  }

  @Test
  void page_andHealth_answerAsBefore_andOtherPathsAre404() throws Exception {
    assertThat(body(exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")))
        .startsWith("<!doctype html>").contains("replikon peer status-test (server)");
    assertThat(exchange("GET /health?probe=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok\n");
    assertThat(exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 404 ").endsWith("\r\n\r\nnot found\n");
  }

  @Test
  void head_answersTheHeadersWithoutTheBody() throws Exception {
    String response = exchange("HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").contains("content-length: 3\r\n")
        .endsWith("\r\n\r\n");
  }

  @Test
  void post_isAnswered405WithAllow() throws Exception {
    String response = exchange("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}");
    assertThat(response).startsWith("HTTP/1.1 405 ").contains("allow: GET, HEAD\r\n");
  }

  @Test
  void headersOverTheLimit_areAnswered431() throws Exception {
    String response = exchange("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
        + "a".repeat(StatusServer.MAX_HEADER_BYTES + 1) + "\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 431 ");
  }

  @Test
  void aBodyOverTheLimit_isAnswered413() throws Exception {
    String response = exchange("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + (StatusServer.MAX_BODY_BYTES + 1) + "\r\n\r\n"
        + "b".repeat(StatusServer.MAX_BODY_BYTES + 1));
    assertThat(response).startsWith("HTTP/1.1 413 ");
  }

  private URI base() {
    return URI.create("http://127.0.0.1:" + status.address().getPort());
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.setSoTimeout((int) WAIT.toMillis());
    s.connect(new InetSocketAddress("127.0.0.1", status.address().getPort()));
    return s;
  }

  /** Sends a request in one write and reads the answer until the server closes. */
  private String exchange(String request) throws IOException {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return readToEnd(s.getInputStream());
    }
  }

  private static String body(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  private static String readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        bytes.write(buf, 0, n);
      }
    } catch (SocketException reset) {
      // closed with unread input: what came before the reset is kept
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
