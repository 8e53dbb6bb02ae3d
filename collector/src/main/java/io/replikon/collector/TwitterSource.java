package io.replikon.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import twitter4j.ConnectionLifeCycleListener;
import twitter4j.FilterQuery;
import twitter4j.RawStreamListener;
import twitter4j.StallWarning;
import twitter4j.Status;
import twitter4j.StatusDeletionNotice;
import twitter4j.StatusListener;
import twitter4j.TwitterException;
import twitter4j.TwitterStream;
import twitter4j.TwitterStreamFactory;
import twitter4j.conf.ConfigurationBuilder;

/**
 * Reads Twitter's v1.1 streaming API ({@code statuses/filter} with track words, else
 * {@code statuses/sample}) with twitter4j-stream, and submits each status as the transaction
 * {@code ["add-tweet", status]}, {@code status} the JSON object exactly as received.
 *
 * <h2>Design</h2>
 *
 * <p>Threads: twitter4j reads the connection on its consumer thread and calls the listener on its
 * dispatcher thread (one per JVM, shared by all streams, so the listener never blocks). The
 * listener parses each line with Jackson and queues the encoded statuses; {@link #run} takes
 * whatever has arrived (at most {@value #MAX_GROUP} statuses), submits it, waits until it is
 * journaled, and repeats. The v1.1 protocol has no flow control and no resume: when the intake
 * is slower than the stream, statuses wait in memory (Twitter disconnected such clients with a
 * stall warning first), and statuses sent while disconnected are lost.
 *
 * <p>Classification follows twitter4j's ({@code JSONObjectType}): an object without
 * {@code sender} and with a non-null {@code text} is a status. The raw line is what is committed,
 * so a status twitter4j fails to parse (an unexpected date format) is still committed. Deletion
 * and limit notices, stall warnings and scrub_geo notices are logged, one line each, and not
 * committed; other messages (blank keep-alive lines, unknown events) are dropped.
 *
 * <p>Reconnects are twitter4j's: after a TCP error or the end of the stream it waits 250 ms,
 * doubling to 16 s; after an HTTP error 10 s, doubling to 240 s. Each disconnect is logged. An
 * HTTP 403 or 406 stops twitter4j for good; then {@link #run} fails with {@code CONNECTION}.
 *
 * <p>Closing: {@link #close} only wakes {@link #run}, which returns after submitting what it holds
 * and hands twitter4j's {@code shutdown} to a daemon thread, because that call blocks while the
 * consumer is in a read (until the next line or twitter4j's 40 s read timeout). twitter4j's
 * threads are started as daemon threads, so a lingering one does not keep the JVM alive.
 *
 * <p>twitter4j logs through SLF4J: loading this class sets the system property
 * {@code twitter4j.loggerFactory} to {@code twitter4j.SLF4JLoggerFactory} unless it is set. That
 * takes effect only if no twitter4j class was initialized before.
 *
 * <p>Thread-safe: {@link #close} may be called from any thread; {@link #run} runs once.
 */
