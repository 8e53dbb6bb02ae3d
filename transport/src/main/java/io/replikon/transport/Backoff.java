package io.replikon.transport;

import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with full jitter: the n-th delay (from 0) is uniform in
 * [0, min(cap, base * 2^n)], so that peers cut off together do not come back together.
 *
 * <p>Not thread-safe; a {@link ReconnectingDialer} uses it from one thread.
 */
final class Backoff {
  private final long baseNanos;
  private final long capNanos;
  private final Random random;
  private int attempt;

  Backoff(Duration base, Duration cap, Random random) {
    this.baseNanos = base.toNanos();
    this.capNanos = cap.toNanos();
    this.random = random;
  }

  /** Returns the upper bound of the next delay, in nanoseconds. */
  long ceilingNanos() {
    int doublings = Math.min(attempt, 62);
    long ceiling = baseNanos << doublings;
    if (ceiling >>> doublings != baseNanos || ceiling <= 0) {
      return capNanos;
    }
    return Math.min(capNanos, ceiling);
  }

  /** Returns the next delay, in nanoseconds, and counts the attempt. */
  long nextDelayNanos() {
    long ceiling = ceilingNanos();
    if (attempt < Integer.MAX_VALUE) {
      attempt++;
    }
    return ceiling == Long.MAX_VALUE ? random.nextLong(ceiling) : random.nextLong(ceiling + 1);
  }

  /** Starts over from the base delay. */
  void reset() {
    attempt = 0;
  }
}
