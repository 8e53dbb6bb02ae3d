package io.replikon.transport;

import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;

/**
 * What a peer does with its connections; the transport calls it.
 *
 * <p>All calls for one connection come on that connection's I/O thread, one at a time, in order:
 * {@link #opened} first, then any {@link #received} and {@link #writabilityChanged} (and at most
 * one {@link #refused}), then exactly one {@link #closed}. Calls for different connections may
 * come concurrently on different threads, so implementations must be thread-safe. <b>No method
 * may block</b>: it would stall every connection sharing the thread. An exception thrown by a method closes that connection
 * with an {@code internal} error.
 */
public interface ConnectionHandler {
  /** A connection completed its WebSocket handshake and may be used. */
  void opened(Connection connection);

  /**
   * A message arrived. Frames that are not well-formed messages never get here: the transport
   * answers them with an error and closes the connection. Nor do messages carrying a value that
   * does not hash to its id: the transport checks every inline value of a publish and every whole
   * value in a fetch-reply ({@code MessageCodec.decodeVerified}) and answers a mismatch with a
   * {@code hash-mismatch} error and a close.
   */
  void received(Connection connection, Message message);

  /**
   * The connection's outbound buffer crossed a water mark: {@code writable} is false above the
   * high mark and true again below the low mark. The value is the writability when the call is
   * made, so after a quick false-and-back the same value may come twice; a sender that saw
   * {@link Connection#isWritable()} false is always told {@code true} once it may send again.
   * Does nothing by default.
   */
  default void writabilityChanged(Connection connection, boolean writable) {}

  /**
   * The transport is closing the connection for bad input it found itself (a frame that is not a
   * well-formed message, a value that does not hash to its id, a frame over the limit) or for
   * not reading what was sent to it (more queued toward it than {@link
   * TransportLimits#maxOutboundBytes()}: {@code overloaded}), after answering {@code code} and
   * logging one line; {@link #closed} follows. For counting: does
   * nothing by default.
   */
  default void refused(Connection connection, ErrorCode code, String reason) {}

  /**
   * The transport closed a connection that never opened (no {@link #opened} came, nor will a
   * {@link #closed}): one over the cap on connections, or one that did not complete its WebSocket
   * handshake in time. Called on an I/O thread, possibly concurrently with other calls; the
   * transport logs such refusals itself, a line per burst. For counting: does nothing by default.
   *
   * @param remote the other side, {@code host:port}
   * @param reason why, a sentence for logs
   */
  default void refusedBeforeOpen(String remote, String reason) {}

  /**
   * The connection is closed, for the reason given (a sentence for logs). Called exactly once
   * per {@link #opened}.
   */
  void closed(Connection connection, String reason);
}
