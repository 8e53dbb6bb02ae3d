package io.replikon.client.realize;

/**
 * Gives a meaning to the transactions of one {@code fn}: called once per transaction, in
 * realization order, inside the sink transaction that also records it and the applied-log.
 *
 * <p>It runs on the thread realizing (the caller of {@link Realizer#runUntilSynced()} or the live
 * realizer's own thread), never concurrently with another handler of the same realizer. Throwing
 * rolls back the sink transaction in progress and stops the realization: nothing of that batch is
 * applied, and the next run starts again from the last committed batch.
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
