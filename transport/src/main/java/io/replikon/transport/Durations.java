package io.replikon.transport;

import java.time.Duration;
import java.util.Objects;

/** Argument checks for the durations of the configurations. */
final class Durations {
  private Durations() {}

  static void checkNotNegative(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " is negative: " + d);
    }
  }

  static void checkPositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
  }
}
