package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.replikon.protocol.Message;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A dialer follows a server that goes away and comes back on the same port. */
class DialerTest {
  private static final ClientConfig FAST = ClientConfig.defaults()
      .withBackoff(Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofSeconds(1));

  @Test
  void dial_serverRestartsOnSamePort_reconnectsAndOpensAgain() throws Exception {
    Recorder serverSide = Recorder.echoing();
    Recorder clientSide = Recorder.recording();
    PeerServer first = Transports.server(ServerConfig.defaults(), serverSide);
    int port = first.port();
    URI uri = URI.create("ws://127.0.0.1:" + port + Message.PATH);
    try (PeerClient client = Transports.client(FAST)) {
      Dialer dialer = client.dial(uri, clientSide);
      Connection one = clientSide.nextOpened();
      assertThat(dialer.current()).contains(one);

      first.close();
      // Which close frame the client reports first races with Netty's own "1000 Bye" answer to
      // the closing handshake; what matters here is that it saw the close and comes back.
      assertThat(clientSide.awaitClosed(one)).containsAnyOf("1001", "1000");
      try (PeerServer second =
          Transports.server(ServerConfig.defaults().withPort(port), serverSide)) {
        assertThat(second.port()).isEqualTo(port);
        Connection two = clientSide.nextOpened();
        assertThat(two.id()).isNotEqualTo(one.id());
        assertThat(dialer.connections()).isEqualTo(2);
        two.send(Samples.ping(7)).get(20, TimeUnit.SECONDS);
        assertThat(clientSide.awaitReceived(two, 1)).containsExactly(Samples.ping(7));

        dialer.close();
        clientSide.awaitClosed(two);
        assertThat(dialer.current()).isEmpty();
      }
    }
    assertThat(clientSide.openedCount()).isEqualTo(2);
    serverSide.assertContractKept();
    clientSide.assertContractKept();
  }

  @Test
  void dial_nothingListeningYet_keepsTryingUntilAServerComes() throws Exception {
    Recorder serverSide = Recorder.echoing();
    Recorder clientSide = Recorder.recording();
    int port;
    try (PeerServer probe = Transports.server(ServerConfig.defaults(), serverSide)) {
      port = probe.port();
    }
    URI uri = URI.create("ws://127.0.0.1:" + port + Message.PATH);
    try (PeerClient client = Transports.client(FAST);
        Dialer dialer = client.dial(uri, clientSide)) {
      assertThat(dialer.current()).isEmpty();
      try (PeerServer server =
          Transports.server(ServerConfig.defaults().withPort(port), serverSide)) {
        assertThat(server.port()).isEqualTo(port);
        Connection c = clientSide.nextOpened();
        await().atMost(Recorder.WAIT).until(() -> dialer.current().isPresent());
        assertThat(dialer.current()).contains(c);
      }
    }
    clientSide.assertContractKept();
  }
}
