package io.replikon.client;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
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
 * a client peer replicates the addresses it subscribes to. The CDVCS operations are those of its
 * {@link Stage}: the peer acts on behalf of the author in its configuration.
 *
 * <p>Thread-safe. The engine runs on one thread of the peer's own; every method hands work to it
 * and returns a future, which fails with a {@link io.replikon.error.ReplikonException} for domain
 * failures (a conflicted CDVCS, an unknown address). Never returns null.
 */
public interface Peer extends Stage, AutoCloseable {

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
   * Returns the chunks of a stored commit, in order, as stored: each the canonical encoding of a
   * list of {@code [fn, params]}, for readers that decode only what they need (a realizer writing
   * JSON straight from CBOR). Their ids were checked when they were stored, their contents were
   * not: decode strictly. Reads the store: may block briefly; thread-safe. The default encodes
   * {@link #transactions} again.
   *
   * @throws io.replikon.error.ReplikonException {@code MISSING_CONTENT} if a chunk is not stored
   */
  default List<Chunk> chunks(Commit commit) {
    return Chunk.split(transactions(commit));
  }

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

  /**
   * Commits transactions already split into chunks (by {@link Chunk#split} or
   * {@link Chunk#splitEncoded}) on top of the one head of {@code address}, and stores
   * {@code checkpoint} in the same atomic write: after a crash either both are stored or neither.
   * Peers subscribed to the address get the commit as after {@link #transact(Address, List)}.
   *
   * @return the new commit's id; fails with {@code CONFLICTED} (several heads) or
   *     {@code UNKNOWN_ADDRESS} as {@code transact} does, or {@code INVALID_INPUT} for no chunks
   */
  CompletableFuture<Hash> transact(Address address, List<Chunk> chunks, Checkpoint checkpoint);

  /**
   * Returns the value of the checkpoint named {@code name} as last committed with
   * {@link #transact(Address, List, Checkpoint)}, or empty if none was. Reads the store: may block
   * briefly; thread-safe.
   */
  Optional<byte[]> checkpoint(String name);

  /**
   * Completes once a peer connected to this one has acknowledged holding {@code commit} of
   * {@code address} (or a commit after it): the commit is stored beyond this peer. Waits as long as
   * it takes (across reconnects); the caller sets a timeout with
   * {@link CompletableFuture#orTimeout} if it wants one. Fails if the peer closes first.
   */
  CompletableFuture<Void> replicated(Address address, Hash commit);

  /** Returns a snapshot of what the peer holds and does. */
  CompletableFuture<PeerStatus> status();

  /** Stops: closes connections and the listener, finishes the engine's work, closes the store. */
  @Override
  void close();
}
