package io.replikon.client;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.value.Hash;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A running replikon peer: a store, the replication engine and the WebSocket transport wired
 * together. A server peer listens, stores and relays every CDVCS its peers subscribe to or publish;
 * a client peer replicates the addresses it subscribes to.
 *
 * <p>Thread-safe. The engine runs on one thread of the peer's own; every method hands work to it
 * and returns a future, which fails with a {@link io.replikon.error.ReplikonException} for domain
 * failures (a conflicted CDVCS, an unknown address). Never returns null.
 */
public interface Peer extends AutoCloseable {

  /**
   * Starts a peer: opens its store, listens if it has a port, connects to its peers.
   *
   * @throws io.replikon.error.ReplikonException if the store cannot be opened (locked, foreign)
   *     or the port cannot be bound
   */
  static Peer start(PeerConfig config) {
    return RunningPeer.start(config);
  }

  /** Returns the configuration it runs with. */
  PeerConfig config();

  /** Returns where it listens for peers, if it does. */
  Optional<InetSocketAddress> address();

  /** Returns its WebSocket URL, if it listens: {@code ws://host:port/replikon}. */
  Optional<URI> url();

  /** Returns where it serves health, metrics and status, if it does. */
  Optional<InetSocketAddress> httpAddress();

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

  /**
   * Returns the commits of the CDVCS at {@code address} that are not ancestors of
   * {@code frontier} (nor in it), parents first, ordered by generation then id: the same order on
   * every peer. With an empty frontier: the whole history. Empty if this peer holds no CDVCS there.
   */
  CompletableFuture<List<Hash>> commitsAfter(Address address, Set<Hash> frontier);

  /**
   * Returns a stored commit. Reads the store: may block briefly; thread-safe.
   *
   * @throws io.replikon.error.ReplikonException {@code MISSING_CONTENT} if it is not stored
   */
  Commit commit(Hash id);

  /**
   * Returns the transactions of a stored commit, in order. Reads the store: may block briefly;
   * thread-safe.
   *
   * @throws io.replikon.error.ReplikonException {@code MISSING_CONTENT} if a chunk is not stored
   */
  List<Transaction> transactions(Commit commit);

  /**
   * Calls {@code listener} with the address each time new commits of it are stored here (from a
   * peer or locally). The listener runs on the peer's engine thread: it must return quickly and
   * must not wait on this peer's futures. Closing the returned handle removes it.
   */
  AutoCloseable onStored(Address address, Runnable listener);

  /**
   * Returns the lowest common ancestors of two sets of commits of the CDVCS at {@code address}
   * (what two conflicting heads share).
   */
  CompletableFuture<List<Hash>> lowestCommonAncestors(Address address, Set<Hash> a, Set<Hash> b);

  /** Returns a snapshot of what the peer holds and does. */
  CompletableFuture<PeerStatus> status();

  /** Stops: closes connections and the listener, finishes the engine's work, closes the store. */
  @Override
  void close();
}
