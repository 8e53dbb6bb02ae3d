package io.replikon.collector.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.cdvcs.Transaction;
import io.replikon.collector.Accepted;
import io.replikon.collector.Intake;
import io.replikon.collector.Submission;
import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link Intake} for tests that keeps submissions in memory and accepts them at once, with no
 * journal. It can answer {@code OVERLOADED} a number of times first ({@link #overloadNext}), and
 * close ({@link #close}) so that further submissions fail with {@code STORE_CLOSED}.
 *
 * <p>Thread-safe.
 */
public final class RecordingIntake implements Intake {
  private final List<Submission> accepted = new ArrayList<>();
  private Optional<byte[]> cursor;
  private int flushes;
  private int overloads;
  private int overloadedAnswers;
  private int capacityWaits;
  private boolean closed;

  /** Creates an empty intake with no cursor. */
  public RecordingIntake() {
    this(Optional.empty());
  }

  /** Creates an empty intake whose {@link #cursor} is {@code cursor} until a submission has one. */
  public RecordingIntake(Optional<byte[]> cursor) {
    this.cursor = cursor.map(byte[]::clone);
  }

  @Override
  public synchronized CompletableFuture<Accepted> submit(Submission submission) {
    if (closed) {
      return CompletableFuture.failedFuture(new ReplikonException(
          ReplikonException.Reason.STORE_CLOSED, "the recording intake is closed"));
    }
    if (overloads > 0) {
      overloads--;
      overloadedAnswers++;
      return CompletableFuture.failedFuture(new ReplikonException(
          ReplikonException.Reason.OVERLOADED, "the recording intake is overloaded"));
    }
    accepted.add(submission);
    submission.cursor().ifPresent(c -> cursor = Optional.of(c.clone()));
    notifyAll();
    return CompletableFuture.completedFuture(
        new Accepted(submission.transactions().size(), false));
  }

  @Override
  public synchronized void awaitCapacity() {
    capacityWaits++;
  }

  /** Counts the call; there is nothing to commit, so it completes with the hash of nothing. */
  @Override
  public synchronized CompletableFuture<Hash> flush() {
    flushes++;
    return CompletableFuture.completedFuture(Hash.sha256(new byte[0]));
  }

  /** Returns how often {@link #flush} was called. */
  public synchronized int flushes() {
    return flushes;
  }

  @Override
  public synchronized Optional<byte[]> cursor() {
    return cursor.map(byte[]::clone);
  }

  /** Makes the next {@code times} submissions fail with {@code OVERLOADED}. */
  public synchronized void overloadNext(int times) {
    overloads = times;
  }

  /** Returns how many submissions failed with {@code OVERLOADED}. */
  public synchronized int overloadedAnswers() {
    return overloadedAnswers;
  }

  /** Returns how often {@link #awaitCapacity} was called. */
  public synchronized int capacityWaits() {
    return capacityWaits;
  }

  /** Makes further submissions fail with {@code STORE_CLOSED}, as a closed collector does. */
  public synchronized void close() {
    closed = true;
  }

  /** Returns the accepted submissions, in order. */
  public synchronized List<Submission> submissions() {
    return List.copyOf(accepted);
  }

  /** Returns the encoded transactions of all accepted submissions, in order. */
  public synchronized List<byte[]> encodedTransactions() {
    List<byte[]> out = new ArrayList<>();
    for (Submission s : accepted) {
      out.addAll(s.transactions());
    }
    return out;
  }

  /** Returns the transactions of all accepted submissions, decoded, in order. */
  public synchronized List<Transaction> transactions() {
    List<Transaction> out = new ArrayList<>();
    for (byte[] encoded : encodedTransactions()) {
      JsonNode value = CanonicalCbor.decode(encoded);
      out.add(Transaction.fromValue(value));
    }
    return out;
  }

  /** Returns how many transactions were accepted. */
  public synchronized int transactionCount() {
    int n = 0;
    for (Submission s : accepted) {
      n += s.transactions().size();
    }
    return n;
  }
}
