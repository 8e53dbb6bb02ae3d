package io.replikon.error;

import java.util.Objects;

/**
 * The one domain failure of replikon: something the caller asked for cannot be done, for a
 * {@link Reason} the caller can switch on.
 *
 * <p>Programming errors (a null argument, a call in the wrong state) are not reported this way;
 * they stay {@link IllegalArgumentException} and {@link IllegalStateException}. Asynchronous calls
 * complete their future exceptionally with this exception.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ReplikonException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why an operation failed. */
  public enum Reason {
    /** The store directory is held by another process (or another open store in this one). */
    STORE_LOCKED,
    /** The directory exists, is not empty and is not a replikon store; it is left untouched. */
    NOT_A_STORE,
    /** The store does not exist where it was expected (read-only commands never create one). */
    STORE_MISSING,
    /** The store was written by a newer or incompatible format version. */
    STORE_VERSION,
    /** The storage backend failed to read or write. */
    STORE_IO,
    /** The store has been closed. */
    STORE_CLOSED,
    /** Bytes are not a well-formed value (malformed or non-canonical CBOR, bad JSON). */
    MALFORMED_VALUE,
    /** Content does not hash to the id it was announced under. */
    HASH_MISMATCH,
    /** A commit, chunk or value that an operation needs is not stored. */
    MISSING_CONTENT,
    /** No CRDT is stored at the address. */
    UNKNOWN_ADDRESS,
    /** A CRDT already exists at the address. */
    ADDRESS_EXISTS,
    /** The CDVCS has several heads; a merge must come first. */
    CONFLICTED,
    /** A pull would not be a fast-forward and no induced conflict was allowed. */
    NOT_FAST_FORWARD,
    /** The heads given to a merge are not the heads of the CDVCS. */
    STALE_HEADS,
    /** An argument is outside what the data model accepts (too large, wrong shape). */
    INVALID_INPUT,
    /** A peer sent a message that breaks the protocol: an unknown kind, a message out of turn. */
    PROTOCOL,
    /** The other peer speaks another protocol version. */
    VERSION_MISMATCH,
    /** A frame or message is larger than the protocol allows. */
    TOO_LARGE,
    /** A peer sent more than it may have outstanding (backpressure limits). */
    OVERLOADED,
    /** The other peer refused access to an address. */
    FORBIDDEN,
    /** A connection could not be made, failed, or closed before an answer came. */
    CONNECTION
  }

  private final Reason reason;

  /**
   * Creates an exception.
   *
   * @param reason why the operation failed
   * @param message a sentence for a person: what failed and what to do about it
   */
  public ReplikonException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * Creates an exception with the failure that caused it.
   *
   * @param reason why the operation failed
   * @param message a sentence for a person: what failed and what to do about it
   * @param cause the underlying failure
   */
  public ReplikonException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Returns why the operation failed. */
  public Reason reason() {
    return reason;
  }
}
