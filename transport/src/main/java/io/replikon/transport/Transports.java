package io.replikon.transport;

import java.util.Objects;

/**
 * Makes the WebSocket transport of the peer protocol: servers that accept peers and clients that
 * connect to them. One {@link io.replikon.protocol.Message} travels per binary frame, at
 * {@link io.replikon.protocol.Message#PATH} with subprotocol
 * {@link io.replikon.protocol.Message#SUBPROTOCOL}; heartbeats, backpressure, TLS, and answers to
 * bad input (an error message, a close, one WARN log line) are the transport's business.
 *
 * <p>Thread-safe. {@link #server} blocks until the server listens.
 */
public final class Transports {
  private Transports() {}

  /**
   * Starts a server.
   *
   * @param config where and how to listen
   * @param handler gets every accepted connection's events
   * @return the listening server; close it to stop
   * @throws io.replikon.error.ReplikonException {@code CONNECTION} if the address cannot be
   *     bound, {@code INVALID_INPUT} if the TLS files cannot be used
   */
  public static PeerServer server(ServerConfig config, ConnectionHandler handler) {
    return new NettyPeerServer(Objects.requireNonNull(config, "config"),
        Objects.requireNonNull(handler, "handler"));
  }

  /**
   * Makes a client, with its own I/O threads.
   *
   * @throws io.replikon.error.ReplikonException {@code INVALID_INPUT} if the trusted certificate
   *     file cannot be used
   */
  public static PeerClient client(ClientConfig config) {
    return new NettyPeerClient(config);
  }
}
