package io.replikon.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketClientCompressionHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A {@link PeerClient} on Netty. Pipeline per connection, from the socket up:
 * {@code [tls] → idle → http → http-aggregator (handshake response only) → [ws-compression
 * with a decompression cap, if configured] → budget (everything queued toward the server, see
 * {@link OutboundBudget}) → ws (handshake, frame limit, pongs passed up) → ws-aggregator →
 * peer}. With the JDK trust store the server's host name is verified; a pinned certificate
 * ({@link ClientConfig#trustCertificate()}) is trusted for whatever name it carries.
 */
final class NettyPeerClient implements PeerClient {
  private final ClientConfig config;
  private final EventLoopGroup group;
  private final SslContext ssl;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Set<ReconnectingDialer> dialers = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  NettyPeerClient(ClientConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.ssl = TlsContexts.client(config.trustCertificate());
    this.group = EventLoops.group(0, "replikon-client-io");
  }

  EventLoopGroup group() {
    return group;
  }

  @Override
  public CompletableFuture<Connection> connect(URI uri, ConnectionHandler handler) {
    boolean secure = checkUri(uri);
    Objects.requireNonNull(handler, "handler");
    if (closed.get()) {
      return CompletableFuture.failedFuture(new ReplikonException(Reason.CONNECTION,
          "cannot connect to " + uri + ": the client is closed"));
    }
    String host = uri.getHost();
    int port = uri.getPort() >= 0 ? uri.getPort() : secure ? 443 : 80;
    CompletableFuture<Connection> opening = new CompletableFuture<>();
    long timeoutMillis = config.connectTimeout().toMillis();
    WebSocketClientProtocolConfig ws = WebSocketClientProtocolConfig.newBuilder()
        .webSocketUri(uri)
        .subprotocol(Message.SUBPROTOCOL)
        .allowExtensions(true)
        .maxFramePayloadLength(config.maxFrameBytes())
        .handshakeTimeoutMillis(timeoutMillis)
        .handleCloseFrames(false)
        .dropPongFrames(false)
        .forceCloseTimeoutMillis(NettyConnection.CLOSE_TIMEOUT_MILLIS)
        .build();
    Bootstrap bootstrap = new Bootstrap()
        .group(group)
        .channel(EventLoops.channel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
            timeoutMillis))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOCATOR, EventLoops.ALLOCATOR)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, NettyPeerServer.WATER_MARK)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            channels.add(ch);
            ChannelPipeline p = ch.pipeline();
            if (secure) {
              p.addLast("tls", sslHandler(ch, host, port, timeoutMillis));
            }
            p.addLast("idle", new IdleStateHandler(config.closeAfter().toMillis(),
                config.pingAfter().toMillis(), 0, TimeUnit.MILLISECONDS));
            p.addLast("http", new HttpClientCodec());
            p.addLast("http-aggregator", new HttpObjectAggregator(NettyPeerServer.MAX_HTTP_BYTES));
            if (config.compression()) {
              p.addLast("ws-compression",
                  new WebSocketClientCompressionHandler(config.maxFrameBytes()));
            }
            p.addLast("budget", new OutboundBudget(config.maxOutboundBytes()));
            p.addLast("ws", new WebSocketClientProtocolHandler(ws));
            p.addLast("ws-aggregator", new WebSocketFrameAggregator(config.maxFrameBytes()));
            p.addLast("peer", new PeerFrameHandler(handler, uri.toString(),
                config.maxFrameBytes(), config.closeAfter(), opening));
          }
        });
    try {
      bootstrap.connect(host, port).addListener(f -> {
        if (!f.isSuccess()) {
          opening.completeExceptionally(Failures.connectFailure(uri, f.cause()));
        }
      });
    } catch (RuntimeException e) {
      // The group is shutting down: close() raced with this connect.
      opening.completeExceptionally(Failures.connectFailure(uri, e));
    }
    return opening;
  }

  private SslHandler sslHandler(SocketChannel ch, String host, int port, long timeoutMillis) {
    SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
    tls.setHandshakeTimeoutMillis(timeoutMillis);
    if (config.trustCertificate() == null) {
      SSLEngine engine = tls.engine();
      SSLParameters parameters = engine.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(parameters);
    }
    return tls;
  }

  /** Returns true for wss; throws for anything but a ws or wss URL with a host. */
  private static boolean checkUri(URI uri) {
    Objects.requireNonNull(uri, "uri");
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("ws") && !scheme.equals("wss")) {
      throw new IllegalArgumentException("not a ws:// or wss:// URL: " + uri);
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("no host in " + uri);
    }
    return scheme.equals("wss");
  }

  @Override
  public Dialer dial(URI uri, ConnectionHandler handler) {
    checkUri(uri);
    Objects.requireNonNull(handler, "handler");
    if (closed.get()) {
      throw new IllegalStateException("the client is closed");
    }
    ReconnectingDialer dialer = new ReconnectingDialer(this, uri, handler,
        new Backoff(config.backoffBase(), config.backoffCap(), new Random()),
        config.backoffResetAfter(), dialers::remove);
    dialers.add(dialer);
    dialer.start();
    return dialer;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    dialers.forEach(ReconnectingDialer::close);
    for (Channel ch : channels) {
      PeerFrameHandler peer = ch.pipeline().get(PeerFrameHandler.class);
      NettyConnection c = peer == null ? null : peer.connection();
      if (c != null) {
        c.closeWith(null, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "the client shut down");
      } else {
        ch.close();
      }
    }
    channels.newCloseFuture().awaitUninterruptibly(NettyConnection.CLOSE_TIMEOUT_MILLIS + 1_000);
    EventLoops.shutdown(group);
  }
}
