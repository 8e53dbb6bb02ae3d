package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final long MS = 1_000_000;

  @Test
  void ceiling_doublesFromBaseUpToCap() {
    Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), new Random(1));
    long[] expected = {200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000};
    for (long e : expected) {
      assertThat(b.ceilingNanos()).isEqualTo(e * MS);
      b.nextDelayNanos();
    }
    for (int i = 0; i < 100; i++) {
      b.nextDelayNanos();
    }
    assertThat(b.ceilingNanos()).as("no overflow after many attempts").isEqualTo(30_000 * MS);
  }

  @RepeatedTest(20)
  void nextDelay_staysWithinTheCeilingAndVaries() {
    Backoff b = new Backoff(Duration.ofMillis(10), Duration.ofMillis(80), new Random());
    long[] delays = new long[50];
    for (int i = 0; i < delays.length; i++) {
      long ceiling = b.ceilingNanos();
      delays[i] = b.nextDelayNanos();
      assertThat(delays[i]).isBetween(0L, ceiling);
    }
    assertThat(java.util.Arrays.stream(delays).distinct().count()).isGreaterThan(1);
  }

  @Test
  void reset_startsOverFromBase() {
    Backoff b = new Backoff(Duration.ofMillis(10), Duration.ofSeconds(1), new Random(2));
    for (int i = 0; i < 5; i++) {
      b.nextDelayNanos();
    }
    assertThat(b.ceilingNanos()).isEqualTo(320 * MS);
    b.reset();
    assertThat(b.ceilingNanos()).isEqualTo(10 * MS);
  }
}