final class TwitterSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(TwitterSource.class);

  /** The function name of the committed transactions. */
  static final String FN = "add-tweet";

  /** The most statuses in one submission. */
  static final int MAX_GROUP = 500;

  static {
    if (System.getProperty("twitter4j.loggerFactory") == null) {
      System.setProperty("twitter4j.loggerFactory", "twitter4j.SLF4JLoggerFactory");
    }
  }

  /** What the listener hands to {@link #run}. */
  private sealed interface Item permits Tweet, Stop {}

  /** One encoded status. */
  private record Tweet(byte[] transaction) implements Item {}

  /** The end of the stream: closed by {@link #close}, or stopped by twitter4j for good. */
  private record Stop(Optional<ReplikonException> failure) implements Item {}

  private final TwitterSourceConfig config;
  private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  TwitterSource(TwitterSourceConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Connects and submits statuses until {@link #close}.
   *
   * @throws ReplikonException with reason {@code CONNECTION} if twitter4j gives up for good (HTTP
   *     403 or 406); what the intake fails with other than {@code OVERLOADED} and
   *     {@code STORE_CLOSED} (on {@code STORE_CLOSED} it returns)
   * @throws InterruptedException if the thread is interrupted
   * @throws IllegalStateException if called twice
   */
  @Override
  public void run(Intake intake) throws InterruptedException {
    Objects.requireNonNull(intake, "intake");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("a source runs once");
    }
    TwitterStream twitterStream = new TwitterStreamFactory(twitter4jConfiguration()).getInstance();
    Listener listener = new Listener();
    twitterStream.addListener(listener);
    twitterStream.addConnectionLifeCycleListener(listener);
    if (closed.get()) {
      return;
    }
    LOG.info("reading {}", describe());
    try {
      startOnDaemonThread(twitterStream);
      pump(intake);
    } finally {
      shutDownInBackground(twitterStream);
    }
  }

  /**
   * Starts the stream from a daemon thread: twitter4j's consumer thread inherits that, so a
   * consumer still blocked in a read after {@code shutdown} does not keep the JVM alive.
   */
  private void startOnDaemonThread(TwitterStream twitterStream) throws InterruptedException {
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    Thread starter = new Thread(() -> {
      try {
        if (config.track().isEmpty()) {
          twitterStream.sample();
        } else {
          twitterStream.filter(new FilterQuery().track(config.track().toArray(String[]::new)));
        }
      } catch (RuntimeException e) {
        failure.set(e);
      }
    }, "twitter4j-start");
    starter.setDaemon(true);
    starter.start();
    starter.join();
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  /**
   * Calls {@code shutdown} on a daemon thread of its own: it blocks while twitter4j's consumer is
   * in a read (the JDK's chunked stream holds a lock across read and close), that is until the
   * next line arrives or twitter4j's 40 s streaming read timeout.
   */
  private static void shutDownInBackground(TwitterStream twitterStream) {
    Thread stopper = new Thread(twitterStream::shutdown, "twitter4j-shutdown");
    stopper.setDaemon(true);
    stopper.start();
  }

  private void pump(Intake intake) throws InterruptedException {
    List<byte[]> group = new ArrayList<>();
    while (true) {
      Item item = queue.take();
      while (item instanceof Tweet tweet) {
        group.add(tweet.transaction());
        item = group.size() < MAX_GROUP ? queue.poll() : null;
      }
      if (!group.isEmpty()) {
        try {
          SourceSupport.submit(intake, Submission.of(group));
        } catch (ReplikonException e) {
          if (e.reason() == ReplikonException.Reason.STORE_CLOSED) {
            LOG.info("the collector closed; {} stops", describe());
            return;
          }
          throw e;
        }
        group.clear();
      }
      if (item instanceof Stop stop) {
        if (stop.failure().isPresent()) {
          throw stop.failure().get();
        }
        return;
      }
    }
  }

  private twitter4j.conf.Configuration twitter4jConfiguration() {
    TwitterCredentials credentials = config.credentials();
    ConfigurationBuilder builder = new ConfigurationBuilder()
        .setDebugEnabled(false)
        .setJSONStoreEnabled(false)
        .setOAuthConsumerKey(credentials.consumerKey())
        .setOAuthConsumerSecret(credentials.consumerSecret())
        .setOAuthAccessToken(credentials.accessToken())
        .setOAuthAccessTokenSecret(credentials.accessTokenSecret());
    config.streamBaseUrl().ifPresent(url -> builder
        .setStreamBaseURL(url.toString())
        .setUserStreamBaseURL(url.toString())
        .setSiteStreamBaseURL(url.toString()));
    return builder.build();
  }

  @Override
  public String describe() {
    String what = config.track().isEmpty()
        ? "sample" : "filter track=" + String.join(",", config.track());
    return "twitter " + what + " at " + config.effectiveStreamBaseUrl();
  }

  /**
   * Makes {@link #run} submit the statuses already received, shut the stream down and return.
   * Does not block.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    queue.add(new Stop(Optional.empty()));
  }

  /**
   * Called by twitter4j: lines on its dispatcher thread, connection events on its consumer thread.
   */
  private final class Listener
      implements RawStreamListener, StatusListener, ConnectionLifeCycleListener {
    private volatile TwitterException fatal;

    @Override
    public void onMessage(String rawJson) {
      if (closed.get()) {
        return;
      }
      JsonNode message;
      try {
        message = SourceSupport.JSON.readTree(rawJson);
      } catch (JsonProcessingException e) {
        LOG.warn("skipping a stream line that is not JSON ({}): {}", e.getOriginalMessage(),
            SourceSupport.abbreviate(rawJson));
        return;
      }
      if (message == null || !message.isObject() || message.hasNonNull("sender")
          || !message.hasNonNull("text")) {
        return; // keep-alive, notice (logged by the callbacks below) or another event
      }
      SourceSupport.encode(FN, rawJson, "status " + message.path("id"))
          .ifPresent(tx -> queue.add(new Tweet(tx)));
    }

    @Override
    public void onStatus(Status status) {
      // committed from its raw JSON in onMessage
    }

    @Override
    public void onDeletionNotice(StatusDeletionNotice notice) {
      LOG.info("deletion notice (not committed): status {} of user {}", notice.getStatusId(),
          notice.getUserId());
    }

    @Override
    public void onTrackLimitationNotice(int withheld) {
      LOG.info("limit notice (not committed): {} matching statuses withheld since connecting",
          withheld);
    }

    @Override
    public void onScrubGeo(long userId, long upToStatusId) {
      LOG.info("scrub_geo notice (not committed): user {} up to status {}", userId,
          upToStatusId);
    }

    @Override
    public void onStallWarning(StallWarning warning) {
      LOG.warn("stall warning (not committed): {} {} ({}% of the queue full)", warning.getCode(),
          warning.getMessage(), warning.getPercentFull());
    }

    @Override
    public void onException(Exception e) {
      if (closed.get()) {
        return;
      }
      if (e instanceof TwitterException te
          && (te.getStatusCode() == 403 || te.getStatusCode() == 406)) {
        fatal = te;
      }
      LOG.warn("twitter stream: {}", e.toString());
    }

    @Override
    public void onConnect() {
      LOG.info("connected to {}", config.effectiveStreamBaseUrl());
    }

    @Override
    public void onDisconnect() {
      if (!closed.get()) {
        LOG.warn("disconnected from {}; twitter4j reconnects with backoff",
            config.effectiveStreamBaseUrl());
      }
    }

    @Override
    public void onCleanUp() {
      if (closed.get()) {
        return;
      }
      // twitter4j stops only when told to or for good (HTTP 403/406, an unexpected error).
      TwitterException cause = fatal;
      String why = cause == null ? "twitter4j stopped the stream"
          : "the server refused the stream with HTTP " + cause.getStatusCode() + ": "
              + cause.getMessage();
      queue.add(new Stop(Optional.of(new ReplikonException(ReplikonException.Reason.CONNECTION,
          why + " (" + describe() + ")", cause))));
    }
  }
}
