package io.replikon.client.realize;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.client.Peer;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Printable;
import io.replikon.value.Hash;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: realization as a resumable walk.
 *
 * Order. Peer.commitsAfter(address, frontier) lists the commits not reachable from the applied
 * frontier, parents first, by generation then id. Applying them in that order keeps the applied
 * set closed under ancestry, which is what lets the applied-log be a frontier: after a commit is
 * applied in full its parents leave the frontier and it enters (heads maintenance). A merge comes
 * after both sides because its generation is above both.
 *
 * Batches. Transactions are applied in sink transactions of at most batchSize transactions (and
 * batchSize commits, so that runs of empty commits also commit). A commit cut by a batch boundary
 * is recorded as the partial position (commit, transactions applied). Each batch commits its
 * effects together with the applied-log after it: exactly-once for sinks that can do that
 * atomically, at-least-once for the others. A failure (a handler throwing, the sink failing, an
 * unknown fn) rolls the open batch back and ends the run; the next run starts from the last
 * committed log.
 *
 * Rejections. A transaction that cannot be applied for what it holds (the handler or the sink
 * says so: see Handler) is, unless strict, recorded by a sink that can (Sink#recordsRejections)
 * instead of applied. Its handler may have written part of its effects, and a JDBC batch cannot
 * take one row back, so the whole open batch is rolled back and the round is run again from the
 * last committed log with that transaction marked: when the replay reaches it, it is recorded as
 * rejected (its handler is not called again) and the batch commits right after it. Each good
 * transaction is thus applied at most twice (once rolled back), and a rejection costs at most one
 * batch of work. If the replay fails earlier (a handler that does not fail the same way twice),
 * the earlier transaction is marked instead: the mark only moves back within the uncommitted
 * batch, so the replays end. Counters are restored to the last commit before a replay.
 *
 * Resume. A run loads the log, checks the peer holds its commits (commitsAfter ignores frontier
 * commits it does not know, which would replay the whole history: that is an error instead), asks
 * for the commits after the frontier and moves the partly applied commit, if any, to the front: its
 * parents are applied, and new commits that arrived since may sort before it.
 *
 * Live. A thread of the realizer's own runs rounds; Peer.onStored only releases a semaphore (the
 * listener runs on the engine thread and must not wait), and the thread runs another round when it
 * is released. Stopping sets a flag and releases it too; the thread is never interrupted, so a
 * sink's I/O (FileChannel, JDBC) is never cut in the middle.
 *
 * Catch-up. Peer.subscribe completes when the first catch-up of an address is done; a second
 * subscribe of the same address starts no catch-up and never completes. So the first future is
 * kept per peer and address (weakly, by peer) and shared by every run of every realizer: once
 * caught up, a peer stays up to date while connected, and later runs realize what it holds. A peer
 * subscribed by someone else before the first realizer runs needs syncFirst(false).
 *
 * Conflicts. After each round, if the CDVCS has several heads, the hook gets the heads, the lowest
 * common ancestors of each pair and, for each head, the commits reachable from it and from no
 * other head (commitsAfter with the other heads as frontier). Realization goes on regardless.
 */
