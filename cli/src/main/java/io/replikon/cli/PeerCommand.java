package io.replikon.cli;

import io.replikon.client.KeyFiles;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.peer.EngineConfig;
import io.replikon.storage.Durability;
import io.replikon.transport.TransportLimits;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code replikon peer}: runs a server peer until SIGTERM or SIGINT.
 */
@Command(
    name = "peer",
    header = "Run a server peer: store and relay every CDVCS its peers subscribe to or publish.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Accepts WebSocket connections on ws://HOST:PORT/replikon (wss:// with --tls-cert and "
          + "--tls-key), stores what its peers publish in the store, relays it to the peers "
          + "subscribed to it, and connects to the peers given with --connect, reconnecting "
          + "with backoff when they go away.",
      "",
      "With --http-port it serves /health, /metrics (Prometheus) and a status page at /.",
      "",
      "It listens on 127.0.0.1 unless --host says otherwise. On any other address (0.0.0.0, "
          + "::, a LAN address) anyone who can reach the port could write into any CDVCS, so the "
          + "peer refuses to start there unless it has --writers FILE (commits only from listed "
          + "keys) or --open (anyone). The HTTP port follows --host unless --http-host is given.",
      "",
      "Every option can also be set by the environment variable named in its description; "
          + "the flag wins. The effective configuration is logged at start. SIGTERM or Ctrl-C "
          + "stops it cleanly: connections closed, store flushed and closed.",
      "",
      "Example:",
      "  replikon peer --port 9095 --store ./peer-data --http-port 9096"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "1:Could not start: store in use or not a store, port taken, bad TLS files.",
      "2:Invalid command line, or --host beyond loopback without --writers or --open.",
      "130:Stopped by SIGINT (Ctrl-C), after a clean shutdown.",
      "143:Stopped by SIGTERM, after a clean shutdown."
    })
