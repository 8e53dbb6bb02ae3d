package io.replikon.collector;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Printable;
import io.replikon.value.Hash;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: every request is refused as early and as cheaply as it can be, and every refusal is
 * a JSON body with a status a client can act on. The pipeline, per connection:
 *
 *   RequestDeadline: a request must arrive whole within readTimeout of the connection or of the
 *     last answer (408 and close if it had begun, else close): a body or headers that never end
 *     hold nothing for long.
 *   HttpServerCodec: request line at most 4 KiB and headers at most MAX_HEADER_BYTES; past them
 *     the decoder marks the request failed, and the handler answers 414 / 431 and closes.
 *   Aggregator: the body at most maxBodyBytes (Content-Length checked before reading): 413 with a
 *     JSON body, and close.
 *   Handler: route, method, token (constant-time, on SHA-256 digests of equal length), content
 *     type, then the body is encoded (JsonCbor, one pass, no tree) and checked (an add-tweet must
 *     be a tweet), then handed to the intake. Idempotency keys are scoped to the token.
 *
 * The handler never lets an exception close a connection without an answer: whatever fails
 * unexpectedly is a 500 with a JSON body, logged once with Printable strings only.
 */
/**
 * HTTP ingest (see {@link HttpIngestConfig}) on Netty:
 *
 * <ul>
 *   <li>{@code POST /events} with one JSON value or an array ({@code application/json}), or one
 *       value a line ({@code application/x-ndjson}), charset UTF-8 if given: 202
 *       {@code {"accepted": n}} once every event is in the journal; with an
 *       {@code Idempotency-Key} header already journaled with the same events, 202
 *       {@code {"accepted": n, "repeat": true}} and nothing journaled again; 409 if the key was
 *       journaled with other events; 400 with the reason for invalid JSON, an empty array, or (for
 *       {@code add-tweet}) an event that is not an object with an integer {@code id} or numeric
 *       {@code id_str}; 401 (with {@code WWW-Authenticate: Bearer}) without the configured token;
 *       413 over the body limit; 415 for another content type; 431 for headers over
 *       {@link HttpIngestConfig#MAX_HEADER_BYTES}; 408 for a request not whole within the read
 *       timeout; 503 with {@code Retry-After} while the collector starts or holds too many
 *       uncommitted events.
 *   <li>{@code POST /flush}: 200 {@code {"head": "..."}} after committing, when enabled; 403
 *       otherwise; 401 without the token.
 *   <li>{@code GET /health}: 200 once the collector accepts events, 503 before.
 * </ul>
 *
 * <p>Every answer has a JSON body. The port is bound when {@link #start} returns, so a caller can
 * read it before {@link #run}.
 */
