package io.replikon.client;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.Hash;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What an application does with CDVCSs, as replikativ's stage: create, transact, merge, fork,
 * pull, subscribe, connect, look at the heads. Commits are made on behalf of one author (the
 * peer's {@link PeerConfig#author()}) at the time of the peer's clock. A {@link Peer} is a stage.
 *
 * <p>Thread-safe. Every operation returns a future, which fails with a
 * {@link io.replikon.error.ReplikonException} for domain failures (a conflicted CDVCS, an unknown
 * address, stale heads); never null.
 */
public interface Stage {

  /** Connects to a peer, and keeps reconnecting with backoff whenever the connection is lost. */
  void connect(URI peer);

  /**
   * Replicates {@code address}: subscribes to it on every connection. The future completes once a
   * connected peer's catch-up for it is complete (this peer holds every head that peer had), or at
   * once if that happened before. Subscribing again is harmless.
   */
  CompletableFuture<Void> subscribe(Address address);

  /** Creates a CDVCS at {@code address}; completes with its root commit. */
  CompletableFuture<Hash> create(Address address);

  /**
   * Commits {@code transactions} to the CDVCS at {@code address} and offers the commit to the
   * peers subscribed to it; completes with the commit id once stored here.
   */
  CompletableFuture<Hash> transact(Address address, List<Transaction> transactions);

  /**
   * Merges the heads of the CDVCS at {@code address}: a commit whose parents are
   * {@code orderedHeads}, first parent first; completes with its id.
   *
   * @throws io.replikon.error.ReplikonException (in the future) {@code STALE_HEADS} if
   *     {@code orderedHeads} are not exactly the heads now, {@code INVALID_INPUT} with one head
   */
  CompletableFuture<Hash> merge(Address address, List<Hash> orderedHeads);

  /**
   * Creates a CDVCS at {@code to} holding every commit of the one at {@code from}; completes with
   * the heads of the fork.
   */
  CompletableFuture<Set<Hash>> fork(Address from, Address to);

  /**
   * Brings the commits of the CDVCS at {@code from} into the one at {@code into}: a fast-forward
   * unless {@code allowInducedConflict} (then it may leave several heads to merge). Completes with
   * the heads of {@code into}.
   *
   * @throws io.replikon.error.ReplikonException (in the future) {@code NOT_FAST_FORWARD} or
   *     {@code CONFLICTED} when the pull is not a fast-forward and that was not allowed
   */
  CompletableFuture<Set<Hash>> pull(Address into, Address from, boolean allowInducedConflict);

  /** Returns the heads of the CDVCS at {@code address}: empty if this peer holds none. */
  CompletableFuture<Set<Hash>> heads(Address address);
}
