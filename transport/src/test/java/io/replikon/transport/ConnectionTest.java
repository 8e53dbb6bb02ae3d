package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.Message.Kind;
import io.replikon.protocol.MessageCodec;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real client and server on loopback: round trips, closing, backpressure, failed connects. */
class ConnectionTest {
  private final Recorder serverSide = Recorder.echoing();
  private final Recorder clientSide = Recorder.recording();
  private PeerServer server;
  private PeerClient client;

  @BeforeEach
  void start() {
    server = Transports.server(ServerConfig.defaults(), serverSide);
    client = Transports.client(ClientConfig.defaults());
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
    serverSide.assertContractKept();
    clientSide.assertContractKept();
  }

  private URI uri() {
    return URI.create("ws://127.0.0.1:" + server.port() + Message.PATH);
  }

  @Test
  void send_everyKind_echoedBackIdentical() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    assertThat(clientSide.nextOpened()).isSameAs(c);
    assertThat(c.isOpen()).isTrue();
    assertThat(c.remote()).isEqualTo(uri().toString());
    Connection atServer = serverSide.nextOpened();
    assertThat(atServer.remote()).startsWith("127.0.0.1:");

    for (Kind kind : Kind.values()) {
      c.send(Samples.of(kind)).get(20, TimeUnit.SECONDS);
    }
    List<Message> echoed = clientSide.awaitReceived(c, Kind.values().length);
    assertThat(echoed).extracting(Message::kind).containsExactly(Kind.values());
    for (Message m : echoed) {
      // Records holding byte arrays compare by reference; the canonical encoding compares all.
      assertThat(MessageCodec.encode(m)).isEqualTo(MessageCodec.encode(Samples.of(m.kind())));
    }
    assertThat(serverSide.received(atServer)).hasSize(Kind.values().length);
  }

  @Test
  void send_largeMessage_arrivesWhole() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Message big = Samples.bulky(1, 3 << 20, new Random(7));
    c.send(big).get(20, TimeUnit.SECONDS);
    Message echoed = clientSide.awaitReceived(c, 1).get(0);
    assertThat(MessageCodec.encode(echoed)).isEqualTo(MessageCodec.encode(big));
  }

  @Test
  void send_messageOverTheFrameLimit_failsWithTooLargeAndKeepsTheConnection() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Message huge = Samples.bulky(1, Message.MAX_FRAME_BYTES, new Random(5));
    assertThatThrownBy(() -> c.send(huge).join())
        .cause().isInstanceOf(ReplikonException.class)
        .satisfies(e -> assertThat(((ReplikonException) e).reason()).isEqualTo(Reason.TOO_LARGE));
    assertThat(c.isOpen()).isTrue();
    c.send(Samples.ping(2)).get(20, TimeUnit.SECONDS);
    assertThat(clientSide.awaitReceived(c, 1)).containsExactly(Samples.ping(2));
  }

  @Test
  void send_onClosedConnection_failsWithConnection() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    c.close(null);
    c.close(null);
    assertThat(c.isOpen()).isFalse();
    assertThat(clientSide.awaitClosed(c)).isEqualTo("closed locally");
    assertThat(serverSide.awaitClosed(atServer)).contains("closed by the other side (1000");

    assertThatThrownBy(() -> c.send(Samples.ping(1)).join())
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOf(ReplikonException.class)
        .satisfies(e -> assertThat(((ReplikonException) e).reason()).isEqualTo(Reason.CONNECTION))
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> atServer.send(Samples.ping(1)).join())
        .cause().isInstanceOf(ReplikonException.class)
        .satisfies(e -> assertThat(((ReplikonException) e).reason()).isEqualTo(Reason.CONNECTION));
  }

  @Test
  void close_withReport_deliversReportThenCloses() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    Message.ErrorReport report = new Message.ErrorReport(9, 0, ErrorCode.FORBIDDEN, "go away");
    c.close(report);
    assertThat(serverSide.awaitClosed(atServer)).contains("1008").contains("go away");
    assertThat(serverSide.received(atServer)).containsExactly(report);
    assertThat(clientSide.awaitClosed(c)).contains("forbidden: go away");
  }

  @Test
  void isWritable_receiverStopsReading_turnsFalseThenTrueAgain() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    atServer.suspendReading();
    Random random = new Random(1);
    int[] sent = {0};
    // Top the buffer up while it is writable, until the socket is full and Netty has told the
    // handler "false" (a short unwritable spell while queued writes reach the kernel does not
    // count). Bounded: at most 2,000 frames of 64 KiB.
    await().atMost(Recorder.WAIT).until(() -> {
      while (c.isWritable() && sent[0] < 2_000) {
        sent[0]++;
        c.send(Samples.bulky(sent[0], 64 * 1024, random));
      }
      List<Boolean> told = clientSide.writability(c);
      return !c.isWritable() && !told.isEmpty() && !told.get(told.size() - 1);
    });

    atServer.resumeReading();
    serverSide.awaitReceived(atServer, sent[0]);
    await().atMost(Recorder.WAIT).until(() -> clientSide.writability(c).contains(true));
    assertThat(clientSide.writability(c)).contains(false).endsWith(true);
    assertThat(c.isWritable()).isTrue();
    assertThat(serverSide.received(atServer)).hasSize(sent[0])
        .extracting(Message::id).doesNotHaveDuplicates();
  }

  @Test
  void received_handlerThrows_closesWithInternalError() throws Exception {
    Recorder throwing = new Recorder.Throwing();
    try (PeerServer other = Transports.server(ServerConfig.defaults(), throwing)) {
      URI uri = URI.create("ws://127.0.0.1:" + other.port() + Message.PATH);
      Connection c = client.connect(uri, clientSide).get(20, TimeUnit.SECONDS);
      Connection atServer = throwing.nextOpened();
      c.send(Samples.ping(1)).get(20, TimeUnit.SECONDS);
      assertThat(throwing.awaitClosed(atServer))
          .contains("the connection handler failed in received fetch");
      clientSide.awaitClosed(c);
      assertThat(clientSide.received(c)).singleElement()
          .satisfies(m -> assertThat(((Message.ErrorReport) m).code())
              .isEqualTo(ErrorCode.INTERNAL));
      throwing.assertContractKept();
    }
  }

  @Test
  void connect_nothingListening_failsNamingTheUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    URI nowhere = URI.create("ws://127.0.0.1:" + port + Message.PATH);
    assertThatThrownBy(() -> client.connect(nowhere, clientSide).join())
        .cause().isInstanceOf(ReplikonException.class)
        .satisfies(e -> assertThat(((ReplikonException) e).reason()).isEqualTo(Reason.CONNECTION))
        .hasMessageContaining(nowhere.toString())
        .hasMessageContaining("refused");
    assertThat(clientSide.openedCount()).isZero();
  }

  @Test
  void connect_wrongPath_failsWithTheHandshakeRefusal() {
    URI wrong = URI.create("ws://127.0.0.1:" + server.port() + "/elsewhere");
    assertThatThrownBy(() -> client.connect(wrong, clientSide).join())
        .cause().isInstanceOf(ReplikonException.class)
        .satisfies(e -> assertThat(((ReplikonException) e).reason()).isEqualTo(Reason.CONNECTION))
        .hasMessageContaining(wrong.toString())
        .hasMessageContaining("404");
    assertThat(serverSide.openedCount()).isZero();
  }

  @Test
  void connect_notWebSocketUrl_isRejected() {
    assertThatThrownBy(() -> client.connect(URI.create("http://127.0.0.1/x"), clientSide))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void close_server_closesItsConnections() throws Exception {
    Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    server.close();
    assertThat(serverSide.isClosed(atServer)).as("closed before close() returns").isTrue();
    assertThat(clientSide.awaitClosed(c)).contains("1001");
  }
}
