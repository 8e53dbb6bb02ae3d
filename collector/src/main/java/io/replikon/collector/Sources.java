package io.replikon.collector;

/** Creates the {@link Source}s a collector reads from. */
public final class Sources {
  private Sources() {}

  /** JSON lines from a file or standard input. */
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
}
