package io.replikon.transport;

import io.replikon.protocol.Message;
import java.time.Duration;

/**
 * What one connection, and all of them together, may make a peer hold, beyond the frame limit.
 * Immutable; start from {@link #defaults()}.
 *
 * @param handshakeTimeout an accepted connection that has not completed the WebSocket handshake
 *     (TLS, then the HTTP upgrade request) this long after it was accepted is closed: headers
 *     sent a byte a second do not hold a socket for long. Servers only; a client bounds its
 *     handshake with {@link ClientConfig#connectTimeout()}
 * @param maxConnections connections a server holds at once; one more is closed as soon as it is
 *     accepted, and counted
 * @param maxOutboundBytes bytes queued toward one connection and not yet taken by its socket
 *     (pongs, replies, relayed publishes, errors: everything, with a fixed overhead per frame);
 *     a connection that would pass it is closed with status 1008 and counted. At least twice the
 *     largest frame, so that a whole frame can be queued while another is being sent
 */
public record TransportLimits(Duration handshakeTimeout, int maxConnections,
    long maxOutboundBytes) {

  /** The default handshake timeout: 10 s. */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  /** The default cap on a server's connections: 1,024. */
  public static final int DEFAULT_MAX_CONNECTIONS = 1024;
  /**
   * The default outbound budget per connection: 64 MiB, four frames of the largest size
   * ({@link Message#MAX_FRAME_BYTES}, 16 MiB). A peer that respects backpressure has at most the
   * high water mark (1 MiB) plus one message queued toward a connection, so only a connection
   * that does not read comes near it.
   */
  public static final long DEFAULT_MAX_OUTBOUND_BYTES = 64L << 20;

  /** Checks the arguments. */
  public TransportLimits {
    Durations.checkPositive(handshakeTimeout, "handshakeTimeout");
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
    }
    if (maxOutboundBytes < 2L * 1024) {
      throw new IllegalArgumentException("maxOutboundBytes must be at least 2048: "
          + maxOutboundBytes);
    }
  }

  /** Returns the defaults: a 10 s handshake, 1,024 connections, 64 MiB queued per connection. */
  public static TransportLimits defaults() {
    return new TransportLimits(DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_OUTBOUND_BYTES);
  }

  /** Returns these limits with this handshake timeout. */
  public TransportLimits withHandshakeTimeout(Duration handshakeTimeout) {
    return new TransportLimits(handshakeTimeout, maxConnections, maxOutboundBytes);
  }

  /** Returns these limits with this cap on concurrent connections. */
  public TransportLimits withMaxConnections(int maxConnections) {
    return new TransportLimits(handshakeTimeout, maxConnections, maxOutboundBytes);
  }

  /** Returns these limits with this outbound budget per connection. */
  public TransportLimits withMaxOutboundBytes(long maxOutboundBytes) {
    return new TransportLimits(handshakeTimeout, maxConnections, maxOutboundBytes);
  }

  /** Throws unless the outbound budget holds two frames of {@code maxFrameBytes}. */
  void checkFrames(int maxFrameBytes) {
    if (maxOutboundBytes < 2L * maxFrameBytes) {
      throw new IllegalArgumentException("maxOutboundBytes " + maxOutboundBytes
          + " must be at least twice maxFrameBytes " + maxFrameBytes);
    }
  }
}
