package io.replikon.transport;

import io.replikon.protocol.Message;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link PeerServer} listens. Immutable; start from {@link #defaults()} and change what
 * differs with the {@code with} methods.
 *
 * @param host the address to bind: {@code 127.0.0.1} for loopback only, {@code 0.0.0.0} for all
 * @param port the port, or 0 for an ephemeral one (see {@link PeerServer#port()})
 * @param tls the certificate and key for {@code wss://}, or null for plain {@code ws://}
 * @param pingAfter send a WebSocket ping after writing nothing for this long ({@link
 *     Duration#ZERO}: never)
 * @param closeAfter close a connection after reading nothing for this long ({@link
 *     Duration#ZERO}: never); more than {@code pingAfter}, so that pongs keep live peers open
 * @param maxFrameBytes the largest frame (and message) accepted
 * @param compression accept permessage-deflate when a client offers it: fewer bytes on a slow
 *     link, but deflate costs far more CPU than a fast link saves (off by default)
 * @param limits the handshake timeout, the cap on connections and the outbound budget per
 *     connection
 */
public record ServerConfig(String host, int port, Tls tls, Duration pingAfter,
    Duration closeAfter, int maxFrameBytes, boolean compression, TransportLimits limits) {

  /**
   * The files of a TLS server identity.
   *
   * @param certificateChain a PEM file with the certificate chain, the server's own first
   * @param privateKey a PEM file with its PKCS#8 private key, unencrypted
   */
  public record Tls(Path certificateChain, Path privateKey) {
    /** Checks the arguments. */
    public Tls {
      Objects.requireNonNull(certificateChain, "certificateChain");
      Objects.requireNonNull(privateKey, "privateKey");
    }
  }

  /** Checks the arguments. */
  public ServerConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    Durations.checkNotNegative(pingAfter, "pingAfter");
    Durations.checkNotNegative(closeAfter, "closeAfter");
    if (!pingAfter.isZero() && !closeAfter.isZero() && closeAfter.compareTo(pingAfter) <= 0) {
      throw new IllegalArgumentException("closeAfter " + closeAfter
          + " must be longer than pingAfter " + pingAfter + ", or the pongs come too late");
    }
    if (maxFrameBytes < 1024 || maxFrameBytes > Message.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("maxFrameBytes must be in [1024, "
          + Message.MAX_FRAME_BYTES + "]: " + maxFrameBytes);
    }
    Objects.requireNonNull(limits, "limits");
    limits.checkFrames(maxFrameBytes);
  }

  /**
   * Returns the defaults: loopback, an ephemeral port, no TLS, a ping after 15 s of silence, a
   * close after 45 s without traffic, frames up to {@link Message#MAX_FRAME_BYTES}, no
   * compression, {@link TransportLimits#defaults()}.
   */
  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 0, null, Duration.ofSeconds(15), Duration.ofSeconds(45),
        Message.MAX_FRAME_BYTES, false, TransportLimits.defaults());
  }

  /** Returns this configuration with these limits. */
  public ServerConfig withLimits(TransportLimits limits) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }

  /** Returns this configuration binding {@code host}. */
  public ServerConfig withHost(String host) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }

  /** Returns this configuration listening on {@code port}. */
  public ServerConfig withPort(int port) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }

  /** Returns this configuration serving {@code wss://} with the identity in these PEM files. */
  public ServerConfig withTls(Path certificateChain, Path privateKey) {
    return new ServerConfig(host, port, new Tls(certificateChain, privateKey), pingAfter,
        closeAfter, maxFrameBytes, compression, limits);
  }

  /** Returns this configuration with these heartbeat timeouts. */
  public ServerConfig withIdle(Duration pingAfter, Duration closeAfter) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }

  /** Returns this configuration accepting frames up to {@code maxFrameBytes}. */
  public ServerConfig withMaxFrameBytes(int maxFrameBytes) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }

  /** Returns this configuration with permessage-deflate accepted or not. */
  public ServerConfig withCompression(boolean compression) {
    return new ServerConfig(host, port, tls, pingAfter, closeAfter, maxFrameBytes, compression,
        limits);
  }
}
