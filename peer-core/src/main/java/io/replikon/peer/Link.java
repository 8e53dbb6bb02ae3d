package io.replikon.peer;

import io.replikon.protocol.Message;

/**
 * The engine's view of a connection to another peer. The transport implements it; the simulation
 * in the tests implements it in memory.
 *
 * <p>Implementations deliver messages in the order they were sent, or not at all after a close.
 * {@link #send} must not block: it queues the message.
 */
public interface Link {
  /** Returns an id unique among this peer's links. */
  long id();

  /** Returns a description for logs: the remote address or URL. */
  String describe();

  /** Queues a message to the other peer. Messages after a close are dropped. */
  void send(Message message);

  /** Sends {@code reason} if not null, then closes the link. Idempotent. */
  void close(Message.ErrorReport reason);

  /**
   * Returns false while what was sent has not drained to the other peer (more is queued toward it
   * than the transport's byte budget allows): the engine then sends no more fetch replies and no
   * more publishes on this link until the host calls {@link PeerEngine#writable(Link)}, so what is
   * queued toward a peer that does not read stays about one message past that budget. Small
   * answers (acks, errors, subscribes) still go out.
   */
  boolean isWritable();

  /** Stops reading from the other peer until {@link #resumeReading()}: backpressure. */
  void suspendReading();

  /** Reads from the other peer again. */
  void resumeReading();

  /**
   * Returns true if this link has already checked, before handing a message to the engine, that
   * every inline value of a publish and every whole value in a fetch-reply hashes to its id
   * ({@link io.replikon.protocol.MessageCodec#decodeVerified}), closing the link on a mismatch.
   * The engine then does not hash those values again (it still hashes a value it puts together
   * from slices). A link that cannot promise this returns false, the default, and the engine
   * checks every value itself.
   */
  default boolean verifiesValues() {
    return false;
  }
}
