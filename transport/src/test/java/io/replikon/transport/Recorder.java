package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.replikon.protocol.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ConnectionHandler} for tests: records every call, checks the call order the interface
 * promises (opened, then received or writability, then one closed), and optionally echoes every
 * message back.
 */
class Recorder implements ConnectionHandler {
  static final Duration WAIT = Duration.ofSeconds(20);

  private final boolean echo;
  private final BlockingQueue<Connection> opened = new LinkedBlockingQueue<>();
  private final Map<Long, List<Message>> received = new ConcurrentHashMap<>();
  private final Map<Long, List<Boolean>> writability = new ConcurrentHashMap<>();
  private final Map<Long, String> closed = new ConcurrentHashMap<>();
  private final Map<Long, Message.ErrorCode> refused = new ConcurrentHashMap<>();
  private final List<String> refusedBeforeOpen = new CopyOnWriteArrayList<>();
  private final Map<Long, Connection> open = new ConcurrentHashMap<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final AtomicInteger openedCount = new AtomicInteger();

  private Recorder(boolean echo) {
    this.echo = echo;
  }

  /** A recorder that stops reading every connection as soon as it opens. */
  static final class Suspending extends Recorder {
    Suspending() {
      super(false);
    }

    @Override
    public void opened(Connection connection) {
      connection.suspendReading();
      super.opened(connection);
    }
  }

  /** A recorder whose {@code received} throws after recording. */
  static final class Throwing extends Recorder {
    Throwing() {
      super(false);
    }

    @Override
    public void received(Connection connection, Message message) {
      super.received(connection, message);
      throw new IllegalStateException("handler bug (thrown on purpose by the test)");
    }
  }

  /** Returns a recorder that echoes every message it receives. */
  static Recorder echoing() {
    return new Recorder(true);
  }

  /** Returns a recorder that only records. */
  static Recorder recording() {
    return new Recorder(false);
  }

  @Override
  public void opened(Connection connection) {
    if (open.putIfAbsent(connection.id(), connection) != null) {
      violations.add("opened twice: " + connection);
    }
    openedCount.incrementAndGet();
    opened.add(connection);
  }

  @Override
  public void received(Connection connection, Message message) {
    if (!open.containsKey(connection.id()) || closed.containsKey(connection.id())) {
      violations.add("received outside opened..closed: " + connection);
    }
    received.computeIfAbsent(connection.id(), k -> new CopyOnWriteArrayList<>()).add(message);
    if (echo) {
      connection.send(message);
    }
  }

  @Override
  public void writabilityChanged(Connection connection, boolean writable) {
    writability.computeIfAbsent(connection.id(), k -> new CopyOnWriteArrayList<>()).add(writable);
  }

  @Override
  public void refused(Connection connection, Message.ErrorCode code, String reason) {
    if (!open.containsKey(connection.id()) || closed.containsKey(connection.id())) {
      violations.add("refused outside opened..closed: " + connection);
    }
    if (refused.putIfAbsent(connection.id(), code) != null) {
      violations.add("refused twice: " + connection);
    }
  }

  @Override
  public void refusedBeforeOpen(String remote, String reason) {
    refusedBeforeOpen.add(remote + ": " + reason);
  }

  @Override
  public void closed(Connection connection, String reason) {
    if (!open.containsKey(connection.id())) {
      violations.add("closed without opened: " + connection);
    }
    if (closed.putIfAbsent(connection.id(), reason) != null) {
      violations.add("closed twice: " + connection);
    }
  }

  /** Returns the next opened connection, waiting for it. */
  Connection nextOpened() throws InterruptedException {
    Connection c = opened.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(c).as("a connection opened within " + WAIT).isNotNull();
    return c;
  }

  int openedCount() {
    return openedCount.get();
  }

  /** Waits until the connection is closed and returns the reason. */
  String awaitClosed(Connection c) {
    await().atMost(WAIT).until(() -> closed.containsKey(c.id()));
    return closed.get(c.id());
  }

  boolean isClosed(Connection c) {
    return closed.containsKey(c.id());
  }

  /** Waits until {@code n} messages arrived on the connection and returns them. */
  List<Message> awaitReceived(Connection c, int n) {
    await().atMost(WAIT).until(() -> received(c).size() >= n);
    return received(c);
  }

  List<Message> received(Connection c) {
    return new ArrayList<>(received.getOrDefault(c.id(), List.of()));
  }

  List<Boolean> writability(Connection c) {
    return new ArrayList<>(writability.getOrDefault(c.id(), List.of()));
  }

  /** Returns the code the connection was refused with, or null. */
  Message.ErrorCode refusedWith(Connection c) {
    return refused.get(c.id());
  }

  /** Returns the refusals of connections that never opened, as "remote: reason". */
  List<String> refusedBeforeOpen() {
    return new ArrayList<>(refusedBeforeOpen);
  }

  /** Asserts that no call came out of the promised order. */
  void assertContractKept() {
    assertThat(violations).isEmpty();
  }
}
