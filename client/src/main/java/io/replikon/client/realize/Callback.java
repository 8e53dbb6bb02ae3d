package io.replikon.client.realize;

/**
 * Receives the transactions of a callback sink ({@link Sinks#callback}), one call per applied
 * transaction, in realization order.
 *
 * <p><b>At-least-once:</b> the callback's effects cannot commit atomically with the applied-log,
 * so after a failure or a crash the transactions since the last recorded batch are delivered
 * again. Deduplicate with {@link AppliedTransaction#key()} (commit id, transaction index), which
 * is unique in the CDVCS. Throwing stops the realization; the batch is delivered again next time.
 *
 * <p>Called on the realizing thread, never concurrently.
 */
@FunctionalInterface
public interface Callback {
  /** Consumes one transaction. */
  void accept(AppliedTransaction transaction) throws Exception;
}
