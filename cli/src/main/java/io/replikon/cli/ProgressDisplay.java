package io.replikon.cli;

import io.replikon.client.realize.Progress;
import java.io.PrintStream;
import java.util.Locale;
import org.slf4j.Logger;

/**
 * Shows the progress of a long realization: a bar redrawn in place when stderr is a terminal, a
 * log line every few seconds otherwise (so that logs stay readable).
 */
final class ProgressDisplay {
  private static final int WIDTH = 30;
  private final PrintStream terminal;
  private final Logger log;
  private boolean drawn;

  /**
   * @param terminal where to draw the bar, or null to log instead
   * @param log where the lines go when there is no terminal
   */
  ProgressDisplay(PrintStream terminal, Logger log) {
    this.terminal = terminal;
    this.log = log;
  }

  /** Returns a display that draws on stderr if it is a terminal, and logs otherwise. */
  static ProgressDisplay forStderr(Logger log) {
    return new ProgressDisplay(System.console() != null ? System.err : null, log);
  }

  /** Shows {@code p}. */
  void show(Progress p) {
    if (terminal == null) {
      log.info(line(p));
    } else {
      terminal.print("\r" + bar(p) + " " + line(p) + "\u001b[K");
      terminal.flush();
      drawn = true;
    }
  }

  /** Ends the bar's line, if one was drawn. */
  void finish() {
    if (drawn) {
      terminal.println();
      drawn = false;
    }
  }

  /** {@code [#########.....................]}, filled by the share of commits applied. */
  static String bar(Progress p) {
    double share = p.commitsTotal() <= 0 ? 1.0
        : Math.min(1.0, (double) p.commitsApplied() / p.commitsTotal());
    int filled = (int) Math.round(share * WIDTH);
    return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "]";
  }

  /** {@code applied 45/100 commits, 45,000 transactions (12,000 tx/s), ETA 5 s}. */
  static String line(Progress p) {
    double seconds = Math.max(0.001, p.elapsed().toMillis() / 1000.0);
    long rate = Math.round(p.transactionsApplied() / seconds);
    long left = Math.max(0, p.commitsTotal() - p.commitsApplied());
    String eta = p.commitsApplied() == 0 || left == 0 ? ""
        : String.format(Locale.ROOT, ", ETA %.0f s", left * seconds / p.commitsApplied());
    return String.format(Locale.ROOT, "applied %,d/%,d commits, %,d transactions (%,d tx/s)%s",
        p.commitsApplied(), p.commitsTotal(), p.transactionsApplied(), rate, eta);
  }
}
