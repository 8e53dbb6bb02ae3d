package io.replikon.transport;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.replikon.protocol.Message;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Dialer}: a state machine driven on one event executor of the client, so that the
 * backoff and the pending attempt need no lock. After every failed attempt and every close it
 * schedules the next attempt after {@link Backoff#nextDelayNanos()}; a connection that stayed up
 * for {@code resetAfter} resets the backoff first. It wraps the caller's handler to learn of
 * opens and closes, and passes every call on unchanged.
 */
final class ReconnectingDialer implements Dialer {
  private static final Logger LOG = LoggerFactory.getLogger(ReconnectingDialer.class);

  private final NettyPeerClient client;
  private final URI uri;
  private final ConnectionHandler handler;
  private final Backoff backoff;
  private final long resetAfterNanos;
  private final Consumer<ReconnectingDialer> onClose;
  private final EventExecutor executor;
  private final AtomicLong connections = new AtomicLong();

  private volatile boolean closed;
  private volatile Connection current;
  /** Touched on {@link #executor} only. */
  private ScheduledFuture<?> pending;
  private long openedAtNanos;

  ReconnectingDialer(NettyPeerClient client, URI uri, ConnectionHandler handler, Backoff backoff,
      Duration resetAfter, Consumer<ReconnectingDialer> onClose) {
    this.client = client;
    this.uri = uri;
    this.handler = handler;
    this.backoff = backoff;
    this.resetAfterNanos = resetAfter.toNanos();
    this.onClose = onClose;
    this.executor = client.group().next();
  }

  void start() {
    run(this::attempt);
  }

  private void attempt() {
    pending = null;
    if (closed) {
      return;
    }
    client.connect(uri, new Tracking()).whenComplete((c, failure) -> {
      if (failure != null) {
        run(() -> retry("could not connect: " + Failures.describe(failure)));
      }
    });
  }

  private void retry(String why) {
    if (closed) {
      return;
    }
    long delay = backoff.nextDelayNanos();
    LOG.info("{}: {}; next attempt in {} ms", uri, why, TimeUnit.NANOSECONDS.toMillis(delay));
    try {
      pending = executor.schedule(this::attempt, delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The client is shutting down.
    }
  }

  private void run(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      // The client is shutting down.
    }
  }

  @Override
  public URI uri() {
    return uri;
  }

  @Override
  public Optional<Connection> current() {
    Connection c = current;
    return c != null && c.isOpen() ? Optional.of(c) : Optional.empty();
  }

  @Override
  public long connections() {
    return connections.get();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    onClose.accept(this);
    run(() -> {
      if (pending != null) {
        pending.cancel(false);
        pending = null;
      }
    });
    Connection c = current;
    if (c != null) {
      c.close(null);
    }
  }

  @Override
  public String toString() {
    return "Dialer[" + uri + "]";
  }

  /** Passes every call on, and keeps the dialer's state. */
  private final class Tracking implements ConnectionHandler {
    @Override
    public void opened(Connection connection) {
      current = connection;
      connections.incrementAndGet();
      long now = System.nanoTime();
      run(() -> openedAtNanos = now);
      handler.opened(connection);
      if (closed) {
        connection.close(null);
      }
    }

    @Override
    public void received(Connection connection, Message message) {
      handler.received(connection, message);
    }

    @Override
    public void writabilityChanged(Connection connection, boolean writable) {
      handler.writabilityChanged(connection, writable);
    }

    @Override
    public void closed(Connection connection, String reason) {
      current = null;
      long now = System.nanoTime();
      try {
        handler.closed(connection, reason);
      } finally {
        run(() -> {
          if (now - openedAtNanos >= resetAfterNanos) {
            backoff.reset();
          }
          retry("connection closed: " + reason);
        });
      }
    }
  }
}
