package io.replikon.peer;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What an engine reports as it works: for logs, metrics and the layers above (a stage that waits
 * for a sync, a realizer that follows new commits). Called on the engine's thread; implementations
 * must be quick and must not call back into the engine. Every method has an empty default.
 */
public interface PeerEvents {
  /** A link said hello. */
  default void connected(Link link, Message.Hello hello) {}

  /** A link proved that it holds {@code key} (this peer guards its reads and asked it to). */
  default void proven(Link link, VerifyingKey key) {}

  /**
   * Commits were refused as {@code forbidden}: a publish whose commit carried a bad signature,
   * was signed by a key that may not write its address, or named another address; or a link
   * whose proof of a key failed or named a key that may not read. Nothing of it was stored.
   * Reported once per refused publish or proof, beside {@link #refused} when the link is closed.
   */
  default void forbidden(Link link, Forbidden kind, String reason) {}

  /**
   * The other peer refused a publish of ours: {@code forbidden} (it will not take these commits:
   * a key it does not list, a client that does not replicate the address) or {@code internal} (its
   * store failed; this peer offers the address again later). The address is no longer offered on
   * that link after {@code forbidden}.
   */
  default void publishRefused(Address address, Link link, Message.ErrorReport error) {}

  /** What a {@code forbidden} refusal was for, as {@link #forbidden} reports it. */
  enum Forbidden {
    /** A commit whose signature does not verify against its signer: forged, or altered. */
    SIGNATURE,
    /** A commit signed by a key that may not write its address (writers file, self-certifying). */
    WRITER,
    /** A commit that names another address than the publish carrying it. */
    ADDRESS,
    /** A link that did not prove a key this peer takes reads from. */
    READER;

    /** Returns the name used in logs and metric labels: lower case, with dashes. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A link closed. */
  default void disconnected(Link link) {}

  /** This engine closed a link because of what the other peer did; {@code reason} says what. */
  default void refused(Link link, Message.ErrorCode code, String reason) {}

  /** The other peer reported an error. */
  default void errorReceived(Link link, Message.ErrorReport error) {}

  /** New commits were stored at an address (from {@code link}, or locally when it is null). */
  default void stored(Address address, Link link, Cdvcs.Preview change) {}

  /**
   * This peer holds every head that {@code link} had for {@code address} when it last published:
   * after a subscribe, the catch-up from that peer is complete.
   */
  default void synced(Address address, Link link) {}

  /**
   * A peer acknowledged a publish of {@code address}: it holds {@code heads} (and their history)
   * in its store now.
   */
  default void acknowledged(Address address, Link link, Set<Hash> heads) {}

  /** Values were fetched from a link. */
  default void fetched(Link link, List<Message.Slice> slices) {}

  /**
   * The store failed on something {@code link} sent or asked for: a write refused (a full disk),
   * or a stored value that cannot be read (a damaged file). The link was answered with an
   * {@code error} {@code internal} that says what failed, and stays open. Called once per
   * failure: a host that logs them should log a repeated failure once.
   */
  default void storeFailed(Link link, ReplikonException failure) {}
}
