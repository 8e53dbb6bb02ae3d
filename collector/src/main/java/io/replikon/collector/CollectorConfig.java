package io.replikon.collector;

import io.replikon.cdvcs.Address;
import io.replikon.client.PeerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a collector runs. Start from {@link #of} and change what you need with the withers.
 *
 * @param peer the peer it runs: a server peer ({@code --port}) or a client peer that pushes to a
 *     server ({@code --connect}); its store holds the CDVCS and the checkpoints
 * @param address the CDVCS the events are committed to (created when no peer holds it yet)
 * @param journal the directory of the write-ahead journal; empty: {@code journal} inside the
 *     peer's store directory (a peer in memory needs one given)
 * @param flushInterval the longest an accepted event waits before it is committed (default 10 s)
 * @param flushThreshold a flush starts as soon as this many events wait, and no commit holds more
 *     but to end a replayable submission, which is committed whole (default 10,000)
 * @param maxPending events accepted and not committed yet beyond which submissions are refused
 *     with {@code OVERLOADED} (default four times the threshold)
 * @param joinTimeout how long a collector with {@code --connect} and no local copy of the address
 *     waits for the server to say whether it has one, before it gives up (default 30 s)
 * @param repairJournal whether a damaged journal (damage with valid records after it) is repaired
 *     at start, dropping the damaged records with a logged count and forgetting their idempotency
 *     keys; otherwise (the default) the start is refused with the file and offset of the damage
 */
public record CollectorConfig(PeerConfig peer, Address address, Optional<Path> journal,
    Duration flushInterval, int flushThreshold, int maxPending, Duration joinTimeout,
    boolean repairJournal) {

  /** Checks the arguments. */
  public CollectorConfig {
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(journal, "journal");
    Objects.requireNonNull(flushInterval, "flushInterval");
    Objects.requireNonNull(joinTimeout, "joinTimeout");
    if (flushInterval.isNegative() || flushInterval.isZero()) {
      throw new IllegalArgumentException("the flush interval must be positive: " + flushInterval);
    }
    if (flushThreshold < 1) {
      throw new IllegalArgumentException("the flush threshold must be at least 1: "
          + flushThreshold);
    }
    if (maxPending < flushThreshold) {
      throw new IllegalArgumentException("max pending " + maxPending
          + " is below the flush threshold " + flushThreshold);
    }
    if (journal.isEmpty() && peer.store().isEmpty()) {
      throw new IllegalArgumentException("a collector on a peer in memory needs a journal"
          + " directory");
    }
  }

  /** A collector committing to {@code address} with the defaults. */
  public static CollectorConfig of(PeerConfig peer, Address address) {
    return new CollectorConfig(peer, address, Optional.empty(), Duration.ofSeconds(10), 10_000,
        40_000, Duration.ofSeconds(30), false);
  }

  /** Returns the journal directory in use. */
  public Path journalDirectory() {
    return journal.orElseGet(() -> peer.store().orElseThrow().resolve("journal"));
  }

  /** Returns this configuration with the journal in {@code dir}. */
  public CollectorConfig withJournal(Path dir) {
    return new CollectorConfig(peer, address, Optional.of(dir), flushInterval, flushThreshold,
        maxPending, joinTimeout, repairJournal);
  }

  /** Returns this configuration with another flush interval. */
  public CollectorConfig withFlushInterval(Duration interval) {
    return new CollectorConfig(peer, address, journal, interval, flushThreshold, maxPending,
        joinTimeout, repairJournal);
  }

  /**
   * Returns this configuration with another flush threshold; max pending follows as four times
   * the threshold unless it was set higher.
   */
  public CollectorConfig withFlushThreshold(int threshold) {
    return new CollectorConfig(peer, address, journal, flushInterval, threshold,
        Math.max(maxPending, 4 * threshold), joinTimeout, repairJournal);
  }

  /** Returns this configuration with another bound on events waiting. */
  public CollectorConfig withMaxPending(int max) {
    return new CollectorConfig(peer, address, journal, flushInterval, flushThreshold, max,
        joinTimeout, repairJournal);
  }

  /** Returns this configuration with another join timeout. */
  public CollectorConfig withJoinTimeout(Duration timeout) {
    return new CollectorConfig(peer, address, journal, flushInterval, flushThreshold, maxPending,
        timeout, repairJournal);
  }

  /**
   * Returns this configuration repairing a damaged journal at start (see {@link
   * #repairJournal()}).
   */
  public CollectorConfig withJournalRepair() {
    return new CollectorConfig(peer, address, journal, flushInterval, flushThreshold, maxPending,
        joinTimeout, true);
  }
}
