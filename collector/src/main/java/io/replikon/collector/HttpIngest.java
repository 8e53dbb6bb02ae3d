package io.replikon.collector;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
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
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.replikon.error.ReplikonException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP ingest (see {@link HttpIngestConfig}) on Netty:
 *
 * <ul>
 *   <li>{@code POST /events} with one JSON value or an array: 202 {@code {"accepted": n}} once
 *       every event is in the journal; with an {@code Idempotency-Key} header already journaled,
 *       202 {@code {"accepted": n, "repeat": true}} and nothing journaled again; 400 with the
 *       reason for invalid JSON or an empty array; 413 over the body limit; 503 with
 *       {@code Retry-After} while the collector holds too many uncommitted events.
 *   <li>{@code POST /flush}: 200 {@code {"head": "..."}} after committing, when enabled; 403
 *       otherwise.
 *   <li>{@code GET /health}: 200.
 * </ul>
 *
 * <p>The port is bound when {@link #start} returns, so a caller can read it before {@link #run}.
 */
public final class HttpIngest implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(HttpIngest.class);

  private final HttpIngestConfig config;
  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers = new NioEventLoopGroup();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile Intake intake;
  private Channel listener;

  private HttpIngest(HttpIngestConfig config) {
    this.config = config;
  }

  /**
   * Binds the port. Requests are answered 503 until {@link #run} hands over the intake.
   *
   * @throws ReplikonException {@code CONNECTION} if the port cannot be bound
   */
  public static HttpIngest start(HttpIngestConfig config) {
    HttpIngest ingest = new HttpIngest(config);
    try {
      ingest.listener = new ServerBootstrap().group(ingest.boss, ingest.workers)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpServerCodec(),
                  new HttpObjectAggregator(config.maxBodyBytes()), ingest.new Handler());
            }
          })
          .bind(config.host(), config.port()).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      ingest.shutdownGroups();
      throw new ReplikonException(ReplikonException.Reason.CONNECTION, "cannot listen for HTTP on "
          + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    }
    LOG.info("HTTP ingest listening on http://{}:{}/events", config.host(), ingest.port());
    return ingest;
  }

  /** Returns the port it listens on. */
  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  @Override
  public String describe() {
    return "http " + config.host() + ":" + port();
  }

  @Override
  public void run(Intake into) throws InterruptedException {
    this.intake = into;
    stopped.await();
  }

  @Override
  public void close() {
    if (stopped.getCount() == 0) {
      return;
    }
    listener.close().syncUninterruptibly();
    shutdownGroups();
    stopped.countDown();
  }

  private void shutdownGroups() {
    boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS)
        .syncUninterruptibly();
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      String path = request.uri().split("\\?", 2)[0];
      switch (path) {
        case "/events" -> {
          if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED,
                error("use POST /events"));
          } else {
            events(ctx, request, keepAlive);
          }
        }
        case "/flush" -> {
          if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED,
                error("use POST /flush"));
          } else {
            flush(ctx, keepAlive);
          }
        }
        case "/health" -> respond(ctx, keepAlive, HttpResponseStatus.OK, "{\"status\":\"ok\"}");
        default -> respond(ctx, keepAlive, HttpResponseStatus.NOT_FOUND,
            error("no such endpoint: " + path + " (POST /events, POST /flush, GET /health)"));
      }
    }

    private void events(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
      Intake into = intake;
      if (into == null) {
        unavailable(ctx, keepAlive, "the collector is starting");
        return;
      }
      List<byte[]> encoded;
      try {
        encoded = SourceSupport.encodedJsonElements(config.fn(),
            ByteBufUtil.getBytes(request.content()));
        if (encoded.isEmpty()) {
          respond(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, error("an empty array holds"
              + " no events"));
          return;
        }
      } catch (ReplikonException e) {
        respond(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, error(e.getMessage()));
        return;
      }
      Submission submission = Submission.of(encoded);
      String key = request.headers().get("Idempotency-Key");
      if (key != null && !key.isBlank()) {
        submission = submission.withIdempotencyKey(key);
      }
      into.submit(submission).whenComplete((accepted, failure) -> {
        if (failure == null) {
          respond(ctx, keepAlive, HttpResponseStatus.ACCEPTED, "{\"accepted\":" + accepted.count()
              + (accepted.repeat() ? ",\"repeat\":true" : "") + "}");
          return;
        }
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        if (cause instanceof ReplikonException r
            && (r.reason() == ReplikonException.Reason.OVERLOADED
                || r.reason() == ReplikonException.Reason.STORE_CLOSED)) {
          unavailable(ctx, keepAlive, r.getMessage());
        } else {
          LOG.error("POST /events failed: {}", cause.toString());
          respond(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR,
              error(cause.getMessage()));
        }
      });
    }

    private void flush(ChannelHandlerContext ctx, boolean keepAlive) {
      if (!config.flushEndpoint()) {
        respond(ctx, keepAlive, HttpResponseStatus.FORBIDDEN, error("POST /flush is off;"
            + " start the collector with --enable-flush-endpoint to allow it"));
        return;
      }
      Intake into = intake;
      if (into == null) {
        unavailable(ctx, keepAlive, "the collector is starting");
        return;
      }
      into.flush().whenComplete((head, failure) -> {
        if (failure == null) {
          respond(ctx, keepAlive, HttpResponseStatus.OK, "{\"head\":\"" + head.hex() + "\"}");
        } else {
          respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE,
              error(failure.getMessage()));
        }
      });
    }

    private void unavailable(ChannelHandlerContext ctx, boolean keepAlive, String reason) {
      FullHttpResponse response = response(HttpResponseStatus.SERVICE_UNAVAILABLE,
          error(reason));
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      send(ctx, keepAlive, response);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("HTTP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  private static String error(String reason) {
    return SourceSupport.JSON.createObjectNode().put("error", reason).toString();
  }

  private static FullHttpResponse response(HttpResponseStatus status, String json) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(json + "\n", StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    return response;
  }

  private static void respond(ChannelHandlerContext ctx, boolean keepAlive,
      HttpResponseStatus status, String json) {
    send(ctx, keepAlive, response(status, json));
  }

  private static void send(ChannelHandlerContext ctx, boolean keepAlive,
      FullHttpResponse response) {
    HttpUtil.setKeepAlive(response, keepAlive);
    var written = ctx.writeAndFlush(response);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
