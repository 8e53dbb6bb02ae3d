package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrintableTest {
  @Test
  void of_aForgedNewline_isEscapedSoItCannotStartALogLine() {
    String forged = "bob\n02:00:00.000 INFO  RunningPeer - peer admin authenticated";

    assertThat(Printable.of(forged)).doesNotContain("\n").startsWith("bob\\u000a02:00");
  }

  @Test
  void of_aHugeName_isCutToTheBoundWithTheCountLeftOut() {
    String huge = "x".repeat(15 << 20);

    String shown = Printable.of(huge, 10);

    assertThat(shown).isEqualTo("xxxxxxxxxx...(" + ((15 << 20) - 10) + " more chars)");
  }

  @Test
  void of_plainText_isUnchanged() {
    assertThat(Printable.of("peer-82dfc3fd (server) ✓")).isEqualTo("peer-82dfc3fd (server) ✓");
  }

  @Test
  void of_escapesAndBidiOverrides_areShownAsCodes() {
    assertThat(Printable.of("a\u001b[31mb\u202ec\r")).isEqualTo("a\\u001b[31mb\\u202ec\\u000d");
  }

  @Test
  void of_neverCutsASurrogatePairInHalf() {
    assertThat(Printable.of("ab😀cd", 3)).isEqualTo("ab...(4 more chars)");
  }

  @Test
  void of_null_isShownAsNull() {
    assertThat(Printable.of(null)).isEqualTo("null");
  }
}
