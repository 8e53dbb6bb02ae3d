package io.replikon.collector.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A Bluesky Jetstream server on a loopback ephemeral port, for tests: WebSocket at
 * {@code /subscribe}, one JSON event per text message, as {@code /subscribe} of Jetstream does.
 *
 * <p>It keeps a log of events ({@link #append}, in {@code time_us} order). A connection gets the
 * events of the log from its {@code cursor} on ({@code time_us >= cursor}, as Jetstream replays
 * the boundary event too), or, without a cursor, only events appended after it connected; then
 * it stays open and gets each new event as it is appended. Commit events are filtered by the
 * {@code wantedCollections} parameters (exact NSIDs, or prefixes ending in {@code .*}); identity
 * and account events always pass, as in Jetstream.
 *
 * <p>Faults: {@link #dropNextConnectionAfter} closes the next connection (TCP, no close frame)
 * after a number of events; {@link #dropConnections} drops the open ones, and
 * {@link #closeConnections} closes them with a close frame; {@link #fragmentInto}
 * splits every message into continuation frames of a few bytes (through UTF-8 sequences). Other
 * paths than {@code /subscribe} get 404.
 *
 * <p>Usage: {@code try (var server = JetstreamServer.start())}, then
 * {@code new JetstreamSourceConfig(server.url(), List.of("app.bsky.feed.post"))} and
 * {@code server.append(JetstreamLines.post(...))}.
 *
 * <p>Thread-safe.
 */
public final class JetstreamServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PATH = "/subscribe";

  private record Event(long timeUs, String kind, String collection, String line) {}

  private final class Subscriber {
    final Channel channel;
    final List<String> wanted;
    int dropAfter;

    Subscriber(Channel channel, List<String> wanted, int dropAfter) {
      this.channel = channel;
      this.wanted = wanted;
      this.dropAfter = dropAfter;
    }

    boolean wants(Event event) {
      if (!event.kind().equals("commit") || wanted.isEmpty()) {
        return true;
      }
      for (String w : wanted) {
        if (w.endsWith(".*") ? event.collection().startsWith(w.substring(0, w.length() - 1))
            : event.collection().equals(w)) {
          return true;
        }
      }
      return false;
    }

    /** Sends {@code event} if wanted; returns false once the connection is dropped. */
    boolean send(Event event) {
      if (!wants(event)) {
        return true;
      }
      if (dropAfter == 0) {
        channel.close();
        return false;
      }
      if (dropAfter > 0) {
        dropAfter--;
      }
      byte[] bytes = event.line().getBytes(StandardCharsets.UTF_8);
      if (fragmentBytes <= 0 || bytes.length <= fragmentBytes) {
        channel.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
        return true;
      }
      for (int offset = 0; offset < bytes.length; offset += fragmentBytes) {
        int length = Math.min(fragmentBytes, bytes.length - offset);
        boolean last = offset + length == bytes.length;
        WebSocketFrame frame = offset == 0
            ? new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(bytes, offset, length))
            : new ContinuationWebSocketFrame(last, 0,
                Unpooled.wrappedBuffer(bytes, offset, length));
        channel.write(frame);
      }
      channel.flush();
      return true;
    }
  }

  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private final Channel serverChannel;
  private final List<Event> log = new ArrayList<>();
  private final List<Subscriber> subscribers = new ArrayList<>();
  private final List<URI> connections = new ArrayList<>();
  private int dropNextAfter = -1;
  private int fragmentBytes;

  private JetstreamServer() throws InterruptedException {
    serverChannel = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(65536))
                .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig
                    .newBuilder().websocketPath(PATH).checkStartsWith(true)
                    .maxFramePayloadLength(1 << 24).handshakeTimeoutMillis(10_000)
                    .sendCloseFrame(null) // a dropped connection gets no close frame
                    .build()))
                .addLast(new Handler());
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  /** Starts a server on a loopback ephemeral port. */
  public static JetstreamServer start() throws InterruptedException {
    return new JetstreamServer();
  }

  /** Returns the subscribe URL, e.g. {@code ws://127.0.0.1:41234/subscribe}. */
  public URI url() {
    InetSocketAddress address = (InetSocketAddress) serverChannel.localAddress();
    return URI.create("ws://" + address.getAddress().getHostAddress() + ":" + address.getPort()
        + PATH);
  }

  /**
   * Appends events (Jetstream JSON lines with {@code time_us}, {@code kind} and, for commits,
   * {@code commit.collection}) to the log, and sends them to the open connections that want them.
   */
  public synchronized void append(String... lines) {
    for (String line : lines) {
      Event event = parse(line);
      log.add(event);
      subscribers.removeIf(s -> !s.send(event));
    }
  }

  /** Makes the next connection close (TCP, no close frame) after sending {@code events} events. */
  public synchronized void dropNextConnectionAfter(int events) {
    dropNextAfter = events;
  }

  /** Closes the open connections (TCP, no close frame). */
  public synchronized void dropConnections() {
    for (Subscriber s : subscribers) {
      s.channel.close();
    }
    subscribers.clear();
  }

  /** Closes the open connections politely: a close frame (1001 going away), then TCP. */
  public synchronized void closeConnections() {
    for (Subscriber s : subscribers) {
      s.channel.writeAndFlush(new CloseWebSocketFrame(1001, "going away"))
          .addListener(ChannelFutureListener.CLOSE);
    }
    subscribers.clear();
  }

  /** Splits every message sent from now on into frames of at most {@code bytes} bytes. */
  public synchronized void fragmentInto(int bytes) {
    fragmentBytes = bytes;
  }

  /** Returns the request URIs (path and query) of the WebSocket connections so far, in order. */
  public synchronized List<URI> connections() {
    return List.copyOf(connections);
  }

  /** Returns how many connections are open. */
  public synchronized int openConnections() {
    return (int) subscribers.stream().filter(s -> s.channel.isActive()).count();
  }

  /** Stops the server and closes its connections. */
  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private synchronized void subscribe(Channel channel, String requestUri) {
    connections.add(URI.create(requestUri));
    QueryStringDecoder query = new QueryStringDecoder(requestUri);
    List<String> wanted = query.parameters().getOrDefault("wantedCollections", List.of());
    List<String> cursor = query.parameters().get("cursor");
    Subscriber subscriber = new Subscriber(channel, List.copyOf(wanted), dropNextAfter);
    dropNextAfter = -1;
    if (cursor != null) {
      long from = Long.parseLong(cursor.get(0));
      for (Event event : log) {
        if (event.timeUs() >= from && !subscriber.send(event)) {
          return;
        }
      }
    }
    subscribers.add(subscriber);
  }

  private synchronized void unsubscribe(Channel channel) {
    subscribers.removeIf(s -> s.channel == channel);
  }

  private static Event parse(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      return new Event(node.get("time_us").asLong(), node.path("kind").asText(),
          node.path("commit").path("collection").asText(""), line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<Object> {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete handshake) {
        subscribe(ctx.channel(), handshake.requestUri());
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object message) {
      if (message instanceof FullHttpRequest) {
        DefaultFullHttpResponse notFound = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.NOT_FOUND, Unpooled.copiedBuffer("no such path",
            StandardCharsets.UTF_8));
        notFound.headers().set(HttpHeaderNames.CONTENT_LENGTH, notFound.content().readableBytes());
        ctx.writeAndFlush(notFound).addListener(f -> ctx.close());
      }
      // frames from the client (options_update) are ignored
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      unsubscribe(ctx.channel());
      super.channelInactive(ctx);
    }
  }
}
