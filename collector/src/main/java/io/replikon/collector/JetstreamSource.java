package io.replikon.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Bluesky Jetstream over a WebSocket (the JDK's {@link java.net.http.WebSocket}) and submits
 * each commit event of the wanted collections as a transaction whose params are the event object
 * exactly as received: {@code ["add-post", event]} for a create, {@code ["update-post", event]}
 * for an update, {@code ["delete-post", event]} for a delete (which carries no record). The names
 * are the same whatever the collection. Identity and account events, and commits of other
 * collections, are logged at debug and not committed.
 *
 * <h2>Design</h2>
 *
 * <p>Cursor: every submission carries the {@code time_us} of the last event it covers, as the
 * ASCII text {@code jetstream:<time_us>}. {@link #run} starts from {@link Intake#cursor} and
 * connects with {@code cursor=<time_us>}; Jetstream replays from that instant, the boundary event
 * included, so events with {@code time_us} at or below the cursor are skipped. A stored cursor of
 * another form (another source's) is ignored with a warning, and the stream starts live. A
 * reconnect resumes from the cursor of the last accepted submission, so nothing is lost or
 * committed twice as long as the server's replay window reaches back that far (the public
 * instances keep about a day).
 *
 * <p>Flow control: the listener asks for {@value #WINDOW} messages up front. {@link #run} takes
 * the complete messages the listener queued, until none is waiting or it holds {@value #WINDOW}
 * events, submits them as one submission, waits until it is journaled (after
 * {@link Intake#awaitCapacity}; again after {@code OVERLOADED}), and only then asks for as many
 * messages as it took ({@link WebSocket#request}). So at most {@value #WINDOW} messages are
 * buffered, and a slow journal slows the stream down (Jetstream drops a client that falls far
 * behind; the reconnect then resumes from the cursor). Under light load each event is its own
 * submission; the journal's group commit makes that cheap.
 *
 * <p>Frames: a text message may arrive in parts ({@code last == false}); the parts are joined.
 * A message longer than {@value #MAX_MESSAGE_CHARS} characters is dropped with a warning, and so
 * are binary messages (compressed streams are not supported).
 *
 * <p>Reconnects: when the connection closes or fails, {@link #run} submits what it received, waits
 * with exponential backoff and jitter (a random wait between half and all of a backoff that
 * starts at 250 ms and doubles up to 30 s; reset once a connection delivered a message) and
 * connects again. A handshake refused with an HTTP 4xx status other than 408 and 429 (a wrong
 * path) fails {@link #run} with {@code CONNECTION}.
 *
 * <p>Idle watchdog: a connection that delivers nothing (no message, part, ping or pong) for
 * {@link JetstreamSourceConfig#idleTimeout} while {@link #run} waits for it, with all the messages
 * it took requested again (so the silence is not the source's own back pressure), is dropped and
 * the source reconnects from its cursor, as after a close. Jetstream never goes quiet for long,
 * so silence means a dead connection the client was not told about: a half-open TCP connection
 * (a peer or middlebox gone without a FIN or RST), or an end of stream the JDK's client
 * swallowed. The latter happens (JDK 17; the code is the same in 25): when the server's FIN is
 * read while the client has no frame demand towards its transport (the listener is still in
 * {@code onText} for the previous message), {@code TransportImpl} stops its receive scheduler
 * and reports the end to {@code WebSocketImpl}, whose {@code onComplete} first calls
 * {@code acknowledgeReception}, which throws {@code InternalError} for the missing demand; the
 * error is lost in the selector thread, and the listener never gets {@code onClose} or
 * {@code onError}.
 *
 * <p>Thread-safe: {@link #close} may be called from any thread; {@link #run} runs once.
 */
final class JetstreamSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(JetstreamSource.class);

  /** Messages requested ahead, and the most events in one submission. */
  static final int WINDOW = 500;

  /** The longest message kept, in characters. */
  static final int MAX_MESSAGE_CHARS = 4 << 20;

  /** The prefix of the cursors this source stores. */
  static final String CURSOR_PREFIX = "jetstream:";

  private static final long INITIAL_BACKOFF_MILLIS = 250;
  private static final long MAX_BACKOFF_MILLIS = 30_000;
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final JetstreamSourceConfig config;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch closedLatch = new CountDownLatch(1);
  private volatile Connection current;

  JetstreamSource(JetstreamSourceConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Connects, and reconnects, submitting commit events until {@link #close}.
   *
   * @throws ReplikonException with reason {@code CONNECTION} if the server refuses the WebSocket
   *     handshake with an HTTP 4xx status (not 408 or 429); what the intake fails with other than
   *     {@code OVERLOADED} and {@code STORE_CLOSED} (on {@code STORE_CLOSED} it returns)
   * @throws InterruptedException if the thread is interrupted
   * @throws IllegalStateException if called twice
   */
  @Override
  public void run(Intake intake) throws InterruptedException {
    Objects.requireNonNull(intake, "intake");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("a source runs once");
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    OptionalLong cursor = storedCursor(intake);
    LOG.info("reading {} from {}", describe(),
        cursor.isPresent() ? "cursor " + cursor.getAsLong() : "now (no stored cursor)");
    long backoff = INITIAL_BACKOFF_MILLIS;
    while (!closed.get()) {
      Connection connection = connect(http, cursor);
      if (connection != null) {
        try {
          Pumped pumped = pump(connection, intake, cursor);
          cursor = pumped.cursor();
          if (pumped.received()) {
            backoff = INITIAL_BACKOFF_MILLIS;
          }
          if (pumped.stop() || closed.get()) {
            return;
          }
          LOG.warn("{}; reconnecting to {}", pumped.why(), config.url());
        } finally {
          connection.abort();
        }
      }
      long delay = ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
      LOG.info("connecting to {} again in {} ms{}", config.url(), delay,
          cursor.isPresent() ? " from cursor " + cursor.getAsLong() : "");
      if (closedLatch.await(delay, TimeUnit.MILLISECONDS)) {
        return;
      }
    }
  }

  /** Returns the time_us of the stored cursor, if it is one of this source's. */
  private static OptionalLong storedCursor(Intake intake) {
    Optional<byte[]> stored = intake.cursor();
    if (stored.isEmpty()) {
      return OptionalLong.empty();
    }
    String text = new String(stored.get(), StandardCharsets.US_ASCII);
    if (text.startsWith(CURSOR_PREFIX)) {
      try {
        long timeUs = Long.parseLong(text.substring(CURSOR_PREFIX.length()));
        if (timeUs >= 0) {
          return OptionalLong.of(timeUs);
        }
      } catch (NumberFormatException e) {
        // falls through to the warning
      }
    }
    LOG.warn("the stored cursor is not a Jetstream cursor ({} bytes); starting from now",
        stored.get().length);
    return OptionalLong.empty();
  }

  /** Returns an open connection, or null after a failure worth retrying (logged). */
  private Connection connect(HttpClient http, OptionalLong cursor) throws InterruptedException {
    URI uri = config.subscribeUri(cursor);
    Connection connection = new Connection();
    current = connection;
    if (closed.get()) {
      return null;
    }
    CompletableFuture<WebSocket> waiting = connection.opening(http.newWebSocketBuilder()
        .connectTimeout(CONNECT_TIMEOUT)
        .buildAsync(uri, connection));
    try {
      waiting.get();
      LOG.info("connected to {}", uri);
      return connection;
    } catch (CancellationException e) {
      return null; // closed
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof WebSocketHandshakeException refused) {
        int status = refused.getResponse().statusCode();
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
          throw new ReplikonException(ReplikonException.Reason.CONNECTION,
              "the Jetstream server refused the WebSocket upgrade with HTTP " + status + ": "
                  + uri, refused);
        }
        LOG.warn("cannot connect to {}: HTTP {}", uri, status);
      } else {
        LOG.warn("cannot connect to {}: {}", uri, cause.toString());
      }
      return null;
    }
  }

  /**
   * What {@link #pump} ends with.
   *
   * @param cursor the time_us of the last event handled, to reconnect from
   * @param received whether the connection delivered any message
   * @param stop true if the source must stop: closed, or the collector closed
   * @param why why the connection ended, for the log
   */
  private record Pumped(OptionalLong cursor, boolean received, boolean stop, String why) {}

  /**
   * Submits the events of {@code connection} until it ends or the source closes.
   *
   * @param cursor the cursor the connection was opened with: events at or below it are skipped
   */
  private Pumped pump(Connection connection, Intake intake, OptionalLong cursor)
      throws InterruptedException {
    long skipUpTo = cursor.orElse(Long.MIN_VALUE);
    OptionalLong handled = cursor;
    List<byte[]> group = new ArrayList<>();
    int taken = 0;
    boolean received = false;
    while (true) {
      Item item;
      if (group.isEmpty() && taken == 0) {
        item = awaitItem(connection);
        if (item == null) {
          return new Pumped(handled, received, false, "nothing arrived for "
              + config.idleTimeout().toMillis() + " ms; dropping the connection as dead");
        }
      } else {
        item = connection.queue.poll();
      }
      if (item instanceof Message message && !closed.get()) {
        taken++;
        received = true;
        OptionalLong timeUs = handle(message.text(), skipUpTo, group);
        if (timeUs.isPresent()) {
          skipUpTo = Math.max(skipUpTo, timeUs.getAsLong());
          handled = OptionalLong.of(skipUpTo);
        }
        if (group.size() < WINDOW) {
          continue;
        }
      }
      if (!group.isEmpty()) {
        Submission submission = Submission.of(group)
            .withCursor((CURSOR_PREFIX + skipUpTo).getBytes(StandardCharsets.US_ASCII));
        try {
          SourceSupport.submit(intake, submission);
        } catch (ReplikonException e) {
          if (e.reason() == ReplikonException.Reason.STORE_CLOSED) {
            LOG.info("the collector closed; {} stops", describe());
            return new Pumped(handled, received, true, "the collector closed");
          }
          throw e;
        }
        group.clear();
      }
      if (closed.get()) {
        return new Pumped(handled, received, true, "closed");
      }
      if (item instanceof Ended ended) {
        return new Pumped(handled, received, false, ended.why());
      }
      if (taken > 0) {
        connection.request(taken);
        taken = 0;
      }
    }
  }

  /**
   * Waits for the next item of {@code connection}, as long as the connection is heard from
   * within the idle timeout (counted from the later of the last frame and the start of the wait).
   *
   * @return the item, or null if the connection stayed silent for the idle timeout
   */
  private Item awaitItem(Connection connection) throws InterruptedException {
    long idleNanos = saturatedNanos(config.idleTimeout());
    long waitingSince = System.nanoTime();
    while (true) {
      long heard = connection.lastHeard;
      long since = heard - waitingSince > 0 ? heard : waitingSince;
      long left = since - System.nanoTime() + idleNanos;
      if (left <= 0) {
        return null;
      }
      Item item = connection.queue.poll(left, TimeUnit.NANOSECONDS);
      if (item != null) {
        return item;
      }
    }
  }

  /** Returns {@code duration} in nanoseconds, at most a quarter of {@link Long#MAX_VALUE}. */
  private static long saturatedNanos(Duration duration) {
    long limit = Long.MAX_VALUE / 4;
    return duration.compareTo(Duration.ofNanos(limit)) > 0 ? limit : duration.toNanos();
  }

  /**
   * Handles one message: adds the encoded transaction of a wanted commit event to {@code group}.
   *
   * @return the message's time_us, empty if it has none (it is then skipped)
   */
  private OptionalLong handle(String text, long skipUpTo, List<byte[]> group) {
    JsonNode event;
    try {
      event = SourceSupport.JSON.readTree(text);
    } catch (JsonProcessingException e) {
      LOG.warn("skipping a message that is not JSON ({}): {}", e.getOriginalMessage(),
          SourceSupport.abbreviate(text));
      return OptionalLong.empty();
    }
    JsonNode time = event == null ? null : event.get("time_us");
    if (time == null || !time.isIntegralNumber() || !time.canConvertToLong()) {
      LOG.warn("skipping a message without a time_us: {}", SourceSupport.abbreviate(text));
      return OptionalLong.empty();
    }
    long timeUs = time.asLong();
    if (timeUs <= skipUpTo) {
      LOG.debug("skipping event {}: at or before the cursor", timeUs);
      return OptionalLong.of(timeUs);
    }
    String kind = event.path("kind").asText("");
    if (!kind.equals("commit")) {
      LOG.debug("ignoring {} event {} of {}", kind, timeUs, event.path("did").asText(""));
      return OptionalLong.of(timeUs);
    }
    JsonNode commit = event.path("commit");
    String collection = commit.path("collection").asText("");
    if (!config.wants(collection)) {
      LOG.debug("ignoring commit event {} of collection {}", timeUs, collection);
      return OptionalLong.of(timeUs);
    }
    String operation = commit.path("operation").asText("");
    String fn = switch (operation) {
      case "create" -> "add-post";
      case "update" -> "update-post";
      case "delete" -> "delete-post";
      default -> null;
    };
    if (fn == null) {
      LOG.warn("skipping commit event {} with an unknown operation '{}'", timeUs, operation);
      return OptionalLong.of(timeUs);
    }
    SourceSupport.encode(fn, text, "event " + timeUs).ifPresent(group::add);
    return OptionalLong.of(timeUs);
  }

  @Override
  public String describe() {
    return "jetstream " + config.url() + " collections=" + String.join(",", config.collections());
  }

  /**
   * Makes {@link #run} submit the events it holds and return, and drops the connection. Does not
   * block.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closedLatch.countDown();
    Connection connection = current;
    if (connection != null) {
      connection.abort();
    }
  }

  /** What the listener hands to {@link #run}. */
  private sealed interface Item permits Message, Ended {}

  /** A complete text message. */
  private record Message(String text) implements Item {}

  /** The end of the connection. */
  private record Ended(String why) implements Item {}

  /**
   * One WebSocket connection: its listener, which the JDK calls one message part at a time, and
   * the queue of complete messages. The JDK calls the listener methods in order, never at once.
   */
  private final class Connection implements WebSocket.Listener {
    final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    /** The {@link System#nanoTime} of the last frame (or the opening), for the idle watchdog. */
    volatile long lastHeard = System.nanoTime();
    private volatile CompletableFuture<WebSocket> opening;
    private volatile CompletableFuture<WebSocket> waiting;
    private StringBuilder parts;
    private boolean tooLong;
    private boolean binaryWarned;

    /**
     * Keeps the future of the opening handshake; returns a copy to wait on, which {@link #abort}
     * cancels (cancelling the JDK's future would not stop the handshake).
     */
    CompletableFuture<WebSocket> opening(CompletableFuture<WebSocket> future) {
      opening = future;
      waiting = future.copy();
      if (closed.get()) {
        abort();
      }
      return waiting;
    }

    /** Asks for {@code n} more messages. */
    void request(int n) {
      CompletableFuture<WebSocket> future = opening;
      if (future != null && future.isDone() && !future.isCompletedExceptionally()) {
        future.join().request(n);
      }
    }

    /** Drops the connection, even one still opening, and ends {@link #pump}. Idempotent. */
    void abort() {
      queue.add(new Ended("closed"));
      CompletableFuture<WebSocket> wait = waiting;
      if (wait != null) {
        wait.cancel(false);
      }
      CompletableFuture<WebSocket> future = opening;
      if (future != null) {
        future.thenAccept(WebSocket::abort);
      }
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      lastHeard = System.nanoTime();
      webSocket.request(WINDOW);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      lastHeard = System.nanoTime();
      if (parts == null && last) {
        queue.add(new Message(data.toString()));
        return null;
      }
      if (parts == null) {
        parts = new StringBuilder();
      }
      if (!tooLong && parts.length() + data.length() > MAX_MESSAGE_CHARS) {
        tooLong = true;
        parts.setLength(0);
      }
      if (!tooLong) {
        parts.append(data);
      }
      if (!last) {
        webSocket.request(1); // a part is not a message: ask for the next part
      } else if (tooLong) {
        LOG.warn("skipping a message longer than {} characters", MAX_MESSAGE_CHARS);
        parts = null;
        tooLong = false;
        webSocket.request(1);
      } else {
        queue.add(new Message(parts.toString()));
        parts = null;
      }
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      lastHeard = System.nanoTime();
      if (!binaryWarned) {
        binaryWarned = true;
        LOG.warn("ignoring binary messages from {} (compressed streams are not supported)",
            config.url());
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
      lastHeard = System.nanoTime(); // the JDK answers with a pong itself
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
      lastHeard = System.nanoTime();
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      queue.add(new Ended("the server closed the connection (" + statusCode
          + (reason.isEmpty() ? "" : " " + reason) + ")"));
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      queue.add(new Ended("the connection failed: " + error));
    }
  }
}
