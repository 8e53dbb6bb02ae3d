package io.replikon.client;

import io.replikon.peer.AccessPolicy;
import io.replikon.peer.EngineConfig;
import io.replikon.protocol.Message;
import io.replikon.storage.Durability;
import io.replikon.transport.TransportLimits;
import io.replikon.trust.SigningKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * How to run a {@link Peer}. Start from {@link #server(Path)} or {@link #client(Path)} and change
 * what differs with the {@code with...} methods.
 *
 * @param peerId this peer's id, sent in hello
 * @param role server or client
 * @param store the store directory; empty for an in-memory store (nothing kept across restarts)
 * @param durability how store writes survive crashes
 * @param host the address to listen on (loopback, {@code 127.0.0.1}, unless changed)
 * @param port the WebSocket port; 0 for an ephemeral one; empty for no listener
 * @param tls the certificate chain and key (PEM) to serve {@code wss://}; empty for plain
 * @param connect peers to connect to, and to keep reconnecting to
 * @param trustCertificate a PEM certificate to trust for {@code wss://} peers, besides the JDK's
 * @param httpPort the port of {@code /health}, {@code /metrics} and the status page; 0 for an
 *     ephemeral one; empty for none
 * @param httpHost the address the HTTP port listens on; empty: the same as {@code host}
 * @param author the author of commits made at this peer
 * @param clock the time source for commit times and timeouts
 * @param fetchTimeout how long a fetch may go unanswered before the link is closed
 * @param autoMerge merge a CDVCS that shows several heads after a random delay of at most this
 *     long (replikativ's guard against merge storms); empty: never merge on its own
 * @param linkLimits what one connection may make this peer hold (addresses, fetches, hello
 *     timeout); see {@link EngineConfig.LinkLimits}
 * @param transportLimits the handshake timeout, the cap on connections and the outbound budget
 *     per connection of the WebSocket transport
 * @param trust the key that signs this peer's commits, and who may write and read here (see
 *     {@link Trust})
 */
public record PeerConfig(String peerId, Message.Role role, Optional<Path> store,
    Durability durability, String host, Optional<Integer> port, Optional<Tls> tls,
    List<URI> connect, Optional<Path> trustCertificate, Optional<Integer> httpPort,
    Optional<String> httpHost, String author, Clock clock, Duration fetchTimeout,
    Optional<Duration> autoMerge, EngineConfig.LinkLimits linkLimits,
    TransportLimits transportLimits, Trust trust) {

  /**
   * Who this peer is and whom it trusts.
   *
   * @param key the key that signs this peer's commits and proves it to peers that guard their
   *     reads; empty: the store's own key ({@code identity.key} in the store directory, made on
   *     first use, mode 600), or a new key for each run of an in-memory peer
   * @param access who may write and read here, asked at each decision: a peer that reloads its
   *     trust files (on SIGHUP) hands a supplier of the latest policy
   */
  public record Trust(Optional<SigningKey> key, Supplier<AccessPolicy> access) {
    /** Checks the arguments. */
    public Trust {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(access, "access");
    }

    /** The store's own key, open to every valid signature and every reader. */
    public static Trust defaults() {
      return new Trust(Optional.empty(), AccessPolicy::open);
    }
  }

  /**
   * The files of a TLS server.
   *
   * @param certificateChain the certificate chain, PEM
   * @param privateKey the private key, PEM (PKCS#8)
   */
  public record Tls(Path certificateChain, Path privateKey) {
    /** Checks the arguments. */
    public Tls {
      Objects.requireNonNull(certificateChain, "certificateChain");
      Objects.requireNonNull(privateKey, "privateKey");
    }
  }

  /** Checks and copies the arguments. */
  public PeerConfig {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(durability, "durability");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(port, "port");
    Objects.requireNonNull(tls, "tls");
    connect = List.copyOf(connect);
    Objects.requireNonNull(trustCertificate, "trustCertificate");
    Objects.requireNonNull(httpPort, "httpPort");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(author, "author");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(fetchTimeout, "fetchTimeout");
    Objects.requireNonNull(autoMerge, "autoMerge");
    Objects.requireNonNull(linkLimits, "linkLimits");
    Objects.requireNonNull(transportLimits, "transportLimits");
    Objects.requireNonNull(trust, "trust");
  }

  /**
   * A server peer on {@code store} (null: in memory), listening on an ephemeral loopback port with
   * no HTTP port: change what you need.
   */
  public static PeerConfig server(Path store) {
    String id = "peer-" + UUID.randomUUID().toString().substring(0, 8);
    return new PeerConfig(id, Message.Role.SERVER, Optional.ofNullable(store), Durability.BATCH,
        "127.0.0.1", Optional.of(0), Optional.empty(), List.of(), Optional.empty(),
        Optional.empty(), Optional.empty(), id, Clock.systemUTC(), Duration.ofSeconds(30),
        Optional.empty(), EngineConfig.LinkLimits.defaults(), TransportLimits.defaults(),
        Trust.defaults());
  }

  /** A client peer on {@code store} (null: in memory), with no listener. */
  public static PeerConfig client(Path store) {
    String id = "client-" + UUID.randomUUID().toString().substring(0, 8);
    return new PeerConfig(id, Message.Role.CLIENT, Optional.ofNullable(store), Durability.BATCH,
        "127.0.0.1", Optional.empty(), Optional.empty(), List.of(), Optional.empty(),
        Optional.empty(), Optional.empty(), id, Clock.systemUTC(), Duration.ofSeconds(30),
        Optional.empty(), EngineConfig.LinkLimits.defaults(), TransportLimits.defaults(),
        Trust.defaults());
  }

  /** Returns a copy with this peer id (also the author, unless one was set). */
  public PeerConfig withPeerId(String id) {
    String by = author.equals(peerId) ? id : author;
    return new PeerConfig(id, role, store, durability, host, port, tls, connect, trustCertificate,
        httpPort, httpHost, by, clock, fetchTimeout, autoMerge, linkLimits, transportLimits, trust);
  }

  /** Returns a copy listening on {@code host:port} (port 0: ephemeral). */
  public PeerConfig withListen(String host, int port) {
    return new PeerConfig(peerId, role, store, durability, host, Optional.of(port), tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy serving {@code wss://} with these PEM files. */
  public PeerConfig withTls(Path certificateChain, Path privateKey) {
    return new PeerConfig(peerId, role, store, durability, host, port,
        Optional.of(new Tls(certificateChain, privateKey)), connect, trustCertificate, httpPort,
        httpHost, author, clock, fetchTimeout, autoMerge, linkLimits, transportLimits, trust);
  }

  /** Returns a copy that connects to these peers. */
  public PeerConfig withConnect(List<URI> peers) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, peers,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy that trusts this PEM certificate for {@code wss://}. */
  public PeerConfig withTrustCertificate(Path certificate) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        Optional.of(certificate), httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy serving health, metrics and status on this HTTP port (0: ephemeral). */
  public PeerConfig withHttpPort(int httpPort) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, Optional.of(httpPort), httpHost, author, clock, fetchTimeout,
        autoMerge, linkLimits, transportLimits, trust);
  }

  /**
   * Returns a copy whose HTTP port listens on {@code httpHost} rather than on {@link #host()}.
   */
  public PeerConfig withHttpHost(String httpHost) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, Optional.of(httpHost), author, clock, fetchTimeout,
        autoMerge, linkLimits, transportLimits, trust);
  }

  /** The address the HTTP port listens on: {@link #httpHost()} when set, else {@link #host()}. */
  public String statusHost() {
    return httpHost.orElse(host);
  }

  /** Returns a copy with this store durability. */
  public PeerConfig withDurability(Durability durability) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy with this commit author. */
  public PeerConfig withAuthor(String author) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy with this clock. */
  public PeerConfig withClock(Clock clock) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy with this fetch timeout. */
  public PeerConfig withFetchTimeout(Duration timeout) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, timeout, autoMerge, linkLimits,
        transportLimits, trust);
  }

  /**
   * Returns a copy that merges a CDVCS showing several heads after a random delay of at most
   * {@code maxDelay} (on in the collector).
   */
  public PeerConfig withAutoMerge(Duration maxDelay) {
    if (maxDelay.isNegative()) {
      throw new IllegalArgumentException("a negative auto-merge delay: " + maxDelay);
    }
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, Optional.of(maxDelay),
        linkLimits, transportLimits, trust);
  }

  /** Returns a copy with these limits on what one connection may make this peer hold. */
  public PeerConfig withLinkLimits(EngineConfig.LinkLimits limits) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge,
        limits, transportLimits, trust);
  }

  /** Returns a copy with these transport limits. */
  public PeerConfig withTransportLimits(TransportLimits limits) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge, linkLimits,
        limits, trust);
  }

  /** Returns a copy whose commits are signed by {@code key}, which also proves this peer. */
  public PeerConfig withKey(SigningKey key) {
    return withTrust(new Trust(Optional.of(key), trust.access()));
  }

  /**
   * Returns a copy with another access policy: who may write (a commit to {@code USER/...} only
   * when signed by a key listed for {@code USER}) and read (a connection proves a listed key in
   * its handshake first). Asked at each decision, so a supplier of the latest policy reloads it.
   */
  public PeerConfig withAccess(Supplier<AccessPolicy> access) {
    return withTrust(new Trust(trust.key(), access));
  }

  /** Returns a copy with another trust. */
  public PeerConfig withTrust(Trust other) {
    return new PeerConfig(peerId, role, store, durability, host, port, tls, connect,
        trustCertificate, httpPort, httpHost, author, clock, fetchTimeout, autoMerge, linkLimits,
        transportLimits, other);
  }
}
