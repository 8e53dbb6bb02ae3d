package io.replikon.collector;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.client.Checkpoint;
import io.replikon.client.Peer;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: from accepted to committed.
 *
 * Submissions go to the journal (group commit). The journal's writer thread tells this collector
 * of each durable entry, in sequence order; its events join the pending queue. One flusher thread
 * takes at most flushThreshold events from the front of the queue, splits their encodings into
 * chunks and commits them through the peer with a Checkpoint (the seq of the last event and the
 * newest source cursor) in the same atomic write. Only then are they removed from the queue and the
 * journal segments they fill released. A failed commit leaves them queued (and journaled); the next
 * flush tries again. On start, the journal hands back the events after the stored checkpoint: they
 * are committed first, so an event is committed once however the process stops.
 *
 * Replayable submissions (a file source, whose cursor is an offset it can read again) skip the
 * journal: their events join the pending queue at once, numbered with the seq of the last
 * journaled event before them, so a checkpoint still names how far the journal is committed. After
 * a crash they are gone from memory, and the source reads them again from the cursor of the last
 * commit, which is what Intake.cursor() returns when nothing newer was journaled.
 *
 * Idempotency keys: a key is remembered (KeyWindow) once its submission is durable; while it is on
 * its way to the journal, a second submission with the key waits for the first one's answer. A
 * key comes with a fingerprint of its events: the same key with other events is refused
 * (INVALID_INPUT; HTTP 409), not taken for a repeat.
 */
final class RunningCollector implements Collector {
  private static final Logger LOG = LoggerFactory.getLogger(RunningCollector.class);

  /**
   * An event waiting to be committed: its journal seq (for a replayable one, the last journaled
   * seq before it), its encoding, and the source cursor if it ends a submission.
   */
  private record Pending(long seq, byte[] transaction, byte[] cursor, boolean replayable) {}

  private final CollectorConfig config;
  private final Peer peer;
  private final String checkpointName;
  private final Object lock = new Object();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final KeyWindow keys = new KeyWindow(Journal.KEYS_KEPT);
  /** A keyed submission on its way to the journal: its answer and its events' fingerprint. */
  private record KeyOnItsWay(CompletableFuture<Accepted> answer, long fingerprint) {}

  private final Map<Long, KeyOnItsWay> keysOnTheirWay = new HashMap<>();
  private final ScheduledExecutorService flusher;
  private Journal journal;
  private int eventsOnTheirWay;
  private boolean flushQueued;
  private Hash head;
  /** The seq of the last journaled event in the pending queue or committed (guarded by lock). */
  private long lastJournaledSeq;
  /** The source cursor stored with the last commit (guarded by lock). */
  private byte[] committedCursorValue = new byte[0];
  private volatile byte[] lastCursor;
  private volatile boolean closed;
  private long accepted;
  private long repeats;
  private long refused;
  private long committed;
  private long commits;
  private long recovered;

