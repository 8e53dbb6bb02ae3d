package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.client.realize.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ProgressDisplayTest {

  @Test
  void line_showsCountsRateAndEta() {
    Progress p = new Progress(25, 25_000, 100, Duration.ofSeconds(5));
    assertThat(ProgressDisplay.line(p))
        .isEqualTo("applied 25/100 commits, 25,000 transactions (5,000 tx/s), ETA 15 s");
    assertThat(ProgressDisplay.line(new Progress(100, 1_000, 100, Duration.ofSeconds(1))))
        .doesNotContain("ETA");
  }

  @Test
  void bar_fillsWithTheShareOfCommits() {
    assertThat(ProgressDisplay.bar(new Progress(0, 0, 10, Duration.ZERO)))
        .isEqualTo("[" + ".".repeat(30) + "]");
    assertThat(ProgressDisplay.bar(new Progress(5, 0, 10, Duration.ZERO)))
        .isEqualTo("[" + "#".repeat(15) + ".".repeat(15) + "]");
    assertThat(ProgressDisplay.bar(new Progress(10, 0, 10, Duration.ZERO)))
        .isEqualTo("[" + "#".repeat(30) + "]");
  }

  @Test
  void show_onATerminal_redrawsOneLine_andFinishEndsIt() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ProgressDisplay d = new ProgressDisplay(new PrintStream(out, true, StandardCharsets.UTF_8),
        LoggerFactory.getLogger(ProgressDisplayTest.class));
    d.show(new Progress(1, 10, 2, Duration.ofSeconds(1)));
    d.show(new Progress(2, 20, 2, Duration.ofSeconds(2)));
    d.finish();
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).startsWith("\r[").endsWith("\n");
    assertThat(text.chars().filter(c -> c == '\n').count()).isEqualTo(1);
    assertThat(text).contains("applied 2/2 commits");
  }
}
