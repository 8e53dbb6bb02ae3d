package io.replikon.transport;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs refusals of connections that never opened (over the cap, no handshake in time) a line per
 * burst, not a line per connection: the first refusal is logged at once, later ones at most once
 * per {@link #QUIET_NANOS} with how many there were since. A flood of connections then costs a
 * few log lines, however large it is.
 *
 * <p>Thread-safe; never blocks beyond the logger.
 */
final class RefusalLog {
  static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final Logger log;
  private final String what;
  private final AtomicLong unlogged = new AtomicLong();
  private final AtomicLong total = new AtomicLong();
  private final AtomicLong nextLogAt = new AtomicLong(System.nanoTime());

  RefusalLog(Logger log, String what) {
    this.log = log;
    this.what = what;
  }

  /** Counts one refusal of {@code remote} and logs it, or it and those before, or nothing. */
  void refused(String remote, String reason) {
    total.incrementAndGet();
    unlogged.incrementAndGet();
    long now = System.nanoTime();
    long due = nextLogAt.get();
    if (now - due >= 0 && nextLogAt.compareAndSet(due, now + QUIET_NANOS)) {
      long n = unlogged.getAndSet(0);
      if (n <= 1) {
        log.warn("{}: refused {}: {}", what, remote, reason);
      } else {
        log.warn("{}: refused {} connections in the last {} s, the latest {}: {}", what, n,
            TimeUnit.NANOSECONDS.toSeconds(QUIET_NANOS), remote, reason);
      }
    }
  }

  /** Returns how many refusals were counted. */
  long total() {
    return total.get();
  }
}