final class DefaultRealizer<C> implements Realizer {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultRealizer.class);
  private static final Map<Peer, Map<Address, CompletableFuture<Void>>> SUBSCRIPTIONS =
      new WeakHashMap<>();

  private final Peer peer;
  private final Address address;
  private final Sink<C> sink;
  private final Map<String, Handler<C>> handlers;
  private final boolean skipUnknown;
  private final boolean strict;
  private final Consumer<Conflict> onConflict;
  private final Consumer<Progress> onProgress;
  private final Duration progressInterval;
  private final int batchSize;
  private final boolean syncFirst;
  private final Duration syncTimeout;
  private final AtomicBoolean running = new AtomicBoolean();
  private Set<Hash> reportedHeads = Set.of();

  DefaultRealizer(Realizer.Builder<C> b) {
    this.peer = b.peer;
    this.address = b.address;
    this.sink = b.sink;
    this.handlers = Map.copyOf(b.handlers);
    this.skipUnknown = b.skipUnknown;
    this.strict = b.strict;
    this.onConflict = b.onConflict;
    this.onProgress = b.onProgress;
    this.progressInterval = b.progressInterval;
    this.batchSize = b.batchSize;
    this.syncFirst = b.syncFirst;
    this.syncTimeout = b.syncTimeout;
  }

  @Override
  public Progress runUntilSynced() {
    enter();
    try {
      Run run = new Run();
      if (syncFirst) {
        awaitSync(() -> false);
      }
      run.round(() -> false);
      return run.report(true);
    } finally {
      running.set(false);
    }
  }

  @Override
  public Progress reset() {
    enter();
    try {
      Run run = new Run();
      if (syncFirst) {
        awaitSync(() -> false);
      }
      sink.reset(address);
      reportedHeads = Set.of();
      run.round(() -> false);
      return run.report(true);
    } finally {
      running.set(false);
    }
  }

  @Override
  public Live start() {
    enter();
    LiveRun live = new LiveRun();
    live.thread.start();
    return live;
  }

  private void enter() {
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("a realization of " + address + " is running already");
    }
  }

  /** Subscribes and waits for catch-up, checking {@code stop} every 100 ms. */
  private void awaitSync(java.util.function.BooleanSupplier stop) {
    CompletableFuture<Void> synced;
    synchronized (SUBSCRIPTIONS) {
      // A peer completes only the first subscribe of an address (a second one starts no new
      // catch-up), so runs of every realizer on one peer share the first future.
      synced = SUBSCRIPTIONS.computeIfAbsent(peer, p -> new HashMap<>())
          .computeIfAbsent(address, peer::subscribe);
    }
    long deadline = System.nanoTime() + syncTimeout.toNanos();
    while (!stop.getAsBoolean()) {
      try {
        synced.get(100, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException e) {
        if (System.nanoTime() - deadline > 0) {
          throw new ReplikonException(Reason.CONNECTION, "the peer did not catch up on "
              + address + " within " + syncTimeout + ": is it connected to a peer holding it?");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ReplikonException(Reason.CONNECTION, "interrupted waiting for catch-up", e);
      } catch (ExecutionException e) {
        throw unwrap(e);
      }
    }
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ReplikonException(Reason.CONNECTION, "interrupted waiting for the peer", e);
    } catch (ExecutionException e) {
      throw unwrap(e);
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    if (e.getCause() instanceof RuntimeException r) {
      return r;
    }
    return new ReplikonException(Reason.CONNECTION, "the peer failed: " + e.getCause(), e);
  }

  /** The counters of one run. Used by one thread. */
  private final class Run {
    final long started = System.nanoTime();
    long commits;
    long transactions;
    long total;
    long lastReport = started;

    /** The counters at the last committed batch, restored before a replay. */
    long committedCommits;
    long committedTransactions;

    /** Realizes what the peer holds now, recording (unless strict) what cannot be applied. */
    void round(java.util.function.BooleanSupplier stop) {
      Rejection marked = null;
      while (true) {
        try {
          round(stop, marked);
          return;
        } catch (Rejection r) {
          // the open batch is rolled back: replay it, recording r's transaction as rejected
          commits = committedCommits;
          transactions = committedTransactions;
          marked = r;
        }
      }
    }

    private void round(java.util.function.BooleanSupplier stop, Rejection marked) {
      committedCommits = commits;
      committedTransactions = transactions;
      AppliedLog log = sink.load(address);
      checkHeld(log);
      List<Hash> todo = new ArrayList<>(await(peer.commitsAfter(address, log.frontier())));
      if (log.partial().isPresent()) {
        Hash partial = log.partial().get().commit();
        if (!todo.remove(partial)) {
          throw new ReplikonException(Reason.MISSING_CONTENT, "the sink has applied part of "
              + "commit " + partial.shortHex() + ", which is not after its frontier in " + address
              + " on this peer: is it the sink of another CDVCS?");
        }
        todo.add(0, partial);
      }
      total = commits + todo.size();
      Sink.Batch<C> batch = null;
      try {
        int inBatch = 0;
        int commitsInBatch = 0;
        boolean commitNow = false;
        for (Hash id : todo) {
          if (stop.getAsBoolean() && batch == null) {
            return;
          }
          Commit commit = peer.commit(id);
          TransactionReader txs = new TransactionReader(id, commit, peer.chunks(commit));
          int count = txs.size();
          int from = log.partial().filter(p -> p.commit().equals(id))
              .map(AppliedLog.Position::applied).orElse(0);
          if (from > count) {
            throw new ReplikonException(Reason.MISSING_CONTENT, "the applied-log says "
                + from + " transactions of commit " + id.shortHex() + " are applied; it has "
                + count);
          }
          for (int i = 0; i < from; i++) {
            txs.skip();
          }
          for (int i = from; i < count; i++) {
            if (batch == null) {
              batch = sink.begin(address);
            }
            AppliedTransaction t = txs.next();
            if (marked != null && marked.index == i && marked.commit.equals(id)) {
              batch.reject(t, marked.reason);
              LOG.warn("rejected transaction {} of commit {} (fn '{}') in {}: {}", i,
                  id.shortHex(), Printable.of(t.fn()), address, Printable.of(marked.reason));
              marked = null;
              commitNow = true; // the rejection is recorded before anything after it is tried
            } else {
              apply(batch, t);
            }
            inBatch++;
            transactions++;
            if ((inBatch >= batchSize || commitNow) && i + 1 < count) {
              log = log.within(id, i + 1);
              commitBatch(batch, log);
              batch = null;
              inBatch = 0;
              commitsInBatch = 0;
              commitNow = false;
            }
          }
          txs.finish();
          if (batch == null) {
            batch = sink.begin(address);
          }
          log = log.advance(id, commit.parents());
          commits++;
          commitsInBatch++;
          if (inBatch >= batchSize || commitsInBatch >= batchSize || commitNow) {
            commitBatch(batch, log);
            batch = null;
            inBatch = 0;
            commitsInBatch = 0;
            commitNow = false;
          }
        }
        if (batch != null) {
          commitBatch(batch, log);
          batch = null;
        }
      } finally {
        if (batch != null) {
          batch.close();
        }
      }
      reportConflict();
    }

    private void apply(Sink.Batch<C> batch, AppliedTransaction t) {
      Handler<C> handler = handlers.get(t.fn());
      if (handler == null) {
        if (skipUnknown) {
          return;
        }
        throw new ReplikonException(Reason.INVALID_INPUT, "no handler for fn '" + t.fn()
            + "' (transaction " + t.index() + " of commit " + t.commit().hex() + " in "
            + address + "): register one, or skip unknown fns");
      }
      C context;
      try {
        if (handler == RecordOnly.HANDLER) {
          batch.recordOnly(t);
          return;
        }
        context = batch.record(t);
      } catch (ReplikonException e) {
        if (e.reason() != Reason.INVALID_INPUT) {
          throw e;
        }
        throw cannotApply(t, e.getMessage(), e); // the sink cannot store it (its params)
      }
      try {
        handler.apply(context, t);
      } catch (ReplikonException e) {
        if (e.reason() != Reason.INVALID_INPUT) {
          throw e; // the sink or the database failed: stop, resume later
        }
        throw cannotApply(t, e.getMessage(), e);
      } catch (IllegalArgumentException e) {
        throw cannotApply(t, e.toString(), e);
      } catch (Exception e) {
        Reason reason = e instanceof SQLException || e instanceof IOException
            ? Reason.STORE_IO : Reason.INVALID_INPUT;
        throw new ReplikonException(reason, "the handler of fn '" + t.fn() + "' failed on "
            + "transaction " + t.index() + " of commit " + t.commit().hex() + ": " + e, e);
      }
    }

    /**
     * Returns what to throw for a transaction that cannot be applied for what it holds: a
     * {@link Rejection} (replay, recording it) unless strict or the sink records none.
     */
    private RuntimeException cannotApply(AppliedTransaction t, String reason, Exception cause) {
      if (!strict && sink.recordsRejections()) {
        return new Rejection(t.commit(), t.index(), reason);
      }
      return new ReplikonException(Reason.INVALID_INPUT, "cannot apply transaction " + t.index()
          + " of commit " + t.commit().hex() + " (fn '" + t.fn() + "') in " + address + ": "
          + reason, cause);
    }

    private void commitBatch(Sink.Batch<C> batch, AppliedLog log) {
      try (batch) {
        batch.commit(log);
      }
      committedCommits = commits;
      committedTransactions = transactions;
      report(false);
    }

    Progress report(boolean always) {
      long now = System.nanoTime();
      Progress p = new Progress(commits, transactions, Math.max(total, commits),
          Duration.ofNanos(now - started));
      if (always || now - lastReport >= progressInterval.toNanos()) {
        lastReport = now;
        onProgress.accept(p);
      }
      return p;
    }

    private void checkHeld(AppliedLog log) {
      Set<Hash> needed = new LinkedHashSet<>(log.frontier());
      log.partial().ifPresent(p -> needed.add(p.commit()));
      for (Hash h : needed) {
        Commit c;
        try {
          c = peer.commit(h);
        } catch (ReplikonException e) {
          throw new ReplikonException(Reason.MISSING_CONTENT, "the sink has applied commit "
              + h.shortHex() + " of " + address + ", which this peer does not hold: is it caught "
              + "up, and is it the sink of this CDVCS?", e);
        }
        if (!c.address().equals(address)) {
          throw new ReplikonException(Reason.INVALID_INPUT, "the sink's applied commit "
              + h.shortHex() + " belongs to " + c.address() + ", not " + address);
        }
      }
    }

    private void reportConflict() {
      Set<Hash> heads = await(peer.heads(address));
      if (heads.size() < 2) {
        reportedHeads = Set.of();
        return;
      }
      if (heads.equals(reportedHeads)) {
        return;
      }
      reportedHeads = Set.copyOf(heads);
      List<Hash> ordered = new ArrayList<>(new java.util.TreeSet<>(heads));
      Set<Hash> lcas = new LinkedHashSet<>();
      for (int i = 0; i < ordered.size(); i++) {
        for (int j = i + 1; j < ordered.size(); j++) {
          lcas.addAll(await(peer.lowestCommonAncestors(address, Set.of(ordered.get(i)),
              Set.of(ordered.get(j)))));
        }
      }
      Map<Hash, List<Hash>> sides = new LinkedHashMap<>();
      for (Hash h : ordered) {
        Set<Hash> others = new HashSet<>(heads);
        others.remove(h);
        sides.put(h, await(peer.commitsAfter(address, others)));
      }
      Conflict conflict = new Conflict(address, heads, new ArrayList<>(lcas), sides);
      LOG.info("{} has {} heads; realizing every side", address, heads.size());
      onConflict.accept(conflict);
    }
  }

  /**
   * A transaction to record as rejected: thrown out of a round (which rolls its batch back) and
   * caught by the replay loop. No stack trace: it is control flow.
   */
  private static final class Rejection extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Hash commit;
    final int index;
    final String reason;

    Rejection(Hash commit, int index, String reason) {
      super("rejected", null, false, false);
      this.commit = commit;
      this.index = index;
      this.reason = reason;
    }
  }

  /** The live realizer's thread and its handle. */
  private final class LiveRun implements Live {
    final Semaphore signal = new Semaphore(0);
    final CompletableFuture<Void> stopped = new CompletableFuture<>();
    final Thread thread;
    volatile boolean stopping;

    LiveRun() {
      thread = new Thread(this::loop, "replikon-realizer-" + address.id());
      thread.setDaemon(true);
    }

    private void loop() {
      try (AutoCloseable subscription = peer.onStored(address, signal::release)) {
        LOG.debug("live realization of {} started ({})", address, subscription);
        Run run = new Run();
        if (syncFirst) {
          awaitSync(() -> stopping);
        }
        while (!stopping) {
          signal.drainPermits();
          run.round(() -> stopping);
          run.report(true);
          signal.acquire();
        }
        stopped.complete(null);
      } catch (Throwable t) {
        LOG.warn("live realization of {} stopped: {}", address, t.toString());
        stopped.completeExceptionally(t);
      } finally {
        running.set(false);
      }
    }

    @Override
    public CompletableFuture<Void> stopped() {
      return stopped;
    }

    @Override
    public void close() {
      stopping = true;
      signal.release();
      if (Thread.currentThread() != thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
          try {
            thread.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
