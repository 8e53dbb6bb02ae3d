package io.replikon.client.realize;

import io.replikon.cdvcs.Address;
import java.util.Map;

/**
 * Where a {@link Realizer} applies a CDVCS: a database, a file, a callback. The service provider
 * interface of realization; {@link Sinks} makes the built-in ones.
 *
 * <p>A sink stores the {@link AppliedLog} of each address it realizes. An exactly-once sink
 * commits the effects of a batch and its applied-log in one atomic write, so that after a crash
 * either both or neither are there. A sink that cannot (a callback) says so in
 * {@link #exactlyOnce()}: its consumers get every transaction at least once, with an idempotency
 * key ({@link AppliedTransaction#key()}).
 *
 * <p>Not thread-safe: one realizer uses a sink at a time, from one thread at a time. Its methods
 * do I/O and block. Failures are {@link io.replikon.error.ReplikonException}s, with reason
 * {@code STORE_IO} for I/O.
 *
 * @param <C> what handlers get to write with
 */
public interface Sink<C> extends AutoCloseable {

  /** Returns the applied-log stored for {@code address}; {@link AppliedLog#EMPTY} if none. */
  AppliedLog load(Address address);

  /** Starts a sink transaction: nothing written through it shows until it commits. */
  Batch<C> begin(Address address);

  /**
   * Empties what this sink realized (sink-specific: its tables, its file) and forgets the
   * applied-log, atomically where the sink can.
   */
  void reset(Address address);

  /**
   * Returns the handlers the sink brings for some {@code fn}s (the SQLite sink's
   * {@code add-tweet}); a realizer's own handlers take precedence.
   */
  default Map<String, Handler<C>> defaultHandlers() {
    return Map.of();
  }

  /**
   * Returns true if the sink records the transactions a realizer cannot apply
   * ({@link Batch#reject}), false if such a transaction stops the realization. False by default.
   */
  default boolean recordsRejections() {
    return false;
  }

  /** Returns true if effects and applied-log commit atomically (exactly-once). */
  boolean exactlyOnce();

  /** Releases the sink's resources; a batch still open is rolled back. */
  @Override
  void close();

  /**
   * One sink transaction.
   *
   * @param <C> what handlers get to write with
   */
  interface Batch<C> extends AutoCloseable {
    /**
     * Records what the sink records for every applied transaction (a row, a line, a call) and
     * returns the context the transaction's handler gets.
     */
    C record(AppliedTransaction transaction);

    /**
     * Records a transaction whose handler adds nothing ({@link Handler#recordOnly()}): what
     * {@link #record} records, with no context handed out, so that a sink may write it without
     * decoding its params (the JSON lines sink transcodes them straight to JSON). The default
     * calls {@link #record}.
     */
    default void recordOnly(AppliedTransaction transaction) {
      record(transaction);
    }

    /**
     * Records {@code transaction} as rejected for {@code reason}, instead of {@link #record}: it
     * is not applied, and the rejection commits with the batch (exactly-once where the sink is).
     * Called only if {@link Sink#recordsRejections()}; the default throws
     * {@link UnsupportedOperationException}.
     */
    default void reject(AppliedTransaction transaction, String reason) {
      throw new UnsupportedOperationException("this sink records no rejections");
    }

    /**
     * Makes everything recorded in this batch durable together with {@code log}, the applied-log
     * after it. Called at most once; the batch is finished afterwards.
     */
    void commit(AppliedLog log);

    /** Finishes the batch: rolls back what it recorded unless it committed. */
    @Override
    void close();
  }
}
