package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.protocol.Message;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Heartbeats: a peer that answers pings stays; one that reads nothing is closed. */
class IdleTest {
  @Test
  void idle_silentPeerClosed_pingingPeerStays() throws Exception {
    Recorder serverSide = Recorder.recording();
    Recorder activeSide = Recorder.echoing();
    Recorder silentSide = new Recorder.Suspending();
    ServerConfig config = ServerConfig.defaults()
        .withIdle(Duration.ofMillis(100), Duration.ofMillis(1_500));
    try (PeerServer server = Transports.server(config, serverSide);
        PeerClient active = Transports.client(ClientConfig.defaults()
            .withIdle(Duration.ofMillis(100), Duration.ofMillis(1_500)));
        PeerClient silent = Transports.client(ClientConfig.defaults()
            .withIdle(Duration.ZERO, Duration.ZERO))) {
      URI uri = URI.create("ws://127.0.0.1:" + server.port() + Message.PATH);
      // The active one connects first, so it has been idle longer than the silent one when the
      // silent one is closed: only the heartbeats keep it open.
      Connection a = active.connect(uri, activeSide).get(20, TimeUnit.SECONDS);
      Connection aAtServer = serverSide.nextOpened();
      Connection s = silent.connect(uri, silentSide).get(20, TimeUnit.SECONDS);
      Connection sAtServer = serverSide.nextOpened();

      assertThat(serverSide.awaitClosed(sAtServer)).startsWith("nothing received for 1500 ms");
      assertThat(serverSide.isClosed(aAtServer)).isFalse();
      assertThat(a.isOpen()).isTrue();
      aAtServer.send(Samples.ping(3)).get(20, TimeUnit.SECONDS);
      assertThat(aAtServer.isOpen()).isTrue();
      s.resumeReading();
      silentSide.awaitClosed(s);
    }
    serverSide.assertContractKept();
    activeSide.assertContractKept();
  }

  @Test
  void idle_clientHearsNothing_closesItsSide() throws Exception {
    Recorder serverSide = Recorder.recording();
    Recorder clientSide = Recorder.recording();
    ServerConfig mute = ServerConfig.defaults().withIdle(Duration.ZERO, Duration.ZERO);
    try (PeerServer server = Transports.server(mute, serverSide);
        PeerClient client = Transports.client(ClientConfig.defaults()
            .withIdle(Duration.ZERO, Duration.ofMillis(300)))) {
      URI uri = URI.create("ws://127.0.0.1:" + server.port() + Message.PATH);
      Connection c = client.connect(uri, clientSide).get(20, TimeUnit.SECONDS);
      Connection atServer = serverSide.nextOpened();
      assertThat(clientSide.awaitClosed(c)).isEqualTo("nothing received for 300 ms");
      assertThat(serverSide.awaitClosed(atServer)).contains("1001");
    }
    serverSide.assertContractKept();
    clientSide.assertContractKept();
  }

  @Test
  void config_closeNotAfterPing_isRejected() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServerConfig.defaults()
        .withIdle(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pingAfter");
  }
}
