package io.replikon.transport;

import java.net.InetSocketAddress;

/**
 * A listening WebSocket server that accepts peers at {@link io.replikon.protocol.Message#PATH}.
 * Made by {@link Transports#server}.
 *
 * <p>Thread-safe. {@link #close()} blocks until the server's threads have stopped.
 */
public interface PeerServer extends AutoCloseable {
  /** Returns the address the server listens on (with the actual port if 0 was asked for). */
  InetSocketAddress address();

  /** Returns the port the server listens on. */
  int port();

  /**
   * Stops accepting, closes every connection (each handler gets {@code closed}), shuts the I/O
   * threads down and waits for them. Idempotent. Blocks for at most a few seconds.
   */
  @Override
  void close();
}
