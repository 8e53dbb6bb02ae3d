package io.replikon.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.MessageCodec;
import io.replikon.protocol.Printable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of every peer pipeline, server or client: turns WebSocket frames into
 * {@link ConnectionHandler} calls and bad input into an error, a close and one log line.
 *
 * <p>Design: Netty's WebSocket protocol handler does the handshake, answers pings and limits the
 * frame size; it is configured to pass close frames and protocol violations on to this handler,
 * so that every way a connection ends goes through one place, which records the first reason and
 * calls {@link ConnectionHandler#closed} exactly once, from {@code channelInactive}, and only if
 * {@link ConnectionHandler#opened} was called. Bad input is answered with an {@code error} message
 * (transport message id {@value NettyConnection#TRANSPORT_MESSAGE_ID}) and a close frame; input
 * that never became a WebSocket (garbage instead of the upgrade request) gets an HTTP error. Each
 * is logged once at WARN with the remote address and the reason.
 *
 * <p>One instance per channel; all methods run on the channel's event loop.
 */
final class PeerFrameHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(PeerFrameHandler.class);

  private final ConnectionHandler handler;
  private final String remote;
  private final int maxFrameBytes;
  private final Duration closeAfter;
  /** The client's connect future; null on the server. */
  private final CompletableFuture<Connection> opening;
  private final String side;
  /** Servers: how long after accept the WebSocket handshake must be done; null on clients. */
  private final Duration handshakeTimeout;
  private final RefusalLog refusals;

  private volatile NettyConnection connection;
  private ScheduledFuture<?> handshakeDeadline;
  private boolean opened;
  private boolean closedReported;
  private Throwable handshakeFailure;

  /** A client's handler: {@code opening} completes when the handshake does. */
  PeerFrameHandler(ConnectionHandler handler, String remote, int maxFrameBytes,
      Duration closeAfter, CompletableFuture<Connection> opening) {
    this(handler, remote, maxFrameBytes, closeAfter, opening, null, null);
  }

  /**
   * A server's handler: the connection is closed, and counted in {@code refusals}, unless its
   * WebSocket handshake is complete {@code handshakeTimeout} after the handler was added.
   */
  PeerFrameHandler(ConnectionHandler handler, String remote, int maxFrameBytes,
      Duration closeAfter, Duration handshakeTimeout, RefusalLog refusals) {
    this(handler, remote, maxFrameBytes, closeAfter, null, handshakeTimeout, refusals);
  }

  private PeerFrameHandler(ConnectionHandler handler, String remote, int maxFrameBytes,
      Duration closeAfter, CompletableFuture<Connection> opening, Duration handshakeTimeout,
      RefusalLog refusals) {
    this.handler = handler;
    this.remote = remote;
    this.maxFrameBytes = maxFrameBytes;
    this.closeAfter = closeAfter;
    this.opening = opening;
    this.side = opening == null ? "server" : "client";
    this.handshakeTimeout = handshakeTimeout;
    this.refusals = refusals;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (handshakeTimeout != null) {
      // Netty's own handshake timeout starts only once the whole upgrade request is in: headers
      // sent a byte a second would hold the socket for as long as the sender likes.
      handshakeDeadline = ctx.executor().schedule(() -> handshakeTimedOut(ctx),
          handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void handshakeTimedOut(ChannelHandlerContext ctx) {
    if (connection != null || !ctx.channel().isActive()) {
      return;
    }
    String reason = "no WebSocket handshake within " + handshakeTimeout.toMillis() + " ms";
    recordHandshakeFailure(new IOException(reason));
    refusals.refused(remote, reason);
    try {
      handler.refusedBeforeOpen(remote, reason);
    } catch (RuntimeException e) {
      LOG.error("{} {}: the connection handler failed in refusedBeforeOpen", side, remote, e);
    }
    ctx.close();
  }

  private void handshakeDone() {
    if (handshakeDeadline != null) {
      handshakeDeadline.cancel(false);
    }
  }

  /** Returns the connection once the handshake is complete, else null. */
  NettyConnection connection() {
    return connection;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof OutboundBudget.Exceeded exceeded) {
      overBudget(ctx, exceeded.reason());
      return;
    }
    if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete complete) {
      handshakeDone();
      String subprotocol = complete.selectedSubprotocol();
      connection = new NettyConnection(ctx.channel(), remote, budget(ctx));
      gatherFrames(ctx);
      if (!Message.SUBPROTOCOL.equals(subprotocol)) {
        reject(ErrorCode.PROTOCOL, "the client did not offer the WebSocket subprotocol "
            + Message.SUBPROTOCOL, WebSocketCloseStatus.PROTOCOL_ERROR);
        return;
      }
      open();
    } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
      connection = new NettyConnection(ctx.channel(), remote, budget(ctx));
      gatherFrames(ctx);
      open();
    } else if (evt
        == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
      recordHandshakeFailure(new IOException("the WebSocket handshake timed out"));
    } else if (evt instanceof SslHandshakeCompletionEvent ssl && !ssl.isSuccess()) {
      recordHandshakeFailure(ssl.cause());
    } else if (evt instanceof IdleStateEvent idle) {
      idle(ctx, idle.state());
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private static OutboundBudget budget(ChannelHandlerContext ctx) {
    OutboundBudget b = ctx.pipeline().get(OutboundBudget.class);
    if (b == null) {
      throw new IllegalStateException("no OutboundBudget in the pipeline of " + ctx.channel());
    }
    return b;
  }

  /**
   * More is queued toward the connection than its budget, or it pings far faster than it reads
   * the pongs: it does not read what it is sent. Reading has stopped already;
   * the refusal is logged, counted and closed with 1008. An error message would wait behind
   * what the other side does not read, so only the close frame is sent.
   */
  private void overBudget(ChannelHandlerContext ctx, String message) {
    if (connection == null) {
      LOG.warn("{} {}: closing before the WebSocket handshake: more than the outbound budget"
          + " queued", side, remote);
      ctx.close();
      return;
    }
    if (!connection.isOpen()) {
      return;
    }
    LOG.warn("{} {}: closing: {}: {}", side, connection, ErrorCode.OVERLOADED.wireName(), message);
    try {
      handler.refused(connection, ErrorCode.OVERLOADED, message);
    } catch (RuntimeException e) {
      LOG.error("{} {}: the connection handler failed in refused", side, connection, e);
    }
    connection.closeWith(null, WebSocketCloseStatus.POLICY_VIOLATION,
        ErrorCode.OVERLOADED.wireName() + ": " + message);
  }

  /**
   * Lets the WebSocket frame decoder gather a large frame's socket reads as they come, rather than
   * copy what it has into a larger buffer each time the frame grows; it copies the frame once
   * when it is whole.
   */
  private static void gatherFrames(ChannelHandlerContext ctx) {
    if (ctx.pipeline().get(WebSocketFrameDecoder.class) instanceof ByteToMessageDecoder d) {
      d.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
    }
  }

  private void open() {
    opened = true;
    try {
      handler.opened(connection);
    } catch (RuntimeException e) {
      handlerFailed("opened", e);
    }
    if (opening != null) {
      opening.complete(connection);
    }
  }

  private void idle(ChannelHandlerContext ctx, IdleState state) {
    if (connection == null) {
      if (state == IdleState.READER_IDLE) {
        recordHandshakeFailure(new IOException("nothing received for " + closeAfter));
        ctx.close();
      }
      return;
    }
    if (state == IdleState.WRITER_IDLE) {
      if (connection.isOpen()) {
        ctx.channel().writeAndFlush(new PingWebSocketFrame());
      }
    } else if (state == IdleState.READER_IDLE) {
      String reason = "nothing received for " + closeAfter.toMillis() + " ms";
      LOG.info("{} {}: closing: {}", side, connection, reason);
      connection.closeWith(null, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, reason);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof BinaryWebSocketFrame frame) {
        binary(frame.content());
      } else if (msg instanceof TextWebSocketFrame) {
        reject(ErrorCode.MALFORMED, "a text frame: messages travel in binary frames",
            WebSocketCloseStatus.INVALID_MESSAGE_TYPE);
      } else if (msg instanceof CloseWebSocketFrame close) {
        closeFrame(ctx, close);
      } else if (msg instanceof FullHttpRequest request) {
        notWebSocket(ctx, request);
      }
      // Pongs (and anything else) only keep the connection alive; the idle handler saw them.
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void binary(ByteBuf content) {
    if (connection == null || !connection.isOpen()) {
      return;
    }
    if (content.readableBytes() > maxFrameBytes) {
      reject(ErrorCode.TOO_LARGE, "a frame of " + content.readableBytes()
          + " bytes, over the limit of " + maxFrameBytes, WebSocketCloseStatus.MESSAGE_TOO_BIG);
      return;
    }
    Message message;
    try {
      // Values are hashed here, on the I/O thread, not on the peer's engine thread.
      message = MessageCodec.decodeVerified(content.nioBufferCount() == 1
          ? content.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(content)));
    } catch (ReplikonException e) {
      ErrorCode code = switch (e.reason()) {
        case PROTOCOL -> ErrorCode.UNKNOWN_KIND;
        case TOO_LARGE -> ErrorCode.TOO_LARGE;
        case HASH_MISMATCH -> ErrorCode.HASH_MISMATCH;
        default -> ErrorCode.MALFORMED;
      };
      reject(code, Failures.describe(e), NettyConnection.statusOf(code));
      return;
    } catch (RuntimeException e) {
      reject(ErrorCode.MALFORMED, "malformed message: " + Failures.describe(e),
          WebSocketCloseStatus.INVALID_PAYLOAD_DATA);
      return;
    }
    try {
      handler.received(connection, message);
    } catch (RuntimeException e) {
      handlerFailed("received " + message.kind().wireName(), e);
    }
  }

  private void closeFrame(ChannelHandlerContext ctx, CloseWebSocketFrame close) {
    if (connection == null) {
      ctx.close();
      return;
    }
    int status = close.statusCode();
    String text = close.reasonText();
    String reason = "closed by the other side" + (status < 0 ? "" : " (" + status
        + (text == null || text.isEmpty() ? "" : ": " + Printable.of(text)) + ")");
    if (connection.peerClosed(reason)) {
      ctx.channel().writeAndFlush(close.retainedDuplicate())
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }

  private void notWebSocket(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean bad = !request.decoderResult().isSuccess();
    HttpResponseStatus status = bad ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.NOT_FOUND;
    String reason = bad
        ? "not an HTTP request: " + Failures.brief(request.decoderResult().cause())
        : Printable.of(request.method() + " " + request.uri()) + " is not a WebSocket upgrade to "
            + Message.PATH;
    LOG.warn("{} {}: rejected with HTTP {}: {}", side, remote, status.code(), reason);
    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  /** Answers bad input: one WARN line, an error message, a close. */
  private void reject(ErrorCode code, String text, WebSocketCloseStatus status) {
    if (!connection.isOpen()) {
      return;
    }
    // The text may quote what the peer sent (an unknown kind): keep it short and on one line.
    String message = Failures.oneLine(text);
    LOG.warn("{} {}: closing: {}: {}", side, connection, code.wireName(), message);
    try {
      if (opened) {
        handler.refused(connection, code, message);
      } else {
        // Refused in the handshake (no subprotocol): the handler never saw it open.
        handler.refusedBeforeOpen(remote, code.wireName() + ": " + message);
      }
    } catch (RuntimeException e) {
      LOG.error("{} {}: the connection handler failed in refused", side, connection, e);
    }
    connection.closeWith(
        new Message.ErrorReport(NettyConnection.TRANSPORT_MESSAGE_ID, 0, code, message), status,
        code.wireName() + ": " + message);
  }

  private void handlerFailed(String call, RuntimeException e) {
    LOG.error("{} {}: the connection handler failed in {}; closing {}", side, remote, call,
        connection, e);
    if (connection.isOpen()) {
      connection.closeWith(new Message.ErrorReport(NettyConnection.TRANSPORT_MESSAGE_ID, 0,
          ErrorCode.INTERNAL, "the peer failed handling the message"),
          WebSocketCloseStatus.INTERNAL_SERVER_ERROR,
          "the connection handler failed in " + call + ": " + Failures.describe(e));
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (opened && !closedReported) {
      try {
        handler.writabilityChanged(connection, ctx.channel().isWritable());
      } catch (RuntimeException e) {
        handlerFailed("writabilityChanged", e);
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (connection == null) {
      recordHandshakeFailure(cause);
      if (opening == null) {
        LOG.warn("{} {}: rejected before the WebSocket handshake: {}", side, remote,
            Failures.brief(cause));
      }
      ctx.close();
      return;
    }
    if (isTooLarge(cause)) {
      reject(ErrorCode.TOO_LARGE, "a frame over the limit of " + maxFrameBytes + " bytes ("
          + Failures.describe(cause) + ")", WebSocketCloseStatus.MESSAGE_TOO_BIG);
    } else if (cause instanceof CorruptedFrameException || cause instanceof DecoderException) {
      reject(ErrorCode.MALFORMED, "an undecodable WebSocket frame: " + Failures.describe(cause),
          WebSocketCloseStatus.PROTOCOL_ERROR);
    } else if (cause instanceof IOException) {
      connection.recordReason("connection lost: " + Failures.brief(cause));
      LOG.debug("{} {}: failed", side, connection, cause);
    } else {
      LOG.warn("{} {}: closing: {}", side, connection, Failures.brief(cause));
      connection.recordReason("failed: " + Failures.brief(cause));
    }
    // Whatever went wrong, the socket goes; a polite close was sent above where possible.
    if (!connection.isOpen()) {
      return;
    }
    connection.markClosed();
    ctx.close();
  }

  /**
   * Returns true for a frame over the limit: as sent (the frame decoder), as reassembled from
   * fragments (the frame aggregator), or as inflated (the permessage-deflate decoder, whose cap
   * is only recognisable by its message).
   */
  private static boolean isTooLarge(Throwable cause) {
    return cause instanceof TooLongFrameException
        || cause instanceof CorruptedWebSocketFrameException c
        && WebSocketCloseStatus.MESSAGE_TOO_BIG.equals(c.closeStatus())
        || cause instanceof DecompressionException
        && String.valueOf(cause.getMessage()).contains("maximum size");
  }

  private void recordHandshakeFailure(Throwable cause) {
    if (handshakeFailure == null) {
      handshakeFailure = cause;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    handshakeDone();
    if (connection != null) {
      connection.markClosed();
    }
    if (opened && !closedReported) {
      closedReported = true;
      try {
        handler.closed(connection, connection.closeReason("connection lost"));
      } catch (RuntimeException e) {
        LOG.error("{} {}: the connection handler failed in closed for {}", side, remote,
            connection, e);
      }
    }
    if (opening != null && !opening.isDone()) {
      Throwable cause = handshakeFailure != null ? handshakeFailure
          : new IOException("the connection closed during the WebSocket handshake");
      opening.completeExceptionally(Failures.connectFailure(connectUri(), cause));
    }
    ctx.fireChannelInactive();
  }

  private java.net.URI connectUri() {
    return java.net.URI.create(remote);
  }
}
