package io.replikon.transport;

import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * Opens WebSocket connections to other peers ({@code ws://} and {@code wss://}). It owns the I/O
 * threads of those connections. Made by {@link Transports#client}.
 *
 * <p>Thread-safe. Only {@link #close()} blocks.
 */
public interface PeerClient extends AutoCloseable {
  /**
   * Connects once.
   *
   * @param uri a {@code ws://} or {@code wss://} URL, normally ending in
   *     {@link io.replikon.protocol.Message#PATH}
   * @param handler gets the connection's events; {@code opened} is called before the future
   *     completes
   * @return a future of the open connection, failing with a
   *     {@link io.replikon.error.ReplikonException} of reason {@code CONNECTION} whose message
   *     names the URL and the cause (unreachable, handshake refused, certificate not trusted).
   *     It completes on the connection's I/O thread: dependent stages must not block there
   * @throws IllegalArgumentException if the URI is not a ws or wss URL
   */
  CompletableFuture<Connection> connect(URI uri, ConnectionHandler handler);

  /**
   * Keeps a connection to {@code uri}, reconnecting with backoff until the dialer is closed.
   *
   * @throws IllegalArgumentException if the URI is not a ws or wss URL
   */
  Dialer dial(URI uri, ConnectionHandler handler);

  /**
   * Closes every dialer and connection, shuts the I/O threads down and waits for them.
   * Idempotent.
   */
  @Override
  void close();
}