final class PeerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(PeerCommand.class);

  @Spec private CommandSpec spec;

  @Option(names = "--store", required = true, paramLabel = "DIR",
      defaultValue = "${env:REPLIKON_STORE}",
      description = "The store directory, created if missing ($REPLIKON_STORE).")
  private Path store;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:REPLIKON_PORT:-9095}",
      description = "The WebSocket port; 0 picks a free one ($REPLIKON_PORT, "
          + "default ${DEFAULT-VALUE}).")
  private int port;

  @Option(names = "--host", paramLabel = "HOST",
      defaultValue = "${env:REPLIKON_HOST:-" + Exposure.DEFAULT_HOST + "}",
      description = "The address to listen on ($REPLIKON_HOST, default ${DEFAULT-VALUE}: this "
          + "machine only). Any other address (0.0.0.0, ::, a LAN address, a name for one) needs "
          + "--writers or --open.")
  private String host;

  @Mixin
  private TrustOptions trust = new TrustOptions();

  @Option(names = "--key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_KEY}",
      description = "The private key of this peer (PKCS#8 PEM, from 'replikon keygen'), which "
          + "signs its commits and proves it to peers that guard their reads ($REPLIKON_KEY; "
          + "default: identity.key in the store, made on first use).")
  private Path key;

  @Option(names = "--connect", paramLabel = "URL", split = ",",
      defaultValue = "${env:REPLIKON_CONNECT}",
      description = "A peer to connect to, ws://HOST:PORT/replikon or wss://...; repeat or "
          + "separate with commas ($REPLIKON_CONNECT).")
  private List<URI> connect = new ArrayList<>();

  @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "${env:REPLIKON_HTTP_PORT}",
      description = "Serve /health, /metrics and the status page on this port; 0 picks a free "
          + "one ($REPLIKON_HTTP_PORT; default: off).")
  private Integer httpPort;

  @Option(names = "--http-host", paramLabel = "HOST", defaultValue = "${env:REPLIKON_HTTP_HOST}",
      description = "The address of --http-port ($REPLIKON_HTTP_HOST; default: --host). It is "
          + "read-only, so any address is allowed; beyond loopback a warning is logged.")
  private String httpHost;

  @Option(names = "--peer-id", paramLabel = "ID", defaultValue = "${env:REPLIKON_PEER_ID}",
      description = "This peer's id in hello messages and logs ($REPLIKON_PEER_ID; default: "
          + "the host name and port).")
  private String peerId;

  @Option(names = "--durability", paramLabel = "MODE",
      defaultValue = "${env:REPLIKON_DURABILITY:-batch}", converter = DurabilityConverter.class,
      description = "sync (fsync every write), batch (fsync once per publish) or none "
          + "(tests only) ($REPLIKON_DURABILITY, default ${DEFAULT-VALUE}).")
  private Durability durability;

  @Option(names = "--tls-cert", paramLabel = "FILE", defaultValue = "${env:REPLIKON_TLS_CERT}",
      description = "PEM certificate chain to serve wss:// ($REPLIKON_TLS_CERT).")
  private Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_TLS_KEY}",
      description = "PEM private key (PKCS#8) for --tls-cert ($REPLIKON_TLS_KEY).")
  private Path tlsKey;

  @Option(names = "--tls-trust", paramLabel = "FILE", defaultValue = "${env:REPLIKON_TLS_TRUST}",
      description = "PEM certificate to trust when connecting to wss:// peers, besides the "
          + "system's ($REPLIKON_TLS_TRUST).")
  private Path tlsTrust;

  @Option(names = "--max-subscriptions", paramLabel = "N",
      defaultValue = "${env:REPLIKON_MAX_SUBSCRIPTIONS:-1000}",
      description = "Addresses one connection may subscribe to or publish; past it the "
          + "connection is closed (overloaded). A server mesh whose peers hold more CDVCSs "
          + "needs more ($REPLIKON_MAX_SUBSCRIPTIONS, default ${DEFAULT-VALUE}).")
  private int maxSubscriptions;

  @Option(names = "--hello-timeout", paramLabel = "DURATION",
      defaultValue = "${env:REPLIKON_HELLO_TIMEOUT:-10s}",
      converter = CollectCommand.DurationConverter.class,
      description = "Close a connection that has not said hello after this long, e.g. 10s "
          + "($REPLIKON_HELLO_TIMEOUT, default ${DEFAULT-VALUE}).")
  private Duration helloTimeout;

  @Option(names = "--max-connections", paramLabel = "N",
      defaultValue = "${env:REPLIKON_MAX_CONNECTIONS:-1024}",
      description = "Peer connections held at once; more are closed at accept and counted "
          + "($REPLIKON_MAX_CONNECTIONS, default ${DEFAULT-VALUE}).")
  private int maxConnections;

  @Option(names = "--handshake-timeout", paramLabel = "DURATION",
      defaultValue = "${env:REPLIKON_HANDSHAKE_TIMEOUT:-10s}",
      converter = CollectCommand.DurationConverter.class,
      description = "A connection must complete its WebSocket handshake this soon after it is "
          + "accepted ($REPLIKON_HANDSHAKE_TIMEOUT, default ${DEFAULT-VALUE}).")
  private Duration handshakeTimeout;

  @Option(names = "--max-outbound-mib", paramLabel = "MIB",
      defaultValue = "${env:REPLIKON_MAX_OUTBOUND_MIB:-64}",
      description = "MiB queued toward one connection that does not read them before it is "
          + "closed; at least 32 ($REPLIKON_MAX_OUTBOUND_MIB, default ${DEFAULT-VALUE}).")
  private int maxOutboundMib;

  @Override
  public Integer call() throws InterruptedException {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ParameterException(spec.commandLine(), "--tls-cert and --tls-key go together");
    }
    trust.requireWritersOrOpen(spec, host);
    Durability mode = durability;
    String id = peerId != null ? peerId : defaultPeerId();
    if (maxSubscriptions < 1 || helloTimeout.isZero() || helloTimeout.isNegative()) {
      throw new ParameterException(spec.commandLine(),
          "--max-subscriptions and --hello-timeout must be positive");
    }
    PeerConfig config = PeerConfig.server(store).withPeerId(id).withListen(host, port)
        .withConnect(connect).withDurability(mode)
        .withLinkLimits(EngineConfig.LinkLimits.defaults().withMaxSubscriptions(maxSubscriptions)
            .withHelloTimeout(helloTimeout));
    if (maxOutboundMib < 32) {
      throw new ParameterException(spec.commandLine(), "--max-outbound-mib must be at least 32"
          + " (twice the largest frame, 16 MiB): " + maxOutboundMib);
    }
    try {
      config = config.withTransportLimits(new TransportLimits(handshakeTimeout, maxConnections,
          (long) maxOutboundMib << 20));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (httpPort != null) {
      config = config.withHttpPort(httpPort);
      if (httpHost != null) {
        config = config.withHttpHost(httpHost);
      }
      Exposure.warnIfStatusReadable(spec, config.statusHost());
    }
    if (tlsCert != null) {
      config = config.withTls(tlsCert, tlsKey);
    }
    if (key != null) {
      config = config.withKey(KeyFiles.read(key));
    }
    config = trust.apply(config);
    if (tlsTrust != null) {
      config = config.withTrustCertificate(tlsTrust);
    }
    LOG.info("configuration: peer-id={} store={} host={} port={} {} "
        + "connect={} http-port={} http-host={} durability={} tls-cert={} tls-key={} tls-trust={} "
        + "max-subscriptions={} hello-timeout={}", id, store.toAbsolutePath(), host, port, trust, connect,
        httpPort == null ? "off" : httpPort, config.statusHost(),
        mode.name().toLowerCase(Locale.ROOT), tlsCert == null ? "-" : tlsCert,
        tlsKey == null ? "-" : "(set)", tlsTrust == null ? "-" : tlsTrust, maxSubscriptions,
        helloTimeout);
    CountDownLatch stopped = new CountDownLatch(1);
    Peer peer = Peer.start(config);
    LOG.info("listening on {}{}", peer.url().orElseThrow(),
        peer.httpAddress().map(a -> "; http on http://" + a.getHostString() + ":" + a.getPort())
            .orElse(""));
    Thread hook = new Thread(() -> {
      LOG.info("stopping");
      peer.close();
      stopped.countDown();
    }, "replikon-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    stopped.await();
    return 0;
  }

  private String defaultPeerId() {
    try {
      return InetAddress.getLocalHost().getHostName() + ":" + port;
    } catch (UnknownHostException e) {
      return "peer:" + port;
    }
  }
}
