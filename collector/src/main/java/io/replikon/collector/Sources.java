package io.replikon.collector;

/**
 * Creates {@link Source}s. Each source is used once: {@link Source#run} on one thread,
 * {@link Source#close} from any.
 */
public final class Sources {
  private Sources() {}

  /** JSON lines from a file or standard input (see {@link JsonLinesConfig}). */
  public static Source jsonLines(JsonLinesConfig config) {
    return new JsonLinesSource(config);
  }

  /**
   * HTTP ingest: binds its port at once (read it with {@link HttpIngest#port}).
   *
   * @throws io.replikon.error.ReplikonException {@code CONNECTION} if the port cannot be bound
   */
  public static HttpIngest http(HttpIngestConfig config) {
    return HttpIngest.start(config);
  }

  /**
   * Returns a source that reads Twitter's v1.1 streaming API with twitter4j: {@code filter} with
   * the configured track words, else {@code sample}. Each status is committed as
   * {@code ["add-tweet", status]}, the status object exactly as received; deletion and limit
   * notices and stall warnings are logged, not committed. Disconnects are retried with
   * twitter4j's backoff. The stream has no resume cursor: what is sent while disconnected is lost.
   */
  public static Source twitter(TwitterSourceConfig config) {
    return new TwitterSource(config);
  }

  /**
   * Returns a source that reads Bluesky Jetstream over a WebSocket. Each commit event of the
   * configured collections is committed as {@code ["add-post", event]} (create),
   * {@code ["update-post", event]} or {@code ["delete-post", event]}, the event object exactly as
   * received. The source resumes after a restart from the cursor of the last journaled
   * submission, and reconnects with exponential backoff.
   */
  public static Source jetstream(JetstreamSourceConfig config) {
    return new JetstreamSource(config);
  }
}
