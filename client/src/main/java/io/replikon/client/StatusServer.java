package io.replikon.client;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Printable;
import io.replikon.value.Hash;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's view of a peer over HTTP: {@code /health} (200 "ok" while the peer runs),
 * {@code /metrics} (Prometheus text format) and {@code /} (a small status page); GET or HEAD
 * only (405 otherwise), 404 for any other path.
 *
 * <p>Design: served by Netty on one event-loop thread of its own that never blocks: a request
 * that needs the peer's status is answered when the peer's engine has it (or with 503 after
 * {@link Limits#statusTimeout()}), so neither a slow peer nor a slow client holds up the other
 * requests. Each connection must deliver a whole request head within {@link
 * Limits#requestTimeout()} of its first byte, and is closed after {@link Limits#idleTimeout()}
 * without a request; a request line over 4 KiB is answered 414, headers over 8 KiB 431, a body
 * (none is expected) over 1 KiB 413; connections over {@link Limits#maxConnections()} are closed
 * at accept. So one client sending a byte now and then ties up one socket for ten seconds, not
 * the server.
 *
 * <p>Thread-safe; {@link #close()} waits (boundedly) for the thread to end.
 */
final class StatusServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusServer.class);
  static final int MAX_INITIAL_LINE_BYTES = 4096;
  static final int MAX_HEADER_BYTES = 8192;
  static final int MAX_BODY_BYTES = 1024;

  /**
   * How long and how much one HTTP client may hold.
   *
   * @param requestTimeout from the first byte of a request until its head (and body) is in
   * @param idleTimeout a connection without a request in progress is closed after this long
   * @param statusTimeout how long a request waits for the peer's status before it gets 503
   * @param maxConnections connections held at once; more are closed at accept
   */
  record Limits(Duration requestTimeout, Duration idleTimeout, Duration statusTimeout,
      int maxConnections) {
    Limits {
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      Objects.requireNonNull(statusTimeout, "statusTimeout");
      if (maxConnections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
      }
    }

    /** 10 s for a request, 30 s idle, 10 s for the peer's status, 64 connections. */
    static Limits defaults() {
      return new Limits(Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(10),
          64);
    }
  }

  private final Peer peer;
  private final Limits limits;
  private final EventLoopGroup group;
  private final AtomicInteger open = new AtomicInteger();
  private Channel listener;

  private StatusServer(Peer peer, Limits limits) {
    this.peer = peer;
    this.limits = limits;
    this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("replikon-http", true));
  }

  static StatusServer start(String host, int port, Peer peer) {
    return start(host, port, peer, Limits.defaults());
  }

  /**
   * Listens on {@code host:port} (0: an ephemeral port).
   *
   * @throws ReplikonException {@code CONNECTION} if the address cannot be bound
   */
  static StatusServer start(String host, int port, Peer peer, Limits limits) {
    StatusServer status = new StatusServer(peer, limits);
    try {
      status.listener = new ServerBootstrap().group(status.group)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (status.open.incrementAndGet() > limits.maxConnections()) {
                status.open.decrementAndGet();
                LOG.debug("status: refused a connection over the cap of {}",
                    limits.maxConnections());
                ch.close();
                return;
              }
              ch.closeFuture().addListener(f -> status.open.decrementAndGet());
              ch.pipeline().addLast("deadlines", new Deadlines(limits))
                  .addLast("http", new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES,
                      8192))
                  .addLast("aggregator", new HttpObjectAggregator(MAX_BODY_BYTES))
                  .addLast("status", status.new Handler());
            }
          })
          .bind(host, port).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      status.group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5,
          TimeUnit.SECONDS);
      throw new ReplikonException(ReplikonException.Reason.CONNECTION,
          "cannot listen for HTTP on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    return status;
  }

  InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  /** Returns the connections held now (tests). */
  int openConnections() {
    return open.get();
  }

  /**
   * Closes a connection whose request does not come in time. Sits first in the pipeline, so it
   * sees raw bytes: the first byte of a request starts the request timer; a whole request stops
   * it; an answer sent starts the idle timer. One event-loop thread runs all of it.
   */
  private static final class Deadlines extends ChannelDuplexHandler {
    private final Limits limits;
    private ScheduledFuture<?> timer;
    private boolean inRequest;

    Deadlines(Limits limits) {
      this.limits = limits;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      arm(ctx, limits.idleTimeout(), "no request");
      super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (!inRequest && msg instanceof ByteBuf b && b.isReadable()) {
        inRequest = true;
        arm(ctx, limits.requestTimeout(), "no complete request");
      }
      super.channelRead(ctx, msg);
    }

    /** A whole request is in: no timer while it is answered. */
    void requestReceived() {
      cancel();
    }

    /** The answer is sent and the connection stays: waits for the next request. */
    void answered(ChannelHandlerContext ctx) {
      inRequest = false;
      arm(ctx, limits.idleTimeout(), "no request");
    }

    private void arm(ChannelHandlerContext ctx, Duration after, String what) {
      cancel();
      timer = ctx.executor().schedule(() -> {
        LOG.debug("status: closing {}: {} within {} ms", ctx.channel().remoteAddress(), what,
            after.toMillis());
        ctx.close();
      }, after.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      Deadlines deadlines = ctx.pipeline().get(Deadlines.class);
      deadlines.requestReceived();
      if (!request.decoderResult().isSuccess()) {
        Throwable cause = request.decoderResult().cause();
        HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
            ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
            : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
            : HttpResponseStatus.BAD_REQUEST;
        LOG.debug("status: {} for {}: {}", status.code(), ctx.channel().remoteAddress(),
            Printable.of(String.valueOf(cause)));
        send(ctx, false, false, status, "text/plain", status.reasonPhrase().toLowerCase(Locale.ROOT)
            + "\n");
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpMethod method = request.method();
      boolean head = HttpMethod.HEAD.equals(method);
      if (!head && !HttpMethod.GET.equals(method)) {
        FullHttpResponse response = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
            "method not allowed: use GET or HEAD\n", false);
        response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        write(ctx, keepAlive, response);
        return;
      }
      String path = pathOf(request.uri());
      switch (path) {
        case "/health" -> send(ctx, keepAlive, head, HttpResponseStatus.OK, "text/plain", "ok\n");
        case "/metrics" -> respond(ctx, keepAlive, head,
            "text/plain; version=0.0.4; charset=utf-8", StatusServer::metrics);
        case "/" -> respond(ctx, keepAlive, head, "text/html; charset=utf-8",
            StatusServer::page);
        default -> send(ctx, keepAlive, head, HttpResponseStatus.NOT_FOUND, "text/plain",
            "not found\n");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("status: closing {}: {}", ctx.channel().remoteAddress(),
          Printable.of(String.valueOf(cause)));
      ctx.close();
    }
  }

  /** Returns the path of a request target, without its query; "" if it has none. */
  private static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  /** Answers with the body made from the peer's status, or 503 with the reason. */
  private void respond(ChannelHandlerContext ctx, boolean keepAlive, boolean head, String type,
      Function<PeerStatus, String> body) {
    peer.status()
        .orTimeout(limits.statusTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(body)
        .whenCompleteAsync((text, failure) -> {
          if (failure == null) {
            send(ctx, keepAlive, head, HttpResponseStatus.OK, type, text);
            return;
          }
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          String why = cause instanceof TimeoutException
              ? "the peer did not answer within " + limits.statusTimeout().toMillis() + " ms"
              : "the peer did not answer: " + cause;
          send(ctx, keepAlive, head, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
              "unavailable: " + why + "\n");
        }, ctx.executor());
  }

  private void send(ChannelHandlerContext ctx, boolean keepAlive, boolean head,
      HttpResponseStatus status, String type, String body) {
    write(ctx, keepAlive, response(status, type, body, head));
  }

  private static FullHttpResponse response(HttpResponseStatus status, String type, String body,
      boolean head) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, type)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
        .set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
    return response;
  }

  private static void write(ChannelHandlerContext ctx, boolean keepAlive,
      FullHttpResponse response) {
    if (!ctx.channel().isActive()) {
      response.release();
      return;
    }
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response).addListener(f -> {
        if (f.isSuccess()) {
          ctx.pipeline().get(Deadlines.class).answered(ctx);
        } else {
          ctx.close();
        }
      });
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static String metrics(PeerStatus s) {
    PeerStatus.Counters c = s.counters();
    StringBuilder out = new StringBuilder();
    gauge(out, "replikon_connections", "Open connections to peers.", s.connections().size());
    counter(out, "replikon_connections_opened_total", "Connections opened.",
        c.connectionsOpened());
    counter(out, "replikon_commits_stored_total", "Commits stored.", c.commitsStored());
    counter(out, "replikon_publishes_stored_total", "Publishes from peers that brought commits.",
        c.publishesStored());
    counter(out, "replikon_values_fetched_total", "Values received in fetch replies.",
        c.valuesFetched());
    counter(out, "replikon_fetched_bytes_total", "Bytes received in fetch replies.",
        c.bytesFetched());
    counter(out, "replikon_refusals_total",
        "Connections closed for bad input or for passing a limit.", c.refusals());
    counter(out, "replikon_internal_errors_total",
        "Failures of this peer on a connection's messages (that connection closed).",
        c.internalErrors());
    counter(out, "replikon_store_failures_total",
        "Store writes or reads that failed on what a peer sent or asked for (answered internal).",
        c.storeFailures());
    out.append("# HELP replikon_forbidden_total Publishes and read proofs refused as forbidden,"
        + " by reason (signature, writer, address, reader).\n");
    out.append("# TYPE replikon_forbidden_total counter\n");
    c.forbidden().forEach((reason, n) -> out.append("replikon_forbidden_total{reason=\"")
        .append(reason).append("\"} ").append(n).append('\n'));
    out.append("# HELP replikon_cdvcs_commits Commits held per CDVCS.\n");
    out.append("# TYPE replikon_cdvcs_commits gauge\n");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("replikon_cdvcs_commits{address=\"").append(escape(x.address().toString()))
          .append("\"} ").append(x.commitCount()).append('\n');
    }
    out.append("# HELP replikon_cdvcs_heads Heads per CDVCS (more than one: a conflict).\n");
    out.append("# TYPE replikon_cdvcs_heads gauge\n");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("replikon_cdvcs_heads{address=\"").append(escape(x.address().toString()))
          .append("\"} ").append(x.heads().size()).append('\n');
    }
    return out.toString();
  }

  private static String page(PeerStatus s) {
    StringBuilder out = new StringBuilder("<!doctype html><meta charset=utf-8><title>replikon "
        + html(s.peerId()) + "</title><h1>replikon peer " + html(s.peerId()) + " ("
        + s.role() + ")</h1><p>signs with key <code>" + html(s.key()) + "</code>"
        + "<h2>Connections (" + s.connections().size() + ")</h2><ul>");
    s.connections().forEach(c -> out.append("<li>").append(html(c)));
    out.append("</ul><h2>CDVCS (").append(s.cdvcs().size()).append(")</h2><table>")
        .append("<tr><th>address<th>commits<th>transactions<th>heads");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("<tr><td>").append(html(x.address().toString())).append("<td>")
          .append(x.commitCount()).append("<td>").append(x.transactionCount()).append("<td>")
          .append(x.heads().stream().map(Hash::shortHex).collect(Collectors.joining(" ")));
    }
    PeerStatus.Counters c = s.counters();
    out.append("</table><h2>Counters</h2><p>commits stored ").append(c.commitsStored())
        .append(", publishes stored ").append(c.publishesStored()).append(", values fetched ")
        .append(c.valuesFetched()).append(", refusals ").append(c.refusals())
        .append(", forbidden ").append(c.forbidden()).append("\n");
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" gauge\n")
        .append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" counter\n")
        .append(name).append(' ').append(value).append('\n');
  }

  private static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String html(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
