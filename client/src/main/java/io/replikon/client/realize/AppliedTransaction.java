package io.replikon.client.realize;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.ByteBuilder;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.CborJson;
import io.replikon.value.Hash;
import java.util.Objects;

/**
 * One transaction as it is realized: the commit it belongs to, its index in that commit, and the
 * transaction itself. {@code (commit, index)} identifies it in the whole CDVCS: it is the
 * idempotency key at-least-once sinks hand to their consumers.
 *
 * <p>A realizer reads a transaction's {@code fn} from the chunk and leaves its params encoded
 * until someone asks: {@link #transaction()} decodes them on its first call and keeps the result.
 * The realizer checks every transaction's params before the next one (decoding, transcoding or
 * skipping them), so a malformed one stops the realization whoever asked first. A sink may write
 * them without decoding (the JSON lines sink transcodes them to JSON).
 *
 * <p>Immutable (but for that cached decoding) and thread-safe provided the transaction's params
 * are not changed. Equal when commit, index, commit info and transaction are.
 */
public final class AppliedTransaction {
  private final Hash commit;
  private final int index;
  private final Commit info;
  private final String fn;
  /** The chunk holding the encoded params, or null if the transaction came decoded. */
  private final byte[] encoding;
  private final int paramsOffset;
  /** Where the chunk ends: the params end at or before. */
  private final int limit;
  /** Where the params end; -1 until they are read. */
  private int paramsEnd = -1;
  private volatile Transaction transaction;

  /**
   * A transaction already decoded.
   *
   * @param commit the id of the commit
   * @param index the index of the transaction in the commit, from 0
   * @param transaction the transaction
   * @param info the commit itself (author, time, parents)
   */
  public AppliedTransaction(Hash commit, int index, Transaction transaction, Commit info) {
    this(commit, index, Objects.requireNonNull(transaction, "transaction").fn(), info, null, 0,
        0);
    this.transaction = transaction;
  }

  /**
   * A transaction whose params start at {@code paramsOffset} in {@code encoding} and end by
   * {@code limit}, not read yet.
   */
  AppliedTransaction(Hash commit, int index, String fn, Commit info, byte[] encoding,
      int paramsOffset, int limit) {
    this.commit = Objects.requireNonNull(commit, "commit");
    this.info = Objects.requireNonNull(info, "info");
    this.fn = Objects.requireNonNull(fn, "fn");
    if (index < 0) {
      throw new IllegalArgumentException("index < 0: " + index);
    }
    this.index = index;
    this.encoding = encoding;
    this.paramsOffset = paramsOffset;
    this.limit = limit;
  }

  /** Returns the id of the commit. */
  public Hash commit() {
    return commit;
  }

  /** Returns the index of the transaction in the commit, from 0. */
  public int index() {
    return index;
  }

  /** Returns the transaction, decoding its params on the first call. */
  public Transaction transaction() {
    Transaction t = transaction;
    if (t == null) {
      synchronized (this) {
        t = transaction;
        if (t == null) {
          JsonNode params;
          int end = paramsEnd;
          if (end >= 0) {
            params = CanonicalCbor.decode(encoding, paramsOffset, end - paramsOffset);
          } else { // decoding finds the end: no separate check
            CanonicalCbor.Decoded d = CanonicalCbor.decodeItem(encoding, paramsOffset, limit);
            params = d.value();
            paramsEnd = d.end();
          }
          t = new Transaction(fn, params);
          transaction = t;
        }
      }
    }
    return t;
  }

  /** Returns the commit itself (author, time, parents). */
  public Commit info() {
    return info;
  }

  /** Returns the function name of the transaction. */
  public String fn() {
    return fn;
  }

  /** Returns the idempotency key {@code <commit hex>:<index>}, unique in the CDVCS. */
  public String key() {
    return commit.hex() + ":" + index;
  }

  /** Returns true if the params are at hand encoded (see {@link #writeParamsJson}). */
  boolean encoded() {
    return encoding != null;
  }

  /**
   * Writes the params as JSON text, transcoded from their encoding: what Jackson writes for
   * {@code transaction().params()}. Only if {@link #encoded()}.
   *
   * @throws io.replikon.error.ReplikonException {@code MALFORMED_VALUE} if they are malformed
   */
  void writeParamsJson(ByteBuilder out) {
    writeParamsJson(out, true);
  }

  /**
   * Writes the params as JSON text as {@link #writeParamsJson(ByteBuilder)}, or if not
   * {@code escapeAstral} with code points above U+FFFF as UTF-8: what Jackson's
   * {@code writeValueAsString} writes.
   */
  void writeParamsJson(ByteBuilder out, boolean escapeAstral) {
    int end = CborJson.write(encoding, paramsOffset, paramsEnd >= 0 ? paramsEnd : limit, out,
        escapeAstral);
    paramsEnd = end;
  }

  /**
   * Returns where the params end in the encoding, checking them if that was not done yet.
   *
   * @throws io.replikon.error.ReplikonException {@code MALFORMED_VALUE} if they are malformed
   */
  int paramsEnd() {
    int end = paramsEnd;
    if (end < 0) {
      end = CborJson.skip(encoding, paramsOffset, limit);
      paramsEnd = end;
    }
    return end;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof AppliedTransaction t && t.commit.equals(commit)
        && t.index == index && t.info.equals(info) && t.transaction().equals(transaction());
  }

  @Override
  public int hashCode() {
    return Objects.hash(commit, index, transaction(), info);
  }

  @Override
  public String toString() {
    return "AppliedTransaction[commit=" + commit + ", index=" + index + ", fn=" + fn + "]";
  }
}
