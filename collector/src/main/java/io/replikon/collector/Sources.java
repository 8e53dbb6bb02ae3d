package io.replikon.collector;

/**
 * Creates {@link Source}s. Each source is used once: {@link Source#run} on one thread,
 * {@link Source#close} from any.
 */
public final class Sources {
  private Sources() {}

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
}
