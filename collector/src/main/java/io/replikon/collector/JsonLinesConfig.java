package io.replikon.collector;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A JSON-lines source: one JSON value a line, each committed as {@code [fn, <the value>]}.
 *
 * @param file the file to read; empty: standard input
 * @param fn the transaction function of each line (default {@code add-tweet})
 * @param follow keep reading what is appended to the file, as {@code tail -f} (a file only)
 * @param pollInterval how often a followed file is checked for new lines
 */
public record JsonLinesConfig(Optional<Path> file, String fn, boolean follow,
    Duration pollInterval) {

  /** Checks the arguments. */
  public JsonLinesConfig {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(fn, "fn");
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (fn.isEmpty()) {
      throw new IllegalArgumentException("the transaction function must not be empty");
    }
    if (follow && file.isEmpty()) {
      throw new IllegalArgumentException("--follow needs a file, not standard input");
    }
  }

  /** Reads {@code file} once, as {@code add-tweet} transactions. */
  public static JsonLinesConfig file(Path file) {
    return new JsonLinesConfig(Optional.of(file), "add-tweet", false, Duration.ofMillis(200));
  }

  /** Reads standard input, as {@code add-tweet} transactions. */
  public static JsonLinesConfig stdin() {
    return new JsonLinesConfig(Optional.empty(), "add-tweet", false, Duration.ofMillis(200));
  }

  /** Returns this configuration with another transaction function. */
  public JsonLinesConfig withFn(String name) {
    return new JsonLinesConfig(file, name, follow, pollInterval);
  }

  /** Returns this configuration following the file as it grows. */
  public JsonLinesConfig following() {
    return new JsonLinesConfig(file, fn, true, pollInterval);
  }
}
