package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Clients that try to make the server hold what it should not: pongs or replies they never read,
 * a handshake that never ends, more connections than the cap. Each is closed and counted, and a
 * healthy connection opened before goes on.
 */
class HostileClientTest {
  private static final int MAX_FRAME = 64 * 1024;
  private static final long BUDGET = 256 * 1024;
  /** Short, but long enough for a loaded machine to complete an honest handshake. */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);

  private final Recorder serverSide = Recorder.echoing();
  private final Recorder healthySide = Recorder.recording();
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger serverLog = (Logger) LoggerFactory.getLogger(NettyPeerServer.class);
  private final Logger handlerLog = (Logger) LoggerFactory.getLogger(PeerFrameHandler.class);
  private PeerServer server;
  private PeerClient client;
  private Connection healthy;
  private Connection healthyAtServer;

  private void start(TransportLimits limits, Duration closeAfter) throws Exception {
    log.start();
    serverLog.addAppender(log);
    handlerLog.addAppender(log);
    server = Transports.server(ServerConfig.defaults().withMaxFrameBytes(MAX_FRAME)
        .withIdle(Duration.ZERO, closeAfter).withLimits(limits), serverSide);
    client = Transports.client(ClientConfig.defaults());
    healthy = client.connect(uri(), healthySide).get(20, TimeUnit.SECONDS);
    healthyAtServer = serverSide.nextOpened();
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    serverLog.detachAppender(log);
    handlerLog.detachAppender(log);
    serverSide.assertContractKept();
    healthySide.assertContractKept();
  }

  private URI uri() {
    return URI.create("ws://127.0.0.1:" + server.port() + Message.PATH);
  }

  @Test
  void pingFlood_neverReadingThePongs_holdsOnePongAndIsClosed() throws Exception {
    start(TransportLimits.defaults().withMaxOutboundBytes(BUDGET), Duration.ZERO);
    CompletableFuture<Long> flooding;
    try (RawWebSocket flood = RawWebSocket.open(server.port())) {
      NettyConnection atServer = (NettyConnection) serverSide.nextOpened();
      // Writes pings until the server drops the socket, or 64 MiB of them: without a bound that
      // is some 460,000 pongs queued at the server, and the connection stays open.
      flooding = CompletableFuture.supplyAsync(() -> {
        byte[] batch = RawWebSocket.pings(1000, 125);
        long sent = 0;
        try {
          OutputStream out = flood.out();
          while (sent < 64L << 20) {
            out.write(batch);
            sent += batch.length;
          }
        } catch (IOException e) {
          // the server closed the connection: expected
        }
        return sent;
      });

      String reason = serverSide.awaitClosed(atServer);
      assertThat(reason).startsWith("overloaded: more than " + OutboundBudget.MAX_COALESCED_PINGS
          + " pings while a pong waited");
      assertThat(serverSide.refusedWith(atServer)).isEqualTo(ErrorCode.OVERLOADED);
      // Pongs wait one at a time: what the flood made the server hold is a pong or two.
      assertThat(atServer.budget().peak()).isLessThanOrEqualTo(4 * OutboundBudget.FRAME_OVERHEAD);
      assertOneWarning(atServer.remote(), "overloaded");
      assertHealthyStillServed();
    }
    flooding.get(20, TimeUnit.SECONDS); // the socket is closed: the flood ends
  }

  @Test
  void send_toAConnectionThatDoesNotRead_isRefusedAtTheOutboundBudget() throws Exception {
    start(TransportLimits.defaults().withMaxOutboundBytes(BUDGET), Duration.ZERO);
    Recorder notReading = new Recorder.Suspending();
    Connection c = client.connect(uri(), notReading).get(20, TimeUnit.SECONDS);
    NettyConnection atServer = (NettyConnection) serverSide.nextOpened();
    // The server's side ignores writability and sends on: 32 MiB, without the budget.
    Random random = new Random(7);
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int i = 1; i <= 1024 && atServer.isOpen(); i++) {
      sends.add(atServer.send(Samples.bulky(i, 32 * 1024, random)));
    }
    String reason = serverSide.awaitClosed(atServer);
    assertThat(reason).startsWith("overloaded: more than " + BUDGET + " bytes queued");
    assertThat(serverSide.refusedWith(atServer)).isEqualTo(ErrorCode.OVERLOADED);
    assertThat(atServer.budget().peak()).isLessThanOrEqualTo(BUDGET);
    assertThat(sends).anyMatch(CompletableFuture::isCompletedExceptionally);
    assertOneWarning(atServer.remote(), "overloaded");
    assertHealthyStillServed();
    c.resumeReading();
    notReading.awaitClosed(c);
  }

  @Test
  void handshake_headersThatNeverEnd_areClosedAfterTheHandshakeTimeout() throws Exception {
    // The idle close is far off (a minute): only the handshake timeout can close this one.
    start(TransportLimits.defaults().withHandshakeTimeout(HANDSHAKE_TIMEOUT),
        Duration.ofMinutes(1));
    try (Socket slow = new Socket()) {
      slow.setSoTimeout((int) Recorder.WAIT.toMillis());
      slow.connect(new InetSocketAddress("127.0.0.1", server.port()));
      // Half a request head, as a client sending a byte a second has after a few seconds.
      slow.getOutputStream().write(RawWebSocket.UPGRADE.substring(0, 40)
          .getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush();
      assertThat(readToEnd(slow.getInputStream())).as("closed without an answer").isEmpty();
      String remote = "127.0.0.1:" + slow.getLocalPort();
      await().atMost(Recorder.WAIT).until(() -> !serverSide.refusedBeforeOpen().isEmpty());
      assertThat(serverSide.refusedBeforeOpen())
          .containsExactly(remote + ": no WebSocket handshake within 3000 ms");
      assertOneWarning(remote, "no WebSocket handshake within 3000 ms");
    }
    assertHealthyStillServed();
  }

  @Test
  void handshake_completedInTime_isNotClosedByTheHandshakeTimeout() throws Exception {
    start(TransportLimits.defaults().withHandshakeTimeout(HANDSHAKE_TIMEOUT),
        Duration.ofMinutes(1));
    Connection c = client.connect(uri(), Recorder.recording()).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    // Past the deadline of both connections: the echo of a later message proves them open.
    await().pollDelay(HANDSHAKE_TIMEOUT.plusMillis(500)).atMost(Recorder.WAIT).until(() -> true);
    assertHealthyStillServed();
    assertThat(c.isOpen()).isTrue();
    assertThat(serverSide.isClosed(atServer)).isFalse();
    assertThat(serverSide.refusedBeforeOpen()).isEmpty();
  }

  @Test
  void accept_overTheConnectionCap_isClosedCountedAndLoggedOncePerBurst() throws Exception {
    start(TransportLimits.defaults().withMaxConnections(2), Duration.ZERO);
    Connection second = client.connect(uri(), Recorder.recording()).get(20, TimeUnit.SECONDS);
    Connection secondAtServer = serverSide.nextOpened();
    NettyPeerServer netty = (NettyPeerServer) server;
    for (int i = 0; i < 5; i++) {
      try (Socket over = new Socket("127.0.0.1", server.port())) {
        over.setSoTimeout((int) Recorder.WAIT.toMillis());
        over.getOutputStream().write(RawWebSocket.UPGRADE.getBytes(StandardCharsets.US_ASCII));
        assertThat(readToEnd(over.getInputStream())).as("closed without an answer").isEmpty();
      }
    }
    await().atMost(Recorder.WAIT).until(() -> serverSide.refusedBeforeOpen().size() == 5);
    assertThat(serverSide.refusedBeforeOpen())
        .allMatch(r -> r.endsWith(": over the cap of 2 connections"));
    assertThat(netty.refusedBeforeOpen()).isEqualTo(5);
    List<String> lines = warnings("over the cap");
    assertThat(lines).as("one line for the burst").hasSize(1);
    assertHealthyStillServed();

    // A place frees up when a connection closes.
    second.close(null);
    serverSide.awaitClosed(secondAtServer);
    await().atMost(Recorder.WAIT).until(() -> netty.openConnections() == 1);
    Connection third = client.connect(uri(), Recorder.recording()).get(20, TimeUnit.SECONDS);
    assertThat(third.isOpen()).isTrue();
  }

  @Test
  void limits_outboundBudgetBelowTwoFrames_isRejected() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServerConfig.defaults()
        .withMaxFrameBytes(MAX_FRAME).withLimits(TransportLimits.defaults()
            .withMaxOutboundBytes(MAX_FRAME)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
  }

  /** Reads until the end of the stream, or a reset, which a refused connection may also get. */
  private static String readToEnd(InputStream in) throws IOException {
    StringBuilder text = new StringBuilder();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        text.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
      }
    } catch (java.net.SocketException reset) {
      // the server closed with unread bytes: a reset
    }
    return text.toString();
  }

  private List<String> warnings(String containing) {
    synchronized (log) {
      return log.list.stream()
          .filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.contains(containing))
          .toList();
    }
  }

  private void assertOneWarning(String remote, String containing) {
    List<String> lines = warnings(remote);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains(containing).doesNotContain("\n");
  }

  private void assertHealthyStillServed() throws Exception {
    assertThat(healthy.isOpen()).isTrue();
    int before = healthySide.received(healthy).size();
    healthy.send(Samples.ping(42)).get(20, TimeUnit.SECONDS);
    assertThat(healthySide.awaitReceived(healthy, before + 1)).endsWith(Samples.ping(42));
    assertThat(serverSide.isClosed(healthyAtServer)).isFalse();
  }
}
