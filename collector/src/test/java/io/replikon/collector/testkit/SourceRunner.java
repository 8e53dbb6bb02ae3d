package io.replikon.collector.testkit;

import io.replikon.collector.Intake;
import io.replikon.collector.Source;
import java.util.concurrent.CompletableFuture;

/** Runs a {@link Source} on a thread of its own, for tests. */
public final class SourceRunner {
  private SourceRunner() {}

  /**
   * Starts {@code source.run(intake)} on a new daemon thread.
   *
   * @return completes when {@code run} returns, or exceptionally with what it threw
   */
  public static CompletableFuture<Void> start(Source source, Intake intake) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        source.run(intake);
        done.complete(null);
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    }, "source " + source.describe());
    thread.setDaemon(true);
    thread.start();
    return done;
  }
}
