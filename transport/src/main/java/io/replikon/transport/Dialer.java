package io.replikon.transport;

import java.net.URI;
import java.util.Optional;

/**
 * Keeps a connection to one URI: connects, and after every close or failed attempt connects again
 * after an exponential backoff with full jitter, until {@link #close()}. Each new connection calls
 * {@link ConnectionHandler#opened} again, which is where a peer says hello and resubscribes.
 * Made by {@link PeerClient#dial}.
 *
 * <p>Thread-safe; no method blocks.
 */
public interface Dialer extends AutoCloseable {
  /** Returns the URI this dialer connects to. */
  URI uri();

  /** Returns the connection if one is open now. */
  Optional<Connection> current();

  /** Returns how many connections this dialer has opened so far. */
  long connections();

  /** Stops reconnecting and closes the current connection, if any. Idempotent. */
  @Override
  void close();
}
