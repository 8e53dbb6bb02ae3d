package io.replikon.peer;

import io.replikon.protocol.Message;
import io.replikon.trust.Challenge;
import io.replikon.trust.SigningKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How a {@link PeerEngine} behaves.
 *
 * @param peerId this peer's id, sent in hello
 * @param role server (stores and relays everything, extends subscriptions) or client
 * @param maxUnackedPublishes publishes sent on a link and not yet acknowledged, at most; more wait
 * @param maxQueuedPublishes publishes received on a link and not yet stored before reading from it
 *     is suspended; twice this many and the link is closed as overloaded
 * @param maxCommitsPerPublish commit entries in one publish, at most
 * @param maxInlineBytes values carried inline in one publish, at most (the rest is fetched)
 * @param fetchTimeout how long a fetch may go unanswered before the link is closed
 * @param limits what one link may make this peer hold (see {@link LinkLimits})
 * @param trust this peer's key and who may write and read (see {@link Trust})
 */
public record EngineConfig(String peerId, Message.Role role, int maxUnackedPublishes,
    int maxQueuedPublishes, int maxCommitsPerPublish, int maxInlineBytes, Duration fetchTimeout,
    LinkLimits limits, Trust trust) {

  /**
   * Who this peer is and whom it trusts.
   *
   * @param key the key that signs this peer's commits and proves it to peers that guard reads
   * @param access who may write and read, read at each decision (a peer that reloads its lists
   *     hands a supplier of the latest); thread-safe, quick, never blocking
   * @param challenges where the challenges of this peer's hellos come from (random; tests inject
   *     fixed ones)
   */
  public record Trust(SigningKey key, Supplier<AccessPolicy> access,
      Supplier<Challenge> challenges) {
    /** Checks the arguments. */
    public Trust {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(access, "access");
      Objects.requireNonNull(challenges, "challenges");
    }

    /** Returns the trust of a peer with this key, open to every valid signature and reader. */
    public static Trust of(SigningKey key) {
      return new Trust(key, AccessPolicy::open, Challenge::random);
    }

    /** Returns a copy with another access policy. */
    public Trust withAccess(Supplier<AccessPolicy> policy) {
      return new Trust(key, policy, challenges);
    }
  }

  /**
   * What one link may make this peer hold. A link that passes one of these bounds is answered
   * with an {@code error} and closed, and the refusal is reported ({@link PeerEvents#refused});
   * every other link goes on.
   *
   * @param maxSubscriptions addresses one link may subscribe to or publish, in all, at most: a
   *     subscribe (or a publish of a new address) that would pass it is refused whole, with
   *     {@code overloaded}. A server mesh whose peers hold more CDVCSs needs a larger value, since
   *     a server subscribes to every address it holds on its server links.
   * @param maxHashesPerFetch hashes in one fetch, at most (after removing repeats); a larger
   *     fetch is refused with {@code too-large}
   * @param maxFetchesInFlight fetches of one link received and not yet answered in full, at most
   *     (they are answered one reply at a time while the link drains); one more is refused with
   *     {@code overloaded}
   * @param helloTimeout how long a link may stay open without sending {@code hello}; then it is
   *     closed with {@code protocol}
   * @param maxPeerIdChars the longest peer id accepted in a {@code hello}; a longer one is refused
   *     with {@code malformed}
   */
  public record LinkLimits(int maxSubscriptions, int maxHashesPerFetch, int maxFetchesInFlight,
      Duration helloTimeout, int maxPeerIdChars) {
    /** Checks the arguments. */
    public LinkLimits {
      Objects.requireNonNull(helloTimeout, "helloTimeout");
      if (maxSubscriptions < 1 || maxHashesPerFetch < 1 || maxFetchesInFlight < 1
          || maxPeerIdChars < 1 || helloTimeout.isNegative() || helloTimeout.isZero()) {
        throw new IllegalArgumentException("link limits out of range: " + maxSubscriptions + ", "
            + maxHashesPerFetch + ", " + maxFetchesInFlight + ", " + helloTimeout + ", "
            + maxPeerIdChars);
      }
    }

    /**
     * Returns the defaults: 1,000 addresses, 64 hashes a fetch, 16 fetches in flight, hello within
     * 10 s, peer ids of at most 256 characters.
     */
    public static LinkLimits defaults() {
      return new LinkLimits(1_000, 64, 16, Duration.ofSeconds(10), 256);
    }

    /** Returns a copy with another cap on addresses per link. */
    public LinkLimits withMaxSubscriptions(int max) {
      return new LinkLimits(max, maxHashesPerFetch, maxFetchesInFlight, helloTimeout,
          maxPeerIdChars);
    }

    /** Returns a copy with other caps on fetches: hashes in one, and fetches in flight. */
    public LinkLimits withFetchLimits(int hashes, int inFlight) {
      return new LinkLimits(maxSubscriptions, hashes, inFlight, helloTimeout, maxPeerIdChars);
    }

    /** Returns a copy with another hello timeout. */
    public LinkLimits withHelloTimeout(Duration timeout) {
      return new LinkLimits(maxSubscriptions, maxHashesPerFetch, maxFetchesInFlight, timeout,
          maxPeerIdChars);
    }
  }

  /** Checks the arguments. */
  public EngineConfig {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(fetchTimeout, "fetchTimeout");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(trust, "trust");
    if (peerId.getBytes(StandardCharsets.UTF_8).length > Message.MAX_PEER_ID_BYTES) {
      throw new IllegalArgumentException("a peer id has at most " + Message.MAX_PEER_ID_BYTES
          + " UTF-8 bytes, got " + peerId.getBytes(StandardCharsets.UTF_8).length);
    }
    if (maxUnackedPublishes < 1 || maxQueuedPublishes < 1 || maxCommitsPerPublish < 1
        || maxCommitsPerPublish > Message.MAX_COMMITS_PER_PUBLISH
        || maxInlineBytes < 0 || maxInlineBytes > Message.MAX_FRAME_BYTES / 2) {
      throw new IllegalArgumentException("limits out of range: " + maxUnackedPublishes + ", "
          + maxQueuedPublishes + ", " + maxCommitsPerPublish + ", " + maxInlineBytes);
    }
  }

  /**
   * Returns the defaults for a peer: 8 unacked, 64 queued, 2,000 commits and 4 MiB a publish, and
   * {@link LinkLimits#defaults()}, a new key of its own and open access.
   */
  public static EngineConfig defaults(String peerId, Message.Role role) {
    return new EngineConfig(peerId, role, 8, 64, 2_000, 4 << 20, Duration.ofSeconds(30),
        LinkLimits.defaults(), Trust.of(SigningKey.generate()));
  }

  /** Returns a copy with another trust. */
  public EngineConfig withTrust(Trust other) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes,
        maxCommitsPerPublish, maxInlineBytes, fetchTimeout, limits, other);
  }

  /** Returns a copy with another fetch timeout. */
  public EngineConfig withFetchTimeout(Duration timeout) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes,
        maxCommitsPerPublish, maxInlineBytes, timeout, limits, trust);
  }

  /** Returns a copy with other publish sizes. */
  public EngineConfig withPublishLimits(int commits, int inlineBytes) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes, commits,
        inlineBytes, fetchTimeout, limits, trust);
  }

  /** Returns a copy with other link limits. */
  public EngineConfig withLinkLimits(LinkLimits linkLimits) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes,
        maxCommitsPerPublish, maxInlineBytes, fetchTimeout, linkLimits, trust);
  }
}
