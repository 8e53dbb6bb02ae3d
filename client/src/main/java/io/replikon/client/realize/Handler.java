package io.replikon.client.realize;

/**
 * Gives a meaning to the transactions of one {@code fn}: called once per transaction, in
 * realization order, inside the sink transaction that also records it and the applied-log.
 *
 * <p>It runs on the thread realizing (the caller of {@link Realizer#runUntilSynced()} or the live
 * realizer's own thread), never concurrently with another handler of the same realizer.
 *
 * <p>A handler that cannot apply a transaction because of what it holds (params of the wrong
 * shape, a status without an id) throws {@link IllegalArgumentException} or a
 * {@link io.replikon.error.ReplikonException} of reason {@code INVALID_INPUT}: a sink that records
 * rejections then records the transaction as rejected instead (what the handler wrote for it is
 * rolled back) and realization goes on, unless the realizer is strict. Throwing anything else (an
 * {@link java.sql.SQLException}, an {@link java.io.IOException}, an {@link IllegalStateException})
 * says the sink or the application failed: the sink transaction in progress is rolled back and the
 * realization stops; the next run starts again from the last committed batch. A handler may be
 * called again for the same transaction after a rollback, as after a crash.
 *
 * @param <C> what the sink hands a handler to write with (see {@link Sink#begin})
 */
@FunctionalInterface
public interface Handler<C> {
  /**
   * Applies one transaction.
   *
   * @param context the sink's context for this transaction; valid only during this call
   * @param transaction the transaction and where it comes from
   * @throws IllegalArgumentException if the transaction cannot be applied for what it holds
   * @throws Exception to stop the realization; the sink transaction is rolled back
   */
  void apply(C context, AppliedTransaction transaction) throws Exception;

  /**
   * Returns a handler that adds nothing to what the sink records for every transaction (a row in
   * {@code ops}, a JSON line, a callback call): it only accepts the {@code fn}. The sink records
   * such a transaction with {@link Sink.Batch#recordOnly}, which may skip decoding its params.
   */
  @SuppressWarnings("unchecked")
  static <C> Handler<C> recordOnly() {
    return (Handler<C>) RecordOnly.HANDLER; // one instance: realizers recognize it
  }
}
