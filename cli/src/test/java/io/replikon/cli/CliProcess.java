package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The replikon command as a process of its own (the way a user runs it), with no REPLIKON_
 * variable from the build's environment, its stdout and stderr read line by line.
 */
final class CliProcess implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuilder output = new StringBuilder();
  private final Thread reader;

  private CliProcess(Process process) {
    this.process = process;
    this.reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (output) {
            output.append(line).append('\n');
          }
          lines.add(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    }, "cli-process-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code replikon ARGS}. */
  static CliProcess start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("REPLIKON_"));
    return new CliProcess(builder.start());
  }

  /** Waits for a line in which {@code pattern} is found, and returns its match. */
  Matcher await(Pattern pattern) throws InterruptedException {
    while (true) {
      String line = lines.poll(60, TimeUnit.SECONDS);
      assertThat(line).as("no line matching %s: %s", pattern, output()).isNotNull();
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        return m;
      }
    }
  }

  /** Sends the process a signal by name (HUP, TERM...) with kill(1). */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0)
        .as("kill -%s %d", name, process.pid()).isTrue();
  }

  /** Runs {@code replikon ARGS} to its end (at most 60 s): its exit code and everything it wrote. */
  static Cli.Result runToEnd(String... args) throws IOException, InterruptedException {
    try (CliProcess p = start(args)) {
      int code = p.exitCode();
      return new Cli.Result(code, p.output(), "");
    }
  }

  /**
   * Waits up to 60 s for the process to exit on its own and returns its exit code; fails the test
   * if it is still running then (a peer that should have refused to start, say).
   */
  int exitCode() throws InterruptedException {
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("still running: %s", output()).isTrue();
    reader.join(5_000);
    return process.exitValue();
  }

  /** Everything the process wrote so far. */
  String output() {
    synchronized (output) {
      return output.toString();
    }
  }

  /** Stops the process with SIGTERM (a clean stop), or kills it after 30 s. */
  @Override
  public void close() {
    process.toHandle().destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
      reader.join(5_000);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
