package io.replikon.collector;

/**
 * Where events come from: a Twitter stream, Bluesky Jetstream, JSON lines, HTTP requests. A source
 * reads its input and hands events to an {@link Intake}; acknowledging the input (an HTTP 202, a
 * cursor) only after the intake accepted them.
 *
 * <p>Create sources with {@link Sources}.
 */
public interface Source extends AutoCloseable {

  /**
   * Reads the input and submits its events, until the input ends (a file without
   * {@code --follow}) or {@link #close} is called. Blocks the calling thread.
   *
   * @throws Exception if the input cannot be read at all (a missing file, a bad URL); transient
   *     failures of a stream are retried inside, with backoff, and logged
   */
  void run(Intake intake) throws Exception;

  /** Returns what it reads, for logs: {@code jsonl /path/file}, {@code http :8080}. */
  String describe();

  /** Stops {@link #run}: it returns soon after. Idempotent. */
  @Override
  void close();
}
