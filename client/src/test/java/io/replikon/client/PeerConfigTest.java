package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Where a peer listens: loopback unless told otherwise, the HTTP port after the WebSocket one. */
class PeerConfigTest {
  @Test
  void defaults_listenOnLoopback() {
    assertThat(PeerConfig.server(null).host()).isEqualTo("127.0.0.1");
    assertThat(PeerConfig.client(null).host()).isEqualTo("127.0.0.1");
    assertThat(PeerConfig.server(null).statusHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void httpPort_followsTheHost_unlessAnHttpHostIsGiven() {
    PeerConfig config = PeerConfig.server(null).withListen("0.0.0.0", 0).withHttpPort(0);
    assertThat(config.httpHost()).isEmpty();
    assertThat(config.statusHost()).isEqualTo("0.0.0.0");
    assertThat(config.withHttpHost("127.0.0.1").statusHost()).isEqualTo("127.0.0.1");
    // The http host survives the other with-methods.
    assertThat(config.withHttpHost("127.0.0.1").withPeerId("p").withDurability(
        config.durability()).statusHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void runningPeer_bindsItsStatusPortOnTheHttpHost() {
    try (Peer peer = Peer.start(PeerConfig.server(null).withListen("127.0.0.1", 0)
        .withHttpPort(0).withHttpHost("0.0.0.0"))) {
      InetSocketAddress http = peer.httpAddress().orElseThrow();
      assertThat(http.getAddress().isAnyLocalAddress()).as("%s", http).isTrue();
      assertThat(peer.address().orElseThrow().getAddress().isLoopbackAddress()).isTrue();
    }
    try (Peer peer = Peer.start(PeerConfig.server(null).withListen("0.0.0.0", 0)
        .withHttpPort(0).withHttpHost("127.0.0.1"))) {
      assertThat(peer.httpAddress().orElseThrow().getAddress().isLoopbackAddress()).isTrue();
      assertThat(peer.address().orElseThrow().getAddress().isAnyLocalAddress()).isTrue();
    }
    try (Peer peer = Peer.start(PeerConfig.server(null).withHttpPort(0))) {
      assertThat(peer.httpAddress().orElseThrow().getAddress().isLoopbackAddress()).isTrue();
    }
  }
}
