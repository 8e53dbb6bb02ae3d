package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class MainTest {
  /** Stdin that fails as a bug would: with an unchecked exception. */
  private static final InputStream BUGGY =
      new InputStream() {
        @Override
        public int read() {
          throw new IllegalStateException("boom");
        }
      };

  @Test
  void helpSaysWhatReplikonIsAndListsTheCommands() {
    Cli.Result result = Cli.run("", "--help");

    assertThat(result.out())
        .startsWith("replikon: a CRDT replication peer for the JVM.")
        .contains("Usage: replikon [-hV] [--log-level=LEVEL] COMMAND")
        .containsPattern("Commands:\\n  demo +Run the whole pipeline")
        .containsPattern("\\n  collect +Collect events into a CDVCS")
        .containsPattern("\\n  hash +Print the canonical CBOR encoding");
    assertThat(result.err()).isEmpty();
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void versionIsTheProjectVersion() {
    String expected = System.getProperty("replikon.expectedVersion");
    assertThat(expected).as("set by the surefire configuration in cli/pom.xml").isNotBlank();

    Cli.Result result = Cli.run("", "--version");

    assertThat(result.out()).startsWith("replikon " + expected + "\n");
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void hashHelpDocumentsBlankLinesAndExitStatus() {
    Cli.Result result = Cli.run("", "hash", "--help");

    assertThat(result.out())
        .contains("Usage: replikon hash")
        .contains("Blank lines")
        .contains("Exit status:");
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Result result = Cli.run("");

    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo("replikon: missing command (see 'replikon --help')\n");
    assertThat(result.exitCode()).isEqualTo(2);
  }

  @Test
  void anUnknownOptionIsOneLineOnStderr() {
    Cli.Result result = Cli.run("", "hash", "--frobnicate");

    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .isEqualTo("replikon: Unknown option: '--frobnicate' (see 'replikon hash --help')\n");
    assertThat(result.exitCode()).isEqualTo(2);
  }

  @Test
  void aMistypedCommandGetsASuggestion() {
    Cli.Result result = Cli.run("", "hahs");

    assertThat(result.err()).contains("'hahs'").contains("did you mean 'hash'?").hasLineCount(1);
    assertThat(result.exitCode()).isEqualTo(2);
  }

  @Test
  void anUnknownLogLevelIsAUsageError() {
    Cli.Result result = Cli.run("", "--log-level=loud", "hash");

    assertThat(result.err())
        .isEqualTo(
            "replikon: Invalid value for option '--log-level': 'loud' is not a log level: use "
                + "error, warn, info, debug or trace (see 'replikon --help')\n");
    assertThat(result.exitCode()).isEqualTo(2);
  }

  @Test
  void theLogLevelOptionWorksBeforeAndAfterTheCommandInAnyCase() {
    Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.classic.Logger logback = (ch.qos.logback.classic.Logger) root;

    Cli.run("", "--log-level=WARN", "hash");
    assertThat(logback.getLevel()).isEqualTo(Level.WARN);
    Cli.run("", "hash", "--log-level", "trace");
    assertThat(logback.getLevel()).isEqualTo(Level.TRACE);
    Cli.run("", "hash", "--log-level=info");
    assertThat(logback.getLevel()).isEqualTo(Level.INFO);
  }

  @Test
  void theEnvironmentVariableSetsTheLogLevelAndTheOptionOverridesIt() {
    ch.qos.logback.classic.Logger root =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    InputStream none = InputStream.nullInputStream();

    Cli.withLogLevelVariable("Debug", none, "hash");
    assertThat(root.getLevel()).isEqualTo(Level.DEBUG);
    Cli.withLogLevelVariable("debug", none, "hash", "--log-level=error");
    assertThat(root.getLevel()).isEqualTo(Level.ERROR);
    Cli.withLogLevelVariable(null, none, "hash");
    assertThat(root.getLevel()).isEqualTo(Level.INFO);
  }

  @Test
  void aBadEnvironmentVariableIsReportedButDoesNotStopTheCommand() {
    Cli.Result result = Cli.withLogLevelVariable("nope", InputStream.nullInputStream(), "--help");

    assertThat(result.out()).startsWith("replikon: a CRDT replication peer");
    assertThat(result.err())
        .isEqualTo(
            "replikon: ignoring REPLIKON_LOG_LEVEL: 'nope' is not a log level: use error, warn, "
                + "info, debug or trace\n");
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void aBugIsOneLineWithoutStackTraceAtInfo() {
    Cli.Result result = Cli.run(BUGGY, new ByteArrayOutputStream(), "hash", "--log-level=info");

    assertThat(result.err())
        .isEqualTo(
            "replikon: internal error: boom (java.lang.IllegalStateException; "
                + "--log-level=debug shows the stack trace)\n");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void theStackTraceShowsAtDebug() {
    Cli.Result result = Cli.run(BUGGY, new ByteArrayOutputStream(), "hash", "--log-level=debug");
    Cli.run("", "hash", "--log-level=info");

    assertThat(result.err())
        .startsWith("replikon: boom\njava.lang.IllegalStateException: boom\n")
        .contains("\tat io.replikon.cli.HashCommand");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void logbackConfigurationLoadsCleanlyAndLogsToStderr() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);

    // Logback prints its status messages on stdout when its configuration has a problem.
    assertThat(new StatusUtil(context).getHighestLevel(0)).isLessThan(Status.WARN);
    Appender<?> appender = root.getAppender("STDERR");
    assertThat(appender).isInstanceOf(ConsoleAppender.class);
    assertThat(((ConsoleAppender<?>) appender).getTarget()).isEqualTo("System.err");
  }
}
