package io.replikon.collector;

import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import io.replikon.value.Hash;
import java.util.concurrent.CompletableFuture;

/**
 * A running collector: events from {@link Source}s go into a durable journal and are committed to
 * one CDVCS in batches, each batch one commit, every {@code flushInterval}, at
 * {@code flushThreshold} events, on {@link #flush} and on {@link #close}. Every accepted event is
 * committed exactly once, across crashes: the commit and the journal position (and source cursor)
 * it reaches are stored in one atomic write, and on start the journal's uncommitted events are
 * committed first; a file source, which is not journaled, resumes from the committed cursor.
 *
 * <p>The collector runs a {@link Peer} of its own (a server peer, or a client pushing to one), so
 * {@code replikon stream} can follow the CDVCS as it grows.
 *
 * <p>Thread-safe.
 */
public interface Collector extends Intake, AutoCloseable {

  /**
   * Starts a collector: starts its peer, creates the CDVCS if no peer holds it, opens the journal
   * and commits what it held uncommitted.
   *
   * @throws io.replikon.error.ReplikonException if the store or the journal cannot be opened, the
   *     journal is damaged and {@link CollectorConfig#repairJournal} is off, or
   *     (with a server to connect to) the server did not answer within the join timeout
   */
  static Collector start(CollectorConfig config) {
    return RunningCollector.start(config);
  }

  /** Returns the CDVCS it commits to. */
  Address address();

  /** Returns its peer (to connect it, ask its status, follow its commits). */
  Peer peer();

  /**
   * Commits every event accepted before the call, in commits of at most the flush threshold.
   *
   * @return the head of the CDVCS afterwards (the last commit made, or the head it had when there
   *     was nothing to commit)
   */
  @Override
  CompletableFuture<Hash> flush();

  /** Returns counts of what it did, for logs and metrics. */
  CollectorStats stats();

  /**
   * Stops taking events, commits every accepted one, closes the journal and the peer. Blocks until
   * done. Idempotent.
   */
  @Override
  void close();
}
