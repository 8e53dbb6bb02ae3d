package io.replikon.transport;

import io.replikon.protocol.Message;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link PeerClient} connects. Immutable; start from {@link #defaults()} and change what
 * differs with the {@code with} methods.
 *
 * @param trustCertificate a PEM file with the certificate(s) to trust for {@code wss://}, for
 *     peers with a self-signed certificate; null to trust the JDK's default trust store. A given
 *     certificate is pinned: the host name is then not checked against it
 * @param connectTimeout how long a TCP connect and then the WebSocket handshake may each take
 * @param pingAfter send a WebSocket ping after writing nothing for this long ({@link
 *     Duration#ZERO}: never)
 * @param closeAfter close the connection after reading nothing for this long ({@link
 *     Duration#ZERO}: never)
 * @param maxFrameBytes the largest frame (and message) accepted from the server
 * @param backoffBase the first reconnect delay of a {@link Dialer} is at most this long
 * @param backoffCap no reconnect delay is longer than this
 * @param backoffResetAfter a connection that stayed open this long resets the backoff
 * @param compression offer permessage-deflate: fewer bytes on a slow link, but deflate costs far
 *     more CPU than a fast link saves (off by default)
 * @param maxOutboundBytes the outbound budget per connection (see {@link
 *     TransportLimits#maxOutboundBytes()}): a server that does not read what it is sent is
 *     closed with status 1008 before it can hold more of this client's memory
 */
public record ClientConfig(Path trustCertificate, Duration connectTimeout, Duration pingAfter,
    Duration closeAfter, int maxFrameBytes, Duration backoffBase, Duration backoffCap,
    Duration backoffResetAfter, boolean compression, long maxOutboundBytes) {

  /** Checks the arguments. */
  public ClientConfig {
    Durations.checkPositive(connectTimeout, "connectTimeout");
    Durations.checkNotNegative(pingAfter, "pingAfter");
    Durations.checkNotNegative(closeAfter, "closeAfter");
    if (!pingAfter.isZero() && !closeAfter.isZero() && closeAfter.compareTo(pingAfter) <= 0) {
      throw new IllegalArgumentException("closeAfter " + closeAfter
          + " must be longer than pingAfter " + pingAfter + ", or the pongs come too late");
    }
    Durations.checkPositive(backoffBase, "backoffBase");
    Durations.checkPositive(backoffCap, "backoffCap");
    Durations.checkNotNegative(backoffResetAfter, "backoffResetAfter");
    if (backoffCap.compareTo(backoffBase) < 0) {
      throw new IllegalArgumentException("backoffCap " + backoffCap + " is below backoffBase "
          + backoffBase);
    }
    if (maxFrameBytes < 1024 || maxFrameBytes > Message.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("maxFrameBytes must be in [1024, "
          + Message.MAX_FRAME_BYTES + "]: " + maxFrameBytes);
    }
    if (maxOutboundBytes < 2L * maxFrameBytes) {
      throw new IllegalArgumentException("maxOutboundBytes " + maxOutboundBytes
          + " must be at least twice maxFrameBytes " + maxFrameBytes);
    }
  }

  /**
   * Returns the defaults: the JDK trust store, 10 s to connect, a ping after 15 s of silence, a
   * close after 45 s without traffic, frames up to {@link Message#MAX_FRAME_BYTES}, reconnect
   * backoff from 200 ms up to 30 s, reset after a connection stayed up for a minute, no
   * compression, 64 MiB queued per connection ({@link
   * TransportLimits#DEFAULT_MAX_OUTBOUND_BYTES}).
   */
  public static ClientConfig defaults() {
    return new ClientConfig(null, Duration.ofSeconds(10), Duration.ofSeconds(15),
        Duration.ofSeconds(45), Message.MAX_FRAME_BYTES, Duration.ofMillis(200),
        Duration.ofSeconds(30), Duration.ofMinutes(1), false,
        TransportLimits.DEFAULT_MAX_OUTBOUND_BYTES);
  }

  /** Returns this configuration trusting the certificate(s) in a PEM file for wss. */
  public ClientConfig withTrustCertificate(Path trustCertificate) {
    return new ClientConfig(Objects.requireNonNull(trustCertificate, "trustCertificate"),
        connectTimeout, pingAfter, closeAfter, maxFrameBytes, backoffBase, backoffCap,
        backoffResetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration with this connect (and handshake) timeout. */
  public ClientConfig withConnectTimeout(Duration connectTimeout) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, backoffBase, backoffCap, backoffResetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration with these heartbeat timeouts. */
  public ClientConfig withIdle(Duration pingAfter, Duration closeAfter) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, backoffBase, backoffCap, backoffResetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration accepting frames up to {@code maxFrameBytes}. */
  public ClientConfig withMaxFrameBytes(int maxFrameBytes) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, backoffBase, backoffCap, backoffResetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration with this reconnect backoff. */
  public ClientConfig withBackoff(Duration base, Duration cap, Duration resetAfter) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, base, cap, resetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration offering permessage-deflate or not. */
  public ClientConfig withCompression(boolean compression) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, backoffBase, backoffCap, backoffResetAfter, compression, maxOutboundBytes);
  }

  /** Returns this configuration with this outbound budget per connection. */
  public ClientConfig withMaxOutboundBytes(long maxOutboundBytes) {
    return new ClientConfig(trustCertificate, connectTimeout, pingAfter, closeAfter,
        maxFrameBytes, backoffBase, backoffCap, backoffResetAfter, compression, maxOutboundBytes);
  }
}
