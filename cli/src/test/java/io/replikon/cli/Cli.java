package io.replikon.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Runs the replikon command in-process, on in-memory stdin, stdout and stderr, with
 * REPLIKON_LOG_LEVEL unset unless a test says otherwise (whatever the environment of the build).
 */
final class Cli {
  private Cli() {}

  /** What a run left: its exit code and what it wrote. */
  record Result(int exitCode, String out, String err) {}

  static Result run(String stdin, String... args) {
    return run(new ByteArrayInputStream(stdin.getBytes(UTF_8)), args);
  }

  static Result run(InputStream stdin, String... args) {
    return withLogLevelVariable(null, stdin, args);
  }

  /** Runs as if REPLIKON_LOG_LEVEL were {@code logLevel} (null: unset). */
  static Result withLogLevelVariable(String logLevel, InputStream stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Result result = run(stdin, out, logLevel, args);
    return new Result(result.exitCode(), out.toString(UTF_8), result.err());
  }

  /** Runs with the given stdout; {@link Result#out()} is then empty. */
  static Result run(InputStream stdin, OutputStream stdout, String... args) {
    return run(stdin, stdout, null, args);
  }

  private static Result run(
      InputStream stdin, OutputStream stdout, String logLevel, String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode =
        Main.run(args, new Io(stdin, stdout, new PrintStream(err, true, UTF_8)), logLevel);
    return new Result(exitCode, "", err.toString(UTF_8));
  }
}
