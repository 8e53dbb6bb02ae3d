package io.replikon.client.realize;

import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** In-memory peers on loopback for the realization tests, closed after each test. */
abstract class PeerFixture {
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Closes {@code resource} after the test, in reverse order of keeping. */
  <T extends AutoCloseable> T keep(T resource) {
    open.add(resource);
    return resource;
  }

  /** A server peer with an in-memory store, on an ephemeral loopback port. */
  Peer server() {
    return keep(Peer.start(PeerConfig.server(null)));
  }

  /** A client peer with an in-memory store, connected to {@code server}. */
  Peer client(Peer server) {
    return keep(Peer.start(
        PeerConfig.client(null).withConnect(List.of(server.url().orElseThrow()))));
  }
}
