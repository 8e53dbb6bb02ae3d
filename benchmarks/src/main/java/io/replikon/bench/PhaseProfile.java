package io.replikon.bench;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A profile of one phase of a harness, written as collapsed stacks (one line per stack, all
 * threads, kernel frames included) when {@code -Dprofile=DIR} is set; nothing otherwise.
 *
 * <p>It drives async-profiler through its Java API, found by reflection, so the benchmarks do not
 * depend on it: put its jar on the class path for such a run, e.g. {@code -cp
 * benchmarks/target/benchmarks.jar:$HOME/.m2/repository/tools/profiler/async-profiler/4.1/async-profiler-4.1.jar}.
 * Each phase goes to {@code DIR/<phase>.collapsed}. {@code -Dprofile.event=wall} samples every
 * thread whether it runs or waits (where a pipeline stalls) instead of CPU time. Not thread safe:
 * one phase at a time.
 */
final class PhaseProfile implements AutoCloseable {
  private static final String DIR = System.getProperty("profile");
  /** What to sample: {@code cpu} (default) or {@code wall} ({@code -Dprofile.event}). */
  private static final String EVENT = System.getProperty("profile.event", "cpu");

  private final Object profiler;
  private final Path file;

  private PhaseProfile(Object profiler, Path file) {
    this.profiler = profiler;
    this.file = file;
  }

  /** Starts profiling {@code phase} if {@code -Dprofile} is set. */
  static PhaseProfile start(String phase) throws Exception {
    if (DIR == null) {
      return new PhaseProfile(null, null);
    }
    Path dir = Files.createDirectories(Path.of(DIR));
    Object profiler;
    try {
      profiler = Class.forName("one.profiler.AsyncProfiler").getMethod("getInstance").invoke(null);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("-Dprofile needs async-profiler's jar on the class path", e);
    }
    execute(profiler, "start,event=" + EVENT + ",interval=1ms,threads");
    return new PhaseProfile(profiler, dir.resolve(phase.replaceAll("[^A-Za-z0-9-]+", "-")
        + ".collapsed"));
  }

  /** Stops profiling and writes the phase's stacks. */
  @Override
  public void close() {
    if (profiler == null) {
      return;
    }
    execute(profiler, "stop,collapsed,file=" + file);
    System.out.println("profile: " + file);
  }

  private static void execute(Object profiler, String command) {
    try {
      Method execute = profiler.getClass().getMethod("execute", String.class);
      execute.invoke(profiler, command);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("async-profiler refused '" + command + "'", e);
    }
  }
}
