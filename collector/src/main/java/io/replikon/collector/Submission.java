package io.replikon.collector;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Events handed to an {@link Intake} at once: each one a transaction already encoded by
 * {@link io.replikon.cdvcs.Chunk#encode} (so the encoding runs on the source's thread), an optional
 * resume cursor of the source, and an optional idempotency key.
 *
 * @param transactions the encoded {@code [fn, params]} transactions, in order; not empty
 * @param cursor where the source resumes after them (see {@link Intake#cursor}), or empty
 * @param idempotencyKey a key of the client's: a submission whose key was journaled before is
 *     acknowledged again, with the count first accepted, without being journaled twice
 * @param replayable whether the source can give these events again from the cursor committed
 *     before them (a file read from an offset): then they are not journaled, only held until
 *     committed, and after a crash the source resumes from the committed cursor ({@link
 *     Intake#cursor}); needs a cursor and no idempotency key
 */
public record Submission(List<byte[]> transactions, Optional<byte[]> cursor,
    Optional<String> idempotencyKey, boolean replayable) {

  /** Checks the arguments. */
  public Submission {
    transactions = List.copyOf(transactions);
    Objects.requireNonNull(cursor, "cursor");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    if (transactions.isEmpty()) {
      throw new IllegalArgumentException("a submission needs at least one event");
    }
    if (replayable && (cursor.isEmpty() || idempotencyKey.isPresent())) {
      throw new IllegalArgumentException("a replayable submission needs a cursor to replay from"
          + " and takes no idempotency key");
    }
  }

  /** Returns a submission of {@code transactions} with no cursor and no key, to be journaled. */
  public static Submission of(List<byte[]> transactions) {
    return new Submission(transactions, Optional.empty(), Optional.empty(), false);
  }

  /** Returns this submission with a resume cursor. */
  public Submission withCursor(byte[] cursor) {
    return new Submission(transactions, Optional.of(cursor), idempotencyKey, replayable);
  }

  /** Returns this submission with an idempotency key. */
  public Submission withIdempotencyKey(String key) {
    return new Submission(transactions, cursor, Optional.of(key), replayable);
  }

  /**
   * Returns this submission marked replayable from its cursor, so the collector does not journal
   * it (see {@link #replayable()}).
   */
  public Submission asReplayable() {
    return new Submission(transactions, cursor, idempotencyKey, true);
  }
}
