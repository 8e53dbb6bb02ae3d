package io.replikon.peer;

import io.replikon.protocol.Message;
import java.time.Duration;
import java.util.Objects;

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
 */
public record EngineConfig(String peerId, Message.Role role, int maxUnackedPublishes,
    int maxQueuedPublishes, int maxCommitsPerPublish, int maxInlineBytes, Duration fetchTimeout) {

  /** Checks the arguments. */
  public EngineConfig {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(fetchTimeout, "fetchTimeout");
    if (maxUnackedPublishes < 1 || maxQueuedPublishes < 1 || maxCommitsPerPublish < 1
        || maxInlineBytes < 0 || maxInlineBytes > Message.MAX_FRAME_BYTES / 2) {
      throw new IllegalArgumentException("limits out of range: " + maxUnackedPublishes + ", "
          + maxQueuedPublishes + ", " + maxCommitsPerPublish + ", " + maxInlineBytes);
    }
  }

  /** Returns the defaults for a peer: 8 unacked, 64 queued, 2,000 commits and 4 MiB a publish. */
  public static EngineConfig defaults(String peerId, Message.Role role) {
    return new EngineConfig(peerId, role, 8, 64, 2_000, 4 << 20, Duration.ofSeconds(30));
  }

  /** Returns a copy with another fetch timeout. */
  public EngineConfig withFetchTimeout(Duration timeout) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes,
        maxCommitsPerPublish, maxInlineBytes, timeout);
  }

  /** Returns a copy with other publish sizes. */
  public EngineConfig withPublishLimits(int commits, int inlineBytes) {
    return new EngineConfig(peerId, role, maxUnackedPublishes, maxQueuedPublishes, commits,
        inlineBytes, fetchTimeout);
  }
}
