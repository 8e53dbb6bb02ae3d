package io.replikon.client.realize;

import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Streams a CDVCS held by a {@link Peer} into a {@link Sink}: every transaction of every commit,
 * parents before children (by generation, then id: the same order on every peer), each handed to
 * the {@link Handler} registered for its {@code fn}. What is applied is recorded in the sink's
 * {@link AppliedLog}, in the same sink transaction as the effects, so a run resumes where the last
 * one committed. A {@code fn} with no handler stops the run with a
 * {@link io.replikon.error.ReplikonException} of reason {@code INVALID_INPUT} naming it and the
 * commit, unless the realizer skips unknown {@code fn}s.
 *
 * <p>A transaction that cannot be applied for what it holds (its handler throws
 * {@link IllegalArgumentException} or a {@link io.replikon.error.ReplikonException} of reason
 * {@code INVALID_INPUT}, or the sink cannot store its params) is recorded as rejected by a sink
 * that records rejections ({@link Sink#recordsRejections()}: the SQL sinks' {@code rejected}
 * table), in the same sink transaction as the applied-log, and realization goes on; with
 * {@link Builder#strict(boolean)}, or a sink that records none, it stops the run with an
 * {@code INVALID_INPUT} exception naming the commit, the transaction's index and its {@code fn}.
 * Any other failure (the database, I/O, a handler's {@link IllegalStateException}) stops the run,
 * and the next run resumes from the last committed batch.
 *
 * <p>Several heads (a conflict) do not stop realization: the commits of every side are realized
 * and the {@code onConflict} hook is told.
 *
 * <p>Thread-safe in that its methods may be called from any thread, but one run at a time: a
 * second {@link #runUntilSynced()}, {@link #reset()} or {@link #start()} while one is in progress
 * throws {@link IllegalStateException}.
 */
public interface Realizer {

  /**
   * Catch-up: waits until the peer is caught up on the address (unless the builder turned
   * {@code syncFirst} off), then realizes everything the peer holds and returns. Blocks the
   * caller, who runs the handlers.
   *
   * @return the progress at the end of the run
   * @throws io.replikon.error.ReplikonException {@code CONNECTION} if the peer did not catch up
   *     within the sync timeout, {@code INVALID_INPUT} for an unknown {@code fn},
   *     {@code MISSING_CONTENT} if the sink has applied commits the peer does not hold, or what a
   *     handler or the sink threw
   */
  Progress runUntilSynced();

  /**
   * Live: realizes what the peer holds, then each new commit as the peer stores it, on a thread of
   * the realizer's own, until the returned handle is closed or a failure stops it. Returns at once.
   */
  Live start();

  /**
   * Empties the sink and its applied-log for the address, then realizes the whole history again
   * as {@link #runUntilSynced()} does. Blocks.
   */
  Progress reset();

  /** Returns a builder for a realizer of {@code address} held by {@code peer} into {@code sink}. */
  static <C> Builder<C> builder(Peer peer, Address address, Sink<C> sink) {
    return new Builder<>(peer, address, sink);
  }

  /** A running live realizer. Thread-safe. */
  interface Live extends AutoCloseable {
    /**
     * Completes normally once the realizer stopped after {@link #close()}, exceptionally with what
     * stopped it otherwise.
     */
    CompletableFuture<Void> stopped();

    /**
     * Stops: lets the batch in progress finish (it commits), then ends the thread. Blocks until it
     * has ended. Does not close the sink.
     */
    @Override
    void close();
  }

  /**
   * Configures a realizer. Not thread-safe; {@link #build()} may be called more than once.
   *
   * @param <C> what the sink hands handlers
   */
  final class Builder<C> {
    final Peer peer;
    final Address address;
    final Sink<C> sink;
    final Map<String, Handler<C>> handlers = new HashMap<>();
    boolean skipUnknown;
    boolean strict;
    Consumer<Conflict> onConflict = conflict -> { };
    Consumer<Progress> onProgress = progress -> { };
    Duration progressInterval = Duration.ofSeconds(1);
    int batchSize = 5_000;
    boolean syncFirst = true;
    Duration syncTimeout = Duration.ofMinutes(5);

    Builder(Peer peer, Address address, Sink<C> sink) {
      this.peer = Objects.requireNonNull(peer, "peer");
      this.address = Objects.requireNonNull(address, "address");
      this.sink = Objects.requireNonNull(sink, "sink");
      handlers.putAll(sink.defaultHandlers());
    }

    /** Registers the handler of {@code fn}, replacing the sink's default for it if any. */
    public Builder<C> handle(String fn, Handler<C> handler) {
      Objects.requireNonNull(fn, "fn");
      handlers.put(fn, Objects.requireNonNull(handler, "handler"));
      return this;
    }

    /** Accepts {@code fns} with {@link Handler#recordOnly()}: the sink records them, no more. */
    public Builder<C> accept(String... fns) {
      for (String fn : fns) {
        handle(fn, Handler.recordOnly());
      }
      return this;
    }

    /**
     * Skips transactions whose {@code fn} has no handler (they are counted as applied and not
     * recorded) instead of stopping. Off by default.
     */
    public Builder<C> skipUnknown(boolean skip) {
      this.skipUnknown = skip;
      return this;
    }

    /**
     * Stops at a transaction that cannot be applied (see {@link Realizer}) instead of recording
     * it as rejected and going on. Off by default; sinks that record no rejections always stop.
     */
    public Builder<C> strict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /**
     * Calls {@code hook} on the realizing thread when, after realizing, the CDVCS has several heads
     * (once per distinct set of heads).
     */
    public Builder<C> onConflict(Consumer<Conflict> hook) {
      this.onConflict = Objects.requireNonNull(hook, "hook");
      return this;
    }

    /**
     * Calls {@code listener} on the realizing thread after a batch commits, at most once per
     * {@code interval}, and at the end of each catch-up.
     */
    public Builder<C> onProgress(Duration interval, Consumer<Progress> listener) {
      this.progressInterval = Objects.requireNonNull(interval, "interval");
      this.onProgress = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets how many transactions (and at most how many commits) one sink transaction holds; 5,000
     * by default. A commit larger than that is split, its position recorded in the applied-log.
     */
    public Builder<C> batchSize(int transactions) {
      if (transactions < 1) {
        throw new IllegalArgumentException("batch size < 1: " + transactions);
      }
      this.batchSize = transactions;
      return this;
    }

    /**
     * Whether a run first subscribes the peer to the address and waits until it is caught up (on
     * by default). Turn it off for a peer with no connection, which never catches up: it then
     * realizes what it holds.
     */
    public Builder<C> syncFirst(boolean sync) {
      this.syncFirst = sync;
      return this;
    }

    /** Sets how long a run waits for the peer to catch up; 5 minutes by default. */
    public Builder<C> syncTimeout(Duration timeout) {
      this.syncTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Returns the realizer. */
    public Realizer build() {
      return new DefaultRealizer<>(this);
    }
  }
}
