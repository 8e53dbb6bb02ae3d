package io.replikon.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PeerServer} on Netty. Pipeline per connection, from the socket up:
 * {@code [tls] → idle → http → http-aggregator (upgrade request only) → [ws-compression
 * with a decompression cap, if configured] → budget (everything queued toward the connection,
 * pongs included: Netty writes them from the ws handler) → ws (handshake, frame limit, pings) →
 * ws-aggregator (fragments) → peer}. The idle handler sits low so that any bytes, pongs
 * included, count as traffic.
 *
 * <p>Limits ({@link TransportLimits}): a connection over the cap is closed as it is accepted,
 * before any handler or buffer is set up for it; the peer handler closes a connection that has
 * not completed its WebSocket handshake in time; the budget closes one that does not read what is
 * queued toward it. Refusals of connections that never opened are logged a line per burst.
 */
final class NettyPeerServer implements PeerServer {
  private static final Logger LOG = LoggerFactory.getLogger(NettyPeerServer.class);
  /** The upgrade request is the only HTTP message; 64 KiB is plenty for its headers. */
  static final int MAX_HTTP_BYTES = 64 * 1024;
  static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Channel serverChannel;
  private final InetSocketAddress address;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger open = new AtomicInteger();
  private final RefusalLog refusals = new RefusalLog(LOG, "peer server");

  NettyPeerServer(ServerConfig config, ConnectionHandler handler) {
    TransportLimits limits = config.limits();
    SslContext ssl = config.tls() == null ? null : TlsContexts.server(config.tls());
    WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
        .websocketPath(Message.PATH)
        .subprotocols(Message.SUBPROTOCOL)
        .allowExtensions(true)
        .maxFramePayloadLength(config.maxFrameBytes())
        .handshakeTimeoutMillis(limits.handshakeTimeout().toMillis())
        .handleCloseFrames(false)
        .closeOnProtocolViolation(false)
        .forceCloseTimeoutMillis(NettyConnection.CLOSE_TIMEOUT_MILLIS)
        .build();
    long readerIdle = config.closeAfter().toMillis();
    long writerIdle = config.pingAfter().toMillis();
    boss = EventLoops.group(1, "replikon-accept");
    workers = EventLoops.group(0, "replikon-server-io");
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(boss, workers)
        .channel(EventLoops.serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, EventLoops.ALLOCATOR)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            String remote = hostPort(ch.remoteAddress());
            if (open.incrementAndGet() > limits.maxConnections()) {
              open.decrementAndGet();
              refuseOverCap(ch, remote, limits.maxConnections(), handler);
              return;
            }
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            channels.add(ch);
            ChannelPipeline p = ch.pipeline();
            if (ssl != null) {
              p.addLast("tls", ssl.newHandler(ch.alloc()));
            }
            p.addLast("idle", new IdleStateHandler(readerIdle, writerIdle, 0,
                TimeUnit.MILLISECONDS));
            p.addLast("http", new HttpServerCodec());
            p.addLast("http-aggregator", new HttpObjectAggregator(MAX_HTTP_BYTES));
            if (config.compression()) {
              p.addLast("ws-compression",
                  new WebSocketServerCompressionHandler(config.maxFrameBytes()));
            }
            p.addLast("budget", new OutboundBudget(limits.maxOutboundBytes()));
            p.addLast("ws", new WebSocketServerProtocolHandler(ws));
            p.addLast("ws-aggregator", new WebSocketFrameAggregator(config.maxFrameBytes()));
            p.addLast("peer", new PeerFrameHandler(handler, remote, config.maxFrameBytes(),
                config.closeAfter(), limits.handshakeTimeout(), refusals));
          }
        });
    try {
      serverChannel = bootstrap.bind(config.host(), config.port()).syncUninterruptibly().channel();
    } catch (Exception e) {
      EventLoops.shutdown(workers);
      EventLoops.shutdown(boss);
      throw new ReplikonException(Reason.CONNECTION, "cannot listen on " + config.host() + ":"
          + config.port() + ": " + Failures.describe(e), e);
    }
    address = (InetSocketAddress) serverChannel.localAddress();
    LOG.info("listening on {}://{}{}", ssl == null ? "ws" : "wss", hostPort(address),
        Message.PATH);
  }

  /** Closes a connection over the cap at once: no handler, no buffer, one log line a burst. */
  private void refuseOverCap(SocketChannel ch, String remote, int max,
      ConnectionHandler handler) {
    String reason = "over the cap of " + max + " connections";
    ch.close();
    refusals.refused(remote, reason);
    try {
      handler.refusedBeforeOpen(remote, reason);
    } catch (RuntimeException e) {
      LOG.error("the connection handler failed in refusedBeforeOpen for {}", remote, e);
    }
  }

  /** Returns the number of connections refused before they opened (tests). */
  long refusedBeforeOpen() {
    return refusals.total();
  }

  /** Returns the number of connections held now, from accept to close (tests). */
  int openConnections() {
    return open.get();
  }

  static String hostPort(InetSocketAddress a) {
    if (a == null) {
      return "unknown";
    }
    String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public int port() {
    return address.getPort();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    serverChannel.close().syncUninterruptibly();
    for (Channel ch : channels) {
      PeerFrameHandler peer = ch.pipeline().get(PeerFrameHandler.class);
      NettyConnection c = peer == null ? null : peer.connection();
      if (c != null) {
        c.closeWith(null, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "the server shut down");
      } else {
        ch.close();
      }
    }
    channels.newCloseFuture().awaitUninterruptibly(NettyConnection.CLOSE_TIMEOUT_MILLIS + 1_000);
    EventLoops.shutdown(workers);
    EventLoops.shutdown(boss);
    LOG.info("stopped listening on {}", hostPort(address));
  }

  @Override
  public String toString() {
    return "PeerServer[" + hostPort(address) + "]";
  }
}
