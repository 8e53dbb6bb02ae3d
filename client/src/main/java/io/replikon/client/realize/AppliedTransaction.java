package io.replikon.client.realize;

import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.Hash;
import java.util.Objects;

/**
 * One transaction as it is realized: the commit it belongs to, its index in that commit, and the
 * transaction itself. {@code (commit, index)} identifies it in the whole CDVCS: it is the
 * idempotency key at-least-once sinks hand to their consumers.
 *
 * <p>Immutable and thread-safe provided the transaction's params are not changed.
 *
 * @param commit the id of the commit
 * @param index the index of the transaction in the commit, from 0
 * @param transaction the transaction
 * @param info the commit itself (author, time, parents)
 */
public record AppliedTransaction(Hash commit, int index, Transaction transaction, Commit info) {
  /** Checks the arguments. */
  public AppliedTransaction {
    Objects.requireNonNull(commit, "commit");
    Objects.requireNonNull(transaction, "transaction");
    Objects.requireNonNull(info, "info");
    if (index < 0) {
      throw new IllegalArgumentException("index < 0: " + index);
    }
  }

  /** Returns the function name of the transaction. */
  public String fn() {
    return transaction.fn();
  }

  /** Returns the idempotency key {@code <commit hex>:<index>}, unique in the CDVCS. */
  public String key() {
    return commit.hex() + ":" + index;
  }
}