  private RunningCollector(CollectorConfig config, Peer peer, Hash head) {
    this.config = config;
    this.peer = peer;
    this.head = head;
    this.checkpointName = "collector/" + config.address();
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "replikon-flush");
      t.setDaemon(true);
      return t;
    });
  }

  static Collector start(CollectorConfig config) {
    Peer peer = Peer.start(config.peer());
    RunningCollector collector = null;
    try {
      Hash head = join(peer, config);
      collector = new RunningCollector(config, peer, head);
      collector.open();
      return collector;
    } catch (RuntimeException e) {
      if (collector != null) {
        collector.flusher.shutdownNow();
      }
      peer.close();
      throw e;
    }
  }

  /** Finds the CDVCS (locally, else from the server) or creates it; returns its head. */
  private static Hash join(Peer peer, CollectorConfig config) {
    Address address = config.address();
    Set<Hash> heads = peer.heads(address).join();
    if (heads.isEmpty() && !config.peer().connect().isEmpty()) {
      LOG.info("asking {} whether it holds {}", config.peer().connect(), address);
      try {
        peer.subscribe(address).get(config.joinTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new ReplikonException(Reason.CONNECTION, "no answer about " + address + " from "
            + config.peer().connect() + " within " + config.joinTimeout().toSeconds() + " s;"
            + " is the server peer running and reachable?");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ReplikonException(Reason.CONNECTION, "interrupted while joining " + address);
      } catch (ExecutionException e) {
        throw unwrap(e.getCause());
      }
      heads = peer.heads(address).join();
    }
    if (heads.isEmpty()) {
      Hash root = peer.create(address).join();
      LOG.info("created {} (root {})", address, root.shortHex());
      return root;
    }
    return heads.iterator().next();
  }

  private void open() {
    long committedSeq = 0;
    byte[] committedCursor = new byte[0];
    Optional<byte[]> stored = peer.checkpoint(checkpointName);
    if (stored.isPresent()) {
      ByteBuffer b = ByteBuffer.wrap(stored.get());
      committedSeq = b.getLong();
      committedCursor = Arrays.copyOfRange(stored.get(), 8, stored.get().length);
    }
    lastCursor = committedCursor.length == 0 ? null : committedCursor;
    synchronized (lock) {
      committedCursorValue = committedCursor;
      lastJournaledSeq = committedSeq;
    }
    long fromSeq = committedSeq;
    journal = Journal.open(config.journalDirectory(), committedSeq, keys, this::durable,
        found -> {
          for (Journal.Entry e : found.uncommitted()) {
            enqueue(e);
            recovered += e.events().size();
          }
          found.lastCursor().ifPresent(c -> lastCursor = c);
        }, config.repairJournal(), Journal.FILES);
    LOG.info("collector on {}: journal {} (committed up to event {}), flush every {} or at {}"
            + " events", config.address(), config.journalDirectory(), fromSeq,
        config.flushInterval(), config.flushThreshold());
    if (recovered > 0) {
      LOG.info("committing {} events journaled and not committed before the last stop",
          recovered);
      flush().join();
    }
    long interval = config.flushInterval().toMillis();
    flusher.scheduleWithFixedDelay(this::flushPending, interval, interval, TimeUnit.MILLISECONDS);
  }

  @Override
  public Address address() {
    return config.address();
  }

  @Override
  public Peer peer() {
    return peer;
  }

  // ---------------------------------------------------------------- intake

  @Override
  public CompletableFuture<Accepted> submit(Submission submission) {
    if (closed) {
      return CompletableFuture.failedFuture(closedError());
    }
    int n = submission.transactions().size();
    long keyHash = submission.idempotencyKey().map(KeyWindow::hash).orElse(0L);
    long fingerprint = keyHash == 0 ? 0 : KeyWindow.fingerprint(submission.transactions());
    CompletableFuture<Accepted> answer = new CompletableFuture<>();
    synchronized (lock) {
      if (keyHash != 0) {
        int count = keys.get(keyHash);
        if (count >= 0) {
          long known = keys.fingerprintOf(keyHash);
          if (known != 0 && known != fingerprint) {
            return CompletableFuture.failedFuture(keyReused());
          }
          repeats++;
          return CompletableFuture.completedFuture(new Accepted(count, true));
        }
        KeyOnItsWay first = keysOnTheirWay.get(keyHash);
        if (first != null) {
          if (first.fingerprint() != fingerprint) {
            return CompletableFuture.failedFuture(keyReused());
          }
          repeats++;
          return first.answer().thenApply(a -> new Accepted(a.count(), true));
        }
      }
      // Refused only once the bound is reached, so a source that waited in awaitCapacity is
      // admitted with its next submission (which may overshoot the bound by that much).
      int waiting = pending.size() + eventsOnTheirWay;
      if (waiting >= config.maxPending()) {
        refused++;
        return CompletableFuture.failedFuture(new ReplikonException(Reason.OVERLOADED,
            waiting + " events wait to be committed (at most " + config.maxPending()
                + "); retry later"));
      }
      if (submission.replayable()) {
        byte[] cursor = submission.cursor().orElseThrow();
        List<byte[]> events = submission.transactions();
        for (int i = 0; i < n; i++) {
          pending.add(new Pending(lastJournaledSeq, events.get(i), i == n - 1 ? cursor : null,
              true));
        }
        accepted += n;
        lastCursor = cursor;
        flushIfFull();
        return CompletableFuture.completedFuture(new Accepted(n, false));
      }
      eventsOnTheirWay += n;
      if (keyHash != 0) {
        keysOnTheirWay.put(keyHash, new KeyOnItsWay(answer, fingerprint));
      }
    }
    journal.append(submission.transactions(), submission.cursor().orElse(new byte[0]), keyHash,
            fingerprint)
        .whenComplete((entry, failure) -> {
          synchronized (lock) {
            eventsOnTheirWay -= n;
            keysOnTheirWay.remove(keyHash);
          }
          if (failure != null) {
            answer.completeExceptionally(failure);
          } else {
            answer.complete(new Accepted(n, false));
          }
        });
    return answer;
  }

  @Override
  public void awaitCapacity() throws InterruptedException {
    synchronized (lock) {
      while (!closed && pending.size() + eventsOnTheirWay >= config.maxPending()) {
        lock.wait();
      }
    }
  }

  @Override
  public Optional<byte[]> cursor() {
    return Optional.ofNullable(lastCursor);
  }

  /** The journal's writer thread: an entry is durable. */
  private void durable(Journal.Entry entry) {
    synchronized (lock) {
      enqueue(entry);
      accepted += entry.events().size();
      if (entry.keyHash() != 0) {
        keys.put(entry.keyHash(), entry.events().size(), entry.fingerprint(), entry.firstSeq());
      }
      flushIfFull();
    }
    if (entry.cursor().length > 0) {
      lastCursor = entry.cursor();
    }
  }

  /** Queues a flush if the threshold is reached and none is queued (holding lock). */
  private void flushIfFull() {
    if (pending.size() >= config.flushThreshold() && !flushQueued && !closed) {
      flushQueued = true;
      flusher.execute(this::flushPending);
    }
  }

  /** Queues the events of a durable journal entry (holding lock, or before the collector runs). */
  private void enqueue(Journal.Entry entry) {
    List<byte[]> events = entry.events();
    lastJournaledSeq = Math.max(lastJournaledSeq, entry.firstSeq() + events.size() - 1);
    for (int i = 0; i < events.size(); i++) {
      pending.add(new Pending(entry.firstSeq() + i, events.get(i),
          i == events.size() - 1 && entry.cursor().length > 0 ? entry.cursor() : null, false));
    }
  }

  // ---------------------------------------------------------------- flushing

  @Override
  public CompletableFuture<Hash> flush() {
    CompletableFuture<Hash> done = new CompletableFuture<>();
    try {
      flusher.execute(() -> {
        try {
          flushPending();
          synchronized (lock) {
            done.complete(head);
          }
        } catch (RuntimeException e) {
          done.completeExceptionally(e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      done.completeExceptionally(closedError());
    }
    return done;
  }

  /**
   * Commits the events pending when it starts, in commits of at most the threshold (flusher
   * thread). Events that arrive meanwhile wait for the next flush (interval or threshold): a flush
   * that chased them would commit a steady stream in tiny commits, one after the other.
   */
  private void flushPending() {
    int due;
    synchronized (lock) {
      flushQueued = false;
      due = pending.size();
    }
    while (due > 0) {
      List<Pending> batch = new ArrayList<>();
      synchronized (lock) {
        var it = pending.iterator();
        while (it.hasNext() && batch.size() < Math.min(due, config.flushThreshold())) {
          batch.add(it.next());
        }
        // A replayable submission is committed whole: after a crash the source can read its
        // events again only from the cursor before it, so a commit must end at a cursor.
        while (it.hasNext() && batch.get(batch.size() - 1).replayable()
            && batch.get(batch.size() - 1).cursor() == null) {
          batch.add(it.next());
        }
      }
      if (batch.isEmpty() || !commit(batch)) {
        return;
      }
      due -= batch.size();
    }
  }

  /** Commits one batch with its checkpoint; returns false (after logging) if it failed. */
  private boolean commit(List<Pending> batch) {
    List<byte[]> transactions = new ArrayList<>(batch.size());
    byte[] cursor = null;
    for (Pending p : batch) {
      transactions.add(p.transaction());
      if (p.cursor() != null) {
        cursor = p.cursor();
      }
    }
    long lastSeq = batch.get(batch.size() - 1).seq();
    if (cursor == null) {
      cursor = committedCursor();
    }
    byte[] value = ByteBuffer.allocate(8 + cursor.length).putLong(lastSeq).put(cursor).array();
    Checkpoint checkpoint = new Checkpoint(checkpointName, value);
    long started = System.nanoTime();
    Hash id;
    try {
      List<Chunk> chunks = Chunk.splitEncoded(transactions);
      id = commitResolvingConflict(chunks, checkpoint);
    } catch (RuntimeException e) {
      LOG.error("committing {} events to {} failed: {}; they stay in the journal and the next"
          + " flush tries again", batch.size(), config.address(), unwrap(e).getMessage());
      return false;
    }
    synchronized (lock) {
      for (int i = 0; i < batch.size(); i++) {
        pending.removeFirst();
      }
      committed += batch.size();
      commits++;
      head = id;
      committedCursorValue = cursor;
      lock.notifyAll();
    }
    journal.release(lastSeq);
    LOG.info("committed {} events to {} as {} in {} ms", batch.size(), config.address(),
        id.shortHex(), (System.nanoTime() - started) / 1_000_000);
    return true;
  }

  private byte[] committedCursor() {
    synchronized (lock) {
      return committedCursorValue;
    }
  }

  /**
   * Commits; if another writer made the CDVCS conflicted meanwhile, merges its heads first (in a
   * fixed order) and commits on top of the merge.
   */
  private Hash commitResolvingConflict(List<Chunk> chunks, Checkpoint checkpoint) {
    try {
      return peer.transact(config.address(), chunks, checkpoint).join();
    } catch (CompletionException e) {
      if (!(e.getCause() instanceof ReplikonException r) || r.reason() != Reason.CONFLICTED) {
        throw e;
      }
      List<Hash> heads = new ArrayList<>(peer.heads(config.address()).join());
      heads.sort(null);
      LOG.info("{} has {} heads (another writer committed); merging them before committing",
          config.address(), heads.size());
      peer.merge(config.address(), heads).join();
      return peer.transact(config.address(), chunks, checkpoint).join();
    }
  }

  @Override
  public CollectorStats stats() {
    synchronized (lock) {
      return new CollectorStats(accepted, repeats, refused, committed, commits, pending.size(),
          recovered);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
    }
    journal.close(); // writes what was queued; its events join the pending queue
    try {
      flusher.submit(this::flushPending).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      LOG.error("the last flush failed: {}", e.getCause().toString());
    }
    flusher.shutdown();
    CollectorStats s = stats();
    peer.close();
    LOG.info("collector on {} stopped: {} events accepted, {} committed in {} commits, {} left"
        + " in the journal", config.address(), s.accepted(), s.committed(), s.commits(),
        s.pending());
  }

  private static ReplikonException keyReused() {
    return new ReplikonException(Reason.INVALID_INPUT, "this Idempotency-Key was used before"
        + " with other events; use a new key for new events");
  }

  private ReplikonException closedError() {
    return new ReplikonException(Reason.STORE_CLOSED, "the collector on " + config.address()
        + " is closed");
  }

  private static RuntimeException unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RuntimeException r ? r : new IllegalStateException(t);
  }
}
