package io.replikon.collector;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where a {@link Source} hands its events: the collector's durable journal. An event is accepted
 * once it is in the journal (written and fsynced); from then on the collector commits it exactly
 * once, across crashes and restarts. A {@linkplain Submission#replayable() replayable} submission
 * (a file the source can read again from its cursor) is accepted at once and not journaled: it is
 * committed exactly once because a crash before its commit makes the source read it again.
 *
 * <p>Thread-safe: several sources or threads may submit at once; concurrent submissions are
 * journaled with one fsync (group commit).
 */
public interface Intake {

  /**
   * Journals the events of {@code submission}, all or none (a replayable one is only queued).
   *
   * @return completes once they are durable (a replayable one: at once), with the count accepted;
   *     fails with {@code OVERLOADED} when the collector holds too many events not yet committed
   *     (the caller retries later, or waits with {@link #awaitCapacity}), {@code STORE_CLOSED}
   *     once the collector is closed, {@code STORE_IO} if the journal cannot be written, or
   *     {@code INVALID_INPUT} if its idempotency key was journaled (or is on its way) with other
   *     events (compared by a fingerprint of the encoded events)
   */
  CompletableFuture<Accepted> submit(Submission submission);

  /**
   * Blocks until the collector can take more events without answering {@code OVERLOADED}, or it
   * closes: the next submission of the calling thread is then admitted, unless other threads
   * submitted meanwhile. For sources that can wait (files, streams); an HTTP source answers 503 instead.
   *
   * @throws InterruptedException if the waiting thread is interrupted
   */
  void awaitCapacity() throws InterruptedException;

  /**
   * Asks for every event accepted so far to be committed now instead of at the next interval.
   *
   * @return the head of the CDVCS once they are
   */
  CompletableFuture<io.replikon.value.Hash> flush();

  /**
   * Returns where a source that can resume (a file offset, a Jetstream {@code time_us}) starts
   * again after a restart: the cursor of the last submission journaled with one, or of the last
   * commit if nothing newer was journaled (so a replayable submission lost in a crash is read
   * again). While running, the cursor of the last submission accepted. Empty if none was.
   */
  Optional<byte[]> cursor();
}
