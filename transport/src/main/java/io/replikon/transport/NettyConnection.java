package io.replikon.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.MessageCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Connection} over one Netty channel whose pipeline ends in a {@link PeerFrameHandler}.
 *
 * <p>Closing follows RFC 6455: the side that closes sends a close frame (after an error message,
 * if any) and closes the socket when the other side's close frame comes back, or after
 * {@link #CLOSE_TIMEOUT_MILLIS}. Writes after our close frame are failed by Netty's WebSocket
 * protocol handler, which is what makes {@link #send} fail on a closing connection even when it
 * races with {@link #close}.
 */
final class NettyConnection implements Connection {
  /** How long a closing side waits for the other's close frame before it drops the socket. */
  static final long CLOSE_TIMEOUT_MILLIS = 3_000;
  /** The id of the error messages the transport itself sends; peers number theirs from 1. */
  static final long TRANSPORT_MESSAGE_ID = 0;

  private static final AtomicLong IDS = new AtomicLong();
  /** A close frame's payload is at most 125 bytes, 2 of them the status code. */
  private static final int MAX_CLOSE_REASON_BYTES = 123;

  private final long id = IDS.incrementAndGet();
  private final Channel channel;
  private final String remote;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicReference<String> closeReason = new AtomicReference<>();
  private final OutboundBudget budget;

  NettyConnection(Channel channel, String remote, OutboundBudget budget) {
    this.channel = channel;
    this.remote = remote;
    this.budget = budget;
  }

  /** Returns the budget of what is queued toward this connection. */
  OutboundBudget budget() {
    return budget;
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public String remote() {
    return remote;
  }

  @Override
  public CompletableFuture<Void> send(Message message) {
    if (!isOpen()) {
      return CompletableFuture.failedFuture(new ReplikonException(Reason.CONNECTION,
          "cannot send " + message.kind().wireName() + ": " + this + " is closed"));
    }
    // Encoding runs on the channel's event loop, not on the caller's thread (the peer's engine):
    // the two then work in parallel. Tasks of one event loop run in order, so messages keep the
    // order in which they were sent. While it waits, the message counts against the outbound
    // budget by an estimate of its size; once written, by its frame (see OutboundBudget).
    long estimate = OutboundBudget.estimate(message);
    if (!budget.tryReserve(estimate)) {
      return CompletableFuture.failedFuture(new ReplikonException(Reason.CONNECTION,
          "cannot send " + message.kind().wireName() + ": more than " + budget.limit()
              + " bytes are queued toward " + this + ", which is closing"));
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      channel.eventLoop().execute(() -> {
        budget.release(estimate);
        encodeAndWrite(message, done);
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      budget.release(estimate);
      done.completeExceptionally(new ReplikonException(Reason.CONNECTION,
          "cannot send " + message.kind().wireName() + ": " + this + " is shutting down", e));
    }
    return done;
  }

  private void encodeAndWrite(Message message, CompletableFuture<Void> done) {
    ByteBuf frame;
    try {
      // The pieces share the message's value arrays: each byte is copied once, to the socket.
      frame = Unpooled.wrappedBuffer(MessageCodec.encodePieces(message).toArray(new ByteBuffer[0]));
    } catch (ReplikonException e) {
      done.completeExceptionally(e);
      return;
    }
    writeFrame(new BinaryWebSocketFrame(frame)).whenComplete((ok, f) -> {
      if (f != null) {
        done.completeExceptionally(f);
      } else {
        done.complete(null);
      }
    });
  }

  /** Writes and flushes any frame; tests use it to send what {@link #send} never would. */
  CompletableFuture<Void> writeFrame(WebSocketFrame frame) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    channel.writeAndFlush(frame).addListener(f -> {
      if (f.isSuccess()) {
        done.complete(null);
      } else {
        done.completeExceptionally(new ReplikonException(Reason.CONNECTION, "could not send on "
            + this + ": " + Failures.describe(f.cause()), f.cause()));
      }
    });
    return done;
  }

  @Override
  public boolean isWritable() {
    return channel.isWritable();
  }

  @Override
  public void suspendReading() {
    channel.config().setAutoRead(false);
  }

  @Override
  public void resumeReading() {
    if (!budget.isExceeded()) {
      channel.config().setAutoRead(true);
    }
  }

  @Override
  public void close(Message.ErrorReport reason) {
    String why = reason == null ? "closed locally"
        : "closed locally after sending " + reason.code().wireName() + ": " + reason.message();
    WebSocketCloseStatus status =
        reason == null ? WebSocketCloseStatus.NORMAL_CLOSURE : statusOf(reason.code());
    closeWith(reason, status, why);
  }

  @Override
  public boolean isOpen() {
    return !closing.get() && channel.isActive();
  }

  /**
   * Starts the closing handshake unless one is under way: sends {@code report} if not null, then
   * a close frame with {@code status}, and drops the socket if no answer comes in time.
   *
   * @param reason what {@link ConnectionHandler#closed} will be told, unless a reason was
   *     recorded before
   */
  void closeWith(Message.ErrorReport report, WebSocketCloseStatus status, String reason) {
    recordReason(reason);
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    if (channel.eventLoop().inEventLoop()) {
      sendCloseFrames(report, status, reason);
    } else {
      channel.eventLoop().execute(() -> sendCloseFrames(report, status, reason));
    }
  }

  private void sendCloseFrames(Message.ErrorReport report, WebSocketCloseStatus status,
      String reason) {
    if (!channel.isActive()) {
      channel.close();
      return;
    }
    if (report != null) {
      channel.write(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(MessageCodec.encode(report))));
    }
    channel.writeAndFlush(new CloseWebSocketFrame(status, closeReasonText(reason)));
    var timeout = channel.eventLoop().schedule(() -> channel.close(), CLOSE_TIMEOUT_MILLIS,
        TimeUnit.MILLISECONDS);
    channel.closeFuture().addListener(f -> timeout.cancel(false));
  }

  /**
   * Answers the other side's close frame: marks this connection closing, records why, and
   * returns true if the socket should be closed once the answer is flushed (false: we started
   * the close and the caller closes at once).
   */
  boolean peerClosed(String reason) {
    recordReason(reason);
    return closing.compareAndSet(false, true);
  }

  /** Records why the connection closes, unless a reason was recorded before. */
  void recordReason(String reason) {
    closeReason.compareAndSet(null, reason);
  }

  /** Returns the first recorded reason, or the given fallback. */
  String closeReason(String fallback) {
    String r = closeReason.get();
    return r == null ? fallback : r;
  }

  /** Marks the connection closing without a handshake (the socket is gone). */
  void markClosed() {
    closing.set(true);
  }

  static WebSocketCloseStatus statusOf(ErrorCode code) {
    return switch (code) {
      case MALFORMED -> WebSocketCloseStatus.INVALID_PAYLOAD_DATA;
      case UNKNOWN_KIND, PROTOCOL, VERSION_MISMATCH -> WebSocketCloseStatus.PROTOCOL_ERROR;
      case TOO_LARGE -> WebSocketCloseStatus.MESSAGE_TOO_BIG;
      case INTERNAL -> WebSocketCloseStatus.INTERNAL_SERVER_ERROR;
      case HASH_MISMATCH, MISSING_CONTENT, OVERLOADED, FORBIDDEN ->
          WebSocketCloseStatus.POLICY_VIOLATION;
    };
  }

  /** Cuts a reason to what fits in a close frame, on a character boundary. */
  static String closeReasonText(String reason) {
    String text = reason;
    while (text.getBytes(StandardCharsets.UTF_8).length > MAX_CLOSE_REASON_BYTES) {
      text = text.substring(0, text.length() - 1);
      if (!text.isEmpty() && Character.isHighSurrogate(text.charAt(text.length() - 1))) {
        text = text.substring(0, text.length() - 1);
      }
    }
    return text;
  }

  @Override
  public String toString() {
    return "connection " + id + " (" + remote + ")";
  }
}
