package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import org.junit.jupiter.api.Test;

/** How {@link Sinks#postgresql} reads the URL it is given (no server needed). */
class PostgresSinkTest {
  @Test
  void target_jdbcUrl_isTakenAsIs_withBatchRewriting() {
    PostgresSink.Target t = PostgresSink.target("jdbc:postgresql://db:5433/tweets?user=u");
    assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5433/tweets?user=u");
    assertThat(t.properties().getProperty("reWriteBatchedInserts")).isEqualTo("true");
    assertThat(t.name()).isEqualTo("jdbc:postgresql://db:5433/tweets");
  }

  @Test
  void target_libpqUri_becomesJdbc_withUserAndPasswordAsProperties() {
    PostgresSink.Target t =
        PostgresSink.target("postgresql://al%40ice:p%3Ass+w@db:5433/tweets?sslmode=require");
    assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5433/tweets?sslmode=require");
    assertThat(t.properties().getProperty("user")).isEqualTo("al@ice");
    assertThat(t.properties().getProperty("password")).isEqualTo("p:ss+w");
    assertThat(t.name()).doesNotContain("ss").isEqualTo("jdbc:postgresql://db:5433/tweets");
  }

  @Test
  void target_postgresScheme_andNoUser_areAccepted() {
    PostgresSink.Target t = PostgresSink.target("postgres://db/tweets");
    assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db/tweets");
    assertThat(t.properties().getProperty("user")).isNull();
    assertThat(PostgresSink.target("postgresql://bob@db").jdbcUrl())
        .isEqualTo("jdbc:postgresql://db");
  }

  @Test
  void target_otherScheme_isInvalidInput_withoutEchoingTheUrl() {
    assertThatThrownBy(() -> PostgresSink.target("mysql://u:secret@db/x"))
        .isInstanceOf(ReplikonException.class)
        .hasMessageNotContaining("secret")
        .extracting(e -> ((ReplikonException) e).reason())
        .isEqualTo(ReplikonException.Reason.INVALID_INPUT);
  }

  @Test
  void hasNulEscape_findsTheEscapeOfU0000_notAnEscapedBackslashBeforeIt() {
    assertThat(PostgresSink.hasNulEscape("{\"t\":\"a\\u0000b\"}")).isTrue();
    assertThat(PostgresSink.hasNulEscape("{\"t\":\"a\\\\u0000b\"}")).isFalse();
    assertThat(PostgresSink.hasNulEscape("{\"t\":\"a\\u00001\"}")).isTrue();
    assertThat(PostgresSink.hasNulEscape("{\"t\":\"\\\\\\u0000\"}")).isTrue();
    assertThat(PostgresSink.hasNulEscape("\\u0001 \\n")).isFalse();
  }

  @Test
  void missingPostgres_skips_butFailsWhenRequired() {
    assertThatThrownBy(() -> PostgresServer.assumeAvailable(false, "no initdb; test skipped",
        null)).isInstanceOf(org.opentest4j.TestAbortedException.class);
    assertThatThrownBy(() -> PostgresServer.assumeAvailable(false, "no initdb; test skipped",
        "0")).isInstanceOf(org.opentest4j.TestAbortedException.class);
    assertThatThrownBy(() -> PostgresServer.assumeAvailable(false, "no initdb; test skipped",
        "1")).isInstanceOf(AssertionError.class)
        .hasMessage("no initdb; REPLIKON_REQUIRE_POSTGRES=1 requires PostgreSQL");
    PostgresServer.assumeAvailable(true, "no initdb; test skipped", "1");
  }
}
