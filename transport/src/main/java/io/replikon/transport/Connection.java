package io.replikon.transport;

import io.replikon.protocol.Message;
import java.util.concurrent.CompletableFuture;

/**
 * One open WebSocket connection to another peer, carrying one {@link Message} per binary frame.
 *
 * <p>Thread-safe: every method may be called from any thread, and none blocks. Messages sent from
 * one thread leave in the order they were sent. A connection is handed to its
 * {@link ConnectionHandler} once the WebSocket handshake is complete, and stays usable until
 * {@link ConnectionHandler#closed} is called for it.
 */
public interface Connection {
  /** Returns an id for this connection, unique in this JVM; logs name connections by it. */
  long id();

  /** Returns the other side: {@code host:port} for accepted connections, the URL for dialled. */
  String remote();

  /**
   * Encodes a message and writes it as one binary frame.
   *
   * <p>The write is not held back when {@link #isWritable()} is false; callers that produce a lot
   * check it and wait for {@link ConnectionHandler#writabilityChanged} before they send more.
   *
   * @param message the message
   * @return a future, never null, that completes when the frame is flushed to the socket, or
   *     exceptionally with a {@link io.replikon.error.ReplikonException}: reason
   *     {@code CONNECTION} if the connection is closed or closing or the write fails,
   *     {@code TOO_LARGE} if the message does not fit in a frame
   */
  CompletableFuture<Void> send(Message message);

  /**
   * Returns true while the outbound buffer is below its high water mark. It turns false when more
   * is queued than the socket takes, and true again once the queue drains below the low mark;
   * each change is reported to {@link ConnectionHandler#writabilityChanged}.
   */
  boolean isWritable();

  /**
   * Stops reading from the socket: no more {@link ConnectionHandler#received} calls until
   * {@link #resumeReading()}, and TCP flow control slows the sender down. Idempotent.
   */
  void suspendReading();

  /** Reads from the socket again after {@link #suspendReading()}. Idempotent. */
  void resumeReading();

  /**
   * Closes the connection: sends {@code reason} if it is not null, then a WebSocket close frame,
   * then closes the socket once the other side answers the close (or after a short timeout).
   * Idempotent; later sends fail. {@link ConnectionHandler#closed} follows.
   *
   * @param reason the error to report to the other side, or null for a normal close
   */
  void close(Message.ErrorReport reason);

  /** Returns true until the connection starts closing (by either side). */
  boolean isOpen();
}
