package io.replikon.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.replikon.cdvcs.Update;
import io.replikon.protocol.Message;
import io.replikon.trust.Signature;
import io.replikon.trust.VerifyingKey;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One byte budget for everything queued toward one connection: pongs, messages sent by the
 * peer, error reports, handshake answers.
 *
 * <p>Design: the budget counts a message from the moment {@link NettyConnection#send} accepts it
 * (an estimate of its encoded size, while it waits for the event loop) until the socket took its
 * frame (the frame's payload plus {@link #FRAME_OVERHEAD}, from the write until its promise
 * completes, which Netty does when the bytes are written or the channel is gone). This handler
 * sits just below Netty's WebSocket protocol handler and above the frame encoder, so every frame
 * passes it, the pongs that the protocol handler writes from its own context included. A write that would take the total past the limit is not
 * queued: it is failed, reading stops at once (so a flood is not read any further), and an
 * {@link Exceeded} event is fired up the pipeline once, where {@link PeerFrameHandler} closes the
 * connection with status 1008 and counts it. Close frames (at most 127 bytes) are neither counted
 * nor refused, so that the close can always be said. The budget bounds memory whether or not the
 * peer above respects writability; the water marks are for peers that do. Reading is not stopped
 * merely because a connection is unwritable: two peers serving each other large fetch replies
 * would both stop reading, neither side's queue would drain, and both would hang (a deadlock).
 * Reading stops when a connection is over its budget, and then for good.
 *
 * <p>Thread-safe: {@link #tryReserve} and {@link #release} may be called from any thread; the
 * handler methods run on the channel's event loop.
 */
final class OutboundBudget extends ChannelOutboundHandlerAdapter {
  /**
   * Counted per queued frame besides its payload: what Netty holds for it (the outbound buffer's
   * entry, the promise and its listener, the encoded buffer's header). So that a flood of empty
   * pings, two bytes each on the wire, is bounded in memory too.
   */
  static final int FRAME_OVERHEAD = 256;

  /**
   * Pings answered by a pong that is still waiting for the socket, past which the connection is
   * refused: an honest peer pings once per heartbeat and has at most a few unanswered.
   */
  static final int MAX_COALESCED_PINGS = 1024;

  /** The user event fired once, up the pipeline, when the connection is refused. */
  record Exceeded(String reason) {}

  private PongWebSocketFrame waitingPong;
  private ChannelPromise waitingPongPromise;
  private boolean pongInFlight;
  private int coalescedPings;
  private ChannelHandlerContext context;

  /**
   * The user-defined writability bit this budget owns (Netty keeps bits 1 to 31 for users): the
   * channel is unwritable while the bytes counted here, which include messages still waiting for
   * the event loop, are at or over the high water mark, and writable again below the low one. So
   * a peer that sends only while {@link Connection#isWritable} sees what it has queued from its
   * own thread, not only what Netty's outbound buffer holds, and a burst of sends cannot pass the
   * budget and close a connection that reads.
   */
  private static final int WRITABILITY_BIT = 1;

  private final long limit;
  private final long unwritableAt = NettyPeerServer.WATER_MARK.high();
  private final long writableBelow = NettyPeerServer.WATER_MARK.low();
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong peak = new AtomicLong();
  private final AtomicBoolean exceeded = new AtomicBoolean();
  private volatile Channel channel;

  OutboundBudget(long limit) {
    this.limit = limit;
  }

  /** Returns the limit, in bytes. */
  long limit() {
    return limit;
  }

  /** Returns the bytes counted now. */
  long pending() {
    return pending.get();
  }

  /** Returns the most bytes ever counted at once (tests check it never passed the limit). */
  long peak() {
    return peak.get();
  }

  /** Returns true once the budget was exceeded; the connection is then closing. */
  boolean isExceeded() {
    return exceeded.get();
  }

  /**
   * Counts {@code bytes} if they fit; otherwise marks the budget exceeded (stopping reads and
   * firing {@link Exceeded} on the event loop) and returns false. Once exceeded, nothing fits.
   */
  boolean tryReserve(long bytes) {
    while (!exceeded.get()) {
      long now = pending.get();
      long next = now + bytes;
      if (next > limit) {
        markExceeded("more than " + limit
            + " bytes queued toward a connection that does not read them");
        return false;
      }
      if (pending.compareAndSet(now, next)) {
        peak.accumulateAndGet(next, Math::max);
        if (now < unwritableAt && next >= unwritableAt) {
          updateWritabilitySoon();
        }
        return true;
      }
    }
    return false;
  }

  /** Stops counting {@code bytes} counted by {@link #tryReserve}. */
  void release(long bytes) {
    long after = pending.addAndGet(-bytes);
    if (after < writableBelow && after + bytes >= writableBelow) {
      updateWritabilitySoon();
    }
  }

  /**
   * Sets the writability bit from the count as it is when the event loop gets to it (so crossings
   * seen in any order on any thread end in the right state), firing Netty's writability event.
   */
  private void updateWritabilitySoon() {
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    if (ch.eventLoop().inEventLoop()) {
      updateWritability(ch);
    } else {
      try {
        ch.eventLoop().execute(() -> updateWritability(ch));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // the channel is closing: nothing waits for it to become writable
      }
    }
  }

  private void updateWritability(Channel ch) {
    ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    if (out == null) {
      return;
    }
    long now = pending.get();
    if (now >= unwritableAt) {
      out.setUserDefinedWritability(WRITABILITY_BIT, false);
    } else if (now < writableBelow) {
      out.setUserDefinedWritability(WRITABILITY_BIT, true);
    }
  }

  private void markExceeded(String reason) {
    if (!exceeded.compareAndSet(false, true)) {
      return;
    }
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    if (ch.eventLoop().inEventLoop()) {
      stopAndTell(ch, reason);
    } else {
      try {
        ch.eventLoop().execute(() -> stopAndTell(ch, reason));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        ch.close();
      }
    }
  }

  private static void stopAndTell(Channel ch, String reason) {
    ch.config().setAutoRead(false);
    ch.pipeline().fireUserEventTriggered(new Exceeded(reason));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    context = ctx;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    dropWaitingPong();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
    dropWaitingPong();
    super.close(ctx, promise);
  }

  /**
   * Passes a read request on only while the connection reads on its own (auto-read). When the
   * peer has stopped reading a connection (its inbox is full, or it is over its budget), Netty's
   * WebSocket handler, just above, still asks for a read after each ping it answers: a sender
   * that mixed pings into a flood would be read on past every bound. Reading resumes when
   * auto-read is set again (which reads at once). A partial frame still completes: the frame
   * decoder below asks for the rest on its own.
   */
  @Override
  public void read(ChannelHandlerContext ctx) {
    if (ctx.channel().config().isAutoRead()) {
      ctx.read();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof CloseWebSocketFrame) {
      ctx.write(msg, promise);
      return;
    }
    if (msg instanceof PongWebSocketFrame pong) {
      writePong(ctx, pong, promise);
      return;
    }
    writeCounted(ctx, msg, promise);
  }

  /**
   * Pongs go one at a time (RFC 6455 5.5.3: a peer may answer only the most recent ping): while
   * one waits for the socket, a newer one takes the single waiting place and an older waiting
   * one is dropped. So a ping flood costs at most two pongs, and past {@link
   * #MAX_COALESCED_PINGS} pings answered that way the connection is refused.
   */
  private void writePong(ChannelHandlerContext ctx, PongWebSocketFrame pong,
      ChannelPromise promise) {
    if (!pongInFlight) {
      pongInFlight = true;
      ChannelPromise sent = promise.unvoid();
      sent.addListener(f -> pongDone());
      writeCounted(ctx, pong, sent);
      return;
    }
    dropWaitingPong();
    waitingPong = pong;
    waitingPongPromise = promise;
    if (++coalescedPings > MAX_COALESCED_PINGS && !exceeded.get()) {
      dropWaitingPong();
      markExceeded("more than " + MAX_COALESCED_PINGS
          + " pings while a pong waited for a connection that does not read it");
    }
  }

  private void pongDone() {
    pongInFlight = false;
    coalescedPings = 0;
    PongWebSocketFrame next = waitingPong;
    ChannelPromise nextPromise = waitingPongPromise;
    waitingPong = null;
    waitingPongPromise = null;
    if (next != null && context != null && channel.isActive()) {
      writePong(context, next, nextPromise);
      context.flush();
    } else if (next != null) {
      next.release();
      nextPromise.trySuccess();
    }
  }

  private void dropWaitingPong() {
    if (waitingPong != null) {
      waitingPong.release();
      waitingPongPromise.trySuccess();
      waitingPong = null;
      waitingPongPromise = null;
    }
  }

  private void writeCounted(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    long size = payloadBytes(msg) + FRAME_OVERHEAD;
    if (!tryReserve(size)) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(new IOException("not queued: the outbound budget of " + limit
          + " bytes is exceeded (the other side does not read)"));
      return;
    }
    ChannelPromise counted = promise.unvoid();
    counted.addListener(f -> release(size));
    ctx.write(msg, counted);
  }

  private static long payloadBytes(Object msg) {
    if (msg instanceof ByteBufHolder h) {
      return h.content().readableBytes();
    }
    if (msg instanceof ByteBuf b) {
      return b.readableBytes();
    }
    return 0;
  }

  /**
   * Returns about how many bytes {@code message} takes encoded, without encoding it: the byte
   * arrays it carries plus a generous allowance per hash, address and field. Used to count a
   * message while it waits for the event loop.
   */
  static long estimate(Message message) {
    final long field = 16;
    final long hash = 36;
    final long address = 96;
    return FRAME_OVERHEAD + switch (message.kind()) {
      case HELLO -> {
        Message.Hello h = (Message.Hello) message;
        long n = 64 + 3L * h.peer().length() + (h.challenge().isPresent() ? 48 : 0);
        for (var e : h.credentials().entrySet()) {
          n += field + 3L * (e.getKey().length() + e.getValue().length());
        }
        yield n;
      }
      case SUBSCRIBE -> {
        long n = 32;
        for (Message.Interest i : ((Message.Subscribe) message).interests()) {
          n += address + hash * i.heads().size();
        }
        yield n;
      }
      case SUBSCRIBE_ACK -> 32 + address * ((Message.SubscribeAck) message).addresses().size();
      case PUBLISH -> {
        Message.Publish p = (Message.Publish) message;
        long n = 64 + address + hash * p.heads().size();
        for (Update.Entry e : p.commits()) {
          n += 2 * field + hash * (1 + e.parents().size()) + Signature.BYTES;
        }
        for (var e : p.values().entrySet()) {
          n += hash + field + e.getValue().length;
        }
        yield n;
      }
      case PUBLISH_ACK -> 64 + address + hash * ((Message.PublishAck) message).heads().size();
      case FETCH -> 32 + hash * ((Message.Fetch) message).hashes().size();
      case FETCH_REPLY -> {
        long n = 32;
        for (Message.Slice s : ((Message.FetchReply) message).slices()) {
          n += hash + 3 * field + s.bytes().length;
        }
        yield n;
      }
      case AUTH -> 48 + VerifyingKey.BYTES + Signature.BYTES;
      case ERROR -> 64 + 3L * ((Message.ErrorReport) message).message().length();
    };
  }
}