public final class HttpIngest implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(HttpIngest.class);

  private static final int MAX_INITIAL_LINE = 4096;
  private final HttpIngestConfig config;
  /** SHA-256 of the token, or null without one. */
  private final byte[] tokenDigest;
  /** Put before each idempotency key: keys are scoped to the token. */
  private final String keyScope;
  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers = new NioEventLoopGroup();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile Intake intake;
  private Channel listener;

  private HttpIngest(HttpIngestConfig config) {
    this.config = config;
    Optional<Hash> token =
        config.token().map(t -> Hash.sha256(t.getBytes(StandardCharsets.UTF_8)));
    this.tokenDigest = token.map(Hash::toBytes).orElse(null);
    this.keyScope = token.map(h -> "token:" + h.hex().substring(0, 16) + ":").orElse("");
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
              ingest.initPipeline(ch.pipeline());
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

  /** Sets up the handlers of one connection (see the design note). */
  void initPipeline(ChannelPipeline pipeline) {
    pipeline.addLast(new HttpServerCodec(MAX_INITIAL_LINE, HttpIngestConfig.MAX_HEADER_BYTES,
            8192),
        new RequestDeadline(config.readTimeout().toNanos()), new HeadCheck(),
        new Aggregator(config.maxBodyBytes()), new Handler());
  }

  /**
   * An ingest that is not listening, for tests that drive {@link #initPipeline} over an embedded
   * channel: requests are handed to {@code into}.
   */
  static HttpIngest unbound(HttpIngestConfig config, Intake into) {
    HttpIngest ingest = new HttpIngest(config);
    ingest.intake = into;
    ingest.shutdownGroups();
    ingest.stopped.countDown();
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
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
    shutdownGroups();
    stopped.countDown();
  }

  private void shutdownGroups() {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS)
        .syncUninterruptibly();
  }

  /**
   * Closes a connection whose next request is not whole within the read timeout (armed when the
   * connection opens and when an answer is written; disarmed when a request's last byte is read).
   * Answers 408 first if a request had begun.
   */
  private static final class RequestDeadline extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private ScheduledFuture<?> deadline;
    private boolean begun;

    RequestDeadline(long timeoutNanos) {
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (ctx.channel().isActive()) {
        arm(ctx);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      arm(ctx);
      super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest) {
        begun = true;
      }
      if (msg instanceof LastHttpContent) {
        begun = false;
        disarm();
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      if (msg instanceof HttpResponse && deadline == null) {
        arm(ctx);
      }
      super.write(ctx, msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      disarm();
      super.channelInactive(ctx);
    }

    private void arm(ChannelHandlerContext ctx) {
      disarm();
      deadline = ctx.executor().schedule(() -> {
        deadline = null;
        if (begun) {
          FullHttpResponse response = response(HttpResponseStatus.REQUEST_TIMEOUT,
              error("the request did not arrive whole within the read timeout"));
          HttpUtil.setKeepAlive(response, false);
          ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
          ctx.close();
        }
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void disarm() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }
  }

  private static final String CONTENT_TYPES = "POST /events takes Content-Type application/json"
      + " or application/x-ndjson (UTF-8)";

  /** The 401 answer to a request without the configured bearer token; empty if it may go on. */
  private Optional<FullHttpResponse> unauthorized(HttpRequest request) {
    if (tokenDigest == null) {
      return Optional.empty();
    }
    String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    byte[] presented = given != null && given.regionMatches(true, 0, "Bearer ", 0, 7)
        ? given.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
    if (MessageDigest.isEqual(Hash.sha256(presented).toBytes(), tokenDigest)) {
      return Optional.empty();
    }
    FullHttpResponse response = response(HttpResponseStatus.UNAUTHORIZED, error(given == null
        ? "this collector needs Authorization: Bearer <token>" : "wrong token"));
    response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"replikon\"");
    return Optional.of(response);
  }

  /**
   * Refuses a POST by its head, before its body is read: without the token (401), or to
   * {@code /events} with another content type (415). Otherwise the aggregator would buffer up to
   * the body limit for anyone first (with {@code --http-token}, an anonymous client could make the
   * collector hold 16 MiB per connection for the read timeout). The connection is closed after
   * the answer, and what follows of the request is dropped unread.
   */
  private final class HeadCheck extends ChannelInboundHandlerAdapter {
    private boolean dropping;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (dropping) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()
          && request.method().equals(HttpMethod.POST)) {
        Optional<FullHttpResponse> refusal = refusal(request);
        if (refusal.isPresent()) {
          dropping = true;
          ReferenceCountUtil.release(msg);
          send(ctx, false, refusal.get());
          return;
        }
      }
      super.channelRead(ctx, msg);
    }

    private Optional<FullHttpResponse> refusal(HttpRequest request) {
      String path = request.uri().split("\\?", 2)[0];
      if (!path.equals("/events") && !path.equals("/flush")) {
        return Optional.empty();
      }
      Optional<FullHttpResponse> unauthorized = unauthorized(request);
      if (unauthorized.isPresent() || !path.equals("/events")
          || jsonLines(request.headers().get(HttpHeaderNames.CONTENT_TYPE)).isPresent()) {
        return unauthorized;
      }
      return Optional.of(response(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
          error(CONTENT_TYPES)));
    }
  }

  /** Aggregates a request's body up to the limit; over it, 413 with a JSON body and close. */
  private static final class Aggregator extends HttpObjectAggregator {
    Aggregator(int maxBodyBytes) {
      super(maxBodyBytes);
    }

    /** The answers to {@code Expect}: 100 as Netty makes it, refusals with a JSON body. */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength,
        ChannelPipeline pipeline) {
      Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
      if (!(answer instanceof HttpResponse r) || r.status().code() < 400) {
        return answer;
      }
      HttpResponseStatus status = r.status();
      ReferenceCountUtil.release(answer);
      FullHttpResponse json = response(status, error(status.code() == 417
          ? "the only expectation understood is 100-continue"
          : "the body is larger than the limit of " + maxContentLength + " bytes"));
      HttpUtil.setKeepAlive(json, false);
      return json;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      FullHttpResponse response = response(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          error("the body is larger than the limit of " + maxContentLength() + " bytes"));
      HttpUtil.setKeepAlive(response, false);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (request.decoderResult().isFailure()) {
        refuseUndecodable(ctx, request.decoderResult().cause());
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      try {
        route(ctx, request, keepAlive);
      } catch (RuntimeException e) {
        LOG.error("POST {} failed: {}", Printable.of(request.uri()), Printable.of(e.toString()));
        respond(ctx, false, HttpResponseStatus.INTERNAL_SERVER_ERROR, error("internal error"));
      }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
      String path = request.uri().split("\\?", 2)[0];
      switch (path) {
        case "/events" -> {
          if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED,
                error("use POST /events"));
          } else if (authorized(ctx, request, keepAlive)) {
            events(ctx, request, keepAlive);
          }
        }
        case "/flush" -> {
          if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED,
                error("use POST /flush"));
          } else if (authorized(ctx, request, keepAlive)) {
            flush(ctx, keepAlive);
          }
        }
        case "/health" -> {
          if (intake == null) {
            unavailable(ctx, keepAlive, "the collector is starting");
          } else {
            respond(ctx, keepAlive, HttpResponseStatus.OK, "{\"status\":\"ok\"}");
          }
        }
        default -> respond(ctx, keepAlive, HttpResponseStatus.NOT_FOUND,
            error("no such endpoint: " + Printable.of(path)
                + " (POST /events, POST /flush, GET /health)"));
      }
    }

    /** A request the decoder could not read: line or headers too long, or not HTTP. */
    private void refuseUndecodable(ChannelHandlerContext ctx, Throwable cause) {
      HttpResponseStatus status;
      String reason;
      if (cause instanceof TooLongHttpHeaderException) {
        status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        reason = "the headers are larger than " + HttpIngestConfig.MAX_HEADER_BYTES + " bytes";
      } else if (cause instanceof TooLongHttpLineException) {
        status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
        reason = "the request line is longer than " + MAX_INITIAL_LINE + " bytes";
      } else {
        status = HttpResponseStatus.BAD_REQUEST;
        reason = "not an HTTP/1.1 request: " + Printable.of(String.valueOf(cause.getMessage()));
      }
      respond(ctx, false, status, error(reason));
    }

    /** Checks the bearer token, if one is configured; answers 401 and returns false if wrong. */
    private boolean authorized(ChannelHandlerContext ctx, FullHttpRequest request,
        boolean keepAlive) {
      Optional<FullHttpResponse> refusal = unauthorized(request);
      refusal.ifPresent(r -> send(ctx, keepAlive, r));
      return refusal.isEmpty();
    }

    private void events(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
      Optional<Boolean> lines = jsonLines(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
      if (lines.isEmpty()) {
        respond(ctx, keepAlive, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, error(CONTENT_TYPES));
        return;
      }
      Intake into = intake;
      if (into == null) {
        unavailable(ctx, keepAlive, "the collector is starting");
        return;
      }
      List<byte[]> encoded;
      try {
        byte[] body = ByteBufUtil.getBytes(request.content());
        encoded = lines.get() ? SourceSupport.encodedJsonLines(config.fn(), body)
            : SourceSupport.encodedJsonElements(config.fn(), body);
        if (encoded.isEmpty()) {
          respond(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, error("the body holds"
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
        submission = submission.withIdempotencyKey(keyScope + key);
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
        } else if (cause instanceof ReplikonException r
            && r.reason() == ReplikonException.Reason.INVALID_INPUT) {
          respond(ctx, keepAlive, HttpResponseStatus.CONFLICT, error(r.getMessage()));
        } else {
          LOG.error("POST /events failed: {}", Printable.of(cause.toString()));
          respond(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR,
              error(String.valueOf(cause.getMessage())));
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
              error(String.valueOf(failure.getMessage())));
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
      LOG.debug("HTTP connection {} failed: {}", ctx.channel().remoteAddress(),
          Printable.of(cause.toString()));
      ctx.close();
    }
  }

  /**
   * Reads a Content-Type: empty if it is not JSON (or names a charset other than UTF-8), else
   * whether it is newline-delimited JSON.
   */
  static Optional<Boolean> jsonLines(String contentType) {
    if (contentType == null) {
      return Optional.empty();
    }
    String[] parts = contentType.split(";");
    String type = parts[0].trim().toLowerCase(Locale.ROOT);
    for (int i = 1; i < parts.length; i++) {
      String[] param = parts[i].split("=", 2);
      if (param[0].trim().equalsIgnoreCase("charset")) {
        String charset = param.length < 2 ? "" : param[1].trim().replace("\"", "");
        if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
          return Optional.empty();
        }
      }
    }
    return switch (type) {
      case "application/json" -> Optional.of(false);
      case "application/x-ndjson" -> Optional.of(true);
      default -> Optional.empty();
    };
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
