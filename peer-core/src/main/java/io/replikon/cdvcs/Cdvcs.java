package io.replikon.cdvcs;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.trust.Signature;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A CDVCS: a confluent, distributed version-control system for data. Its state is a commit graph
 * at an address; its heads are the commits no other commit names as parent. One head: consistent.
 * Several heads: a conflict, which a merge resolves.
 *
 * <p><b>Upstream operations</b> ({@link #create}, {@link #transact}, {@link #merge}, {@link #pull},
 * {@link #fork}) are pure: they return an {@link Update} and leave this state alone. The caller
 * persists the update ({@link CdvcsStore#write}) and applies it.
 *
 * <p><b>{@link #apply} is the join</b>: it adds the update's commits that are new. It is
 * idempotent, commutative and associative: replicas that apply the same updates in any order, any
 * number of times, hold the same graph and heads.
 *
 * <p><b>Time and authorship</b> are arguments: this class reads no clock.
 *
 * <p>Not thread-safe: one thread (a stage's or a peer's) owns a CDVCS.
 */
public final class Cdvcs {
  private final Address address;
  private final CommitGraph graph;

  private Cdvcs(Address address, CommitGraph graph) {
    this.address = address;
    this.graph = graph;
  }

  /** Returns a CDVCS at {@code address} that holds no commit yet. */
  public static Cdvcs empty(Address address) {
    return new Cdvcs(Objects.requireNonNull(address, "address"), CommitGraph.create());
  }

  /** Returns a CDVCS at {@code address} over an existing graph (for loading; the graph is kept). */
  public static Cdvcs of(Address address, CommitGraph graph) {
    return new Cdvcs(Objects.requireNonNull(address, "address"), Objects.requireNonNull(graph));
  }

  /**
   * Returns the update that creates a CDVCS: its root commit, with no parents and no transactions.
   * Each address has a root of its own, because the commit value names the address.
   */
  public static Update create(Address address, Author author, long ts) {
    return commitUpdate(new Commit(List.of(), List.of(), author.name(), ts, address,
        author.key().verifyingKey()), author, List.of());
  }

  /** Returns the address. */
  public Address address() {
    return address;
  }

  /** Returns the commit graph (read it; change it only through {@link #apply}). */
  public CommitGraph graph() {
    return graph;
  }

  /** Returns the heads. */
  public Set<Hash> heads() {
    return graph.heads();
  }

  /** Returns true if the CDVCS has several heads. */
  public boolean isConflicted() {
    return graph.heads().size() > 1;
  }

  /** Returns the number of commits. */
  public int size() {
    return graph.size();
  }

  /**
   * Returns the update of one commit holding {@code transactions}, on top of the one head.
   *
   * @throws ReplikonException {@code CONFLICTED} if the CDVCS has several heads (merge first),
   *     {@code UNKNOWN_ADDRESS} if it was never created, {@code INVALID_INPUT} if there is no
   *     transaction or one is too large for a chunk
   */
  public Update transact(List<Transaction> transactions, Author author, long ts) {
    if (transactions.isEmpty()) {
      throw new ReplikonException(Reason.INVALID_INPUT, "a commit needs at least one transaction");
    }
    singleHead();
    return transactChunks(Chunk.split(transactions), author, ts);
  }

  /**
   * Returns the update of one commit holding transactions already split into chunks by
   * {@link Chunk#split}: lets a caller do the encoding on a thread of its own before it takes the
   * CDVCS's thread.
   *
   * @throws ReplikonException as {@link #transact}
   */
  public Update transactChunks(List<Chunk> chunks, Author author, long ts) {
    if (chunks.isEmpty()) {
      throw new ReplikonException(Reason.INVALID_INPUT, "a commit needs at least one transaction");
    }
    Hash head = singleHead();
    Commit commit = new Commit(List.of(head), ids(chunks), author.name(), ts, address,
        author.key().verifyingKey());
    return commitUpdate(commit, author, chunks);
  }

  /**
   * Returns the update of a merge commit whose parents are the heads, in the order given (first
   * parent first), with optional correcting transactions.
   *
   * @throws ReplikonException {@code STALE_HEADS} if {@code orderedHeads} is not exactly the set of
   *     heads (they changed: look again), {@code INVALID_INPUT} if there is only one head
   */
  public Update merge(List<Hash> orderedHeads, List<Transaction> correcting, Author author,
      long ts) {
    requireCreated();
    Set<Hash> given = new HashSet<>(orderedHeads);
    if (given.size() != orderedHeads.size() || !given.equals(graph.heads())) {
      throw new ReplikonException(Reason.STALE_HEADS, "cannot merge " + address + ": the heads "
          + "given " + orderedHeads + " are not its heads " + graph.heads());
    }
    if (orderedHeads.size() < 2) {
      throw new ReplikonException(Reason.INVALID_INPUT,
          "nothing to merge: " + address + " has one head, " + orderedHeads.get(0));
    }
    List<Chunk> chunks = Chunk.split(correcting);
    Commit commit = new Commit(orderedHeads, ids(chunks), author.name(), ts, address,
        author.key().verifyingKey());
    return commitUpdate(commit, author, chunks);
  }

  /**
   * Returns the update that brings the commits of {@code other} into this CDVCS. Both must live in
   * the same store: the update carries no values, only graph entries.
   *
   * <p>Without {@code allowInducedConflict} the pull must be a fast-forward: every head of this
   * CDVCS is already in {@code other}, so the result has the one head of {@code other}. With it,
   * the result may have several heads, to be merged.
   *
   * @return the update; empty if this CDVCS already holds every commit of {@code other}
   * @throws ReplikonException {@code NOT_FAST_FORWARD} if the pull would leave several heads and
   *     that was not allowed, {@code CONFLICTED} if {@code other} has several heads and an induced
   *     conflict was not allowed
   */
  public Update pull(Cdvcs other, boolean allowInducedConflict,
      Function<Hash, Signature> signatures) {
    requireCreated();
    other.requireCreated();
    List<Hash> theirs = CommitWalk.missing(other.graph, other.heads(), heads());
    if (theirs.isEmpty()) {
      return Update.empty(address);
    }
    if (!allowInducedConflict) {
      if (other.isConflicted()) {
        throw new ReplikonException(Reason.CONFLICTED, "cannot pull " + other.address + " into "
            + address + ": it has " + other.heads().size() + " heads " + other.heads()
            + "; merge them there first, or allow an induced conflict");
      }
      for (Hash h : heads()) {
        if (!other.graph.contains(h)) {
          throw new ReplikonException(Reason.NOT_FAST_FORWARD, "pulling " + other.address
              + " into " + address + " is not a fast-forward: " + address + " has commit " + h
              + " that " + other.address + " lacks; allow an induced conflict and merge");
        }
      }
    }
    return new Update(address, entries(other.graph, theirs, signatures), Map.of(), Map.of());
  }

  /**
   * Returns the update that creates a fork of this CDVCS at {@code newAddress}: a new CDVCS holding
   * every commit of this one. Both live in the same store, so the update carries no values.
   *
   * @throws IllegalArgumentException if {@code newAddress} is this CDVCS's address
   */
  public Update fork(Address newAddress, Function<Hash, Signature> signatures) {
    requireCreated();
    if (newAddress.equals(address)) {
      throw new IllegalArgumentException("a fork needs an address of its own, not " + address);
    }
    return new Update(newAddress, entries(graph, graph.commits(), signatures), Map.of(),
        Map.of());
  }

  /**
   * Joins an update into this CDVCS: adds each of its commits that is new. Idempotent, commutative
   * and associative.
   *
   * @return the number of commits that were new
   * @throws IllegalArgumentException if the update is for another address, or a commit's parent is
   *     neither in the graph nor earlier in the update
   */
  public int apply(Update update) {
    if (!update.address().equals(address)) {
      throw new IllegalArgumentException(
          "update for " + update.address() + " applied to " + address);
    }
    int added = 0;
    for (Update.Entry e : update.commits()) {
      if (graph.add(e.id(), e.parents())) {
        added++;
      }
    }
    return added;
  }

  /**
   * Returns the commits of {@code update} that this CDVCS does not hold yet, parents first, and the
   * heads it would have after applying them; this state is left alone.
   */
  public Preview preview(Update update) {
    Set<Hash> heads = new java.util.LinkedHashSet<>(graph.heads());
    Set<Hash> seen = new HashSet<>();
    List<Update.Entry> fresh = new ArrayList<>();
    for (Update.Entry e : update.commits()) {
      if (graph.contains(e.id()) || !seen.add(e.id())) {
        continue;
      }
      for (Hash p : e.parents()) {
        if (!graph.contains(p) && !seen.contains(p)) {
          throw new IllegalArgumentException("parent " + p + " of commit " + e.id()
              + " is neither stored nor earlier in the update");
        }
        heads.remove(p);
      }
      heads.add(e.id());
      fresh.add(e);
    }
    return new Preview(fresh, heads);
  }

  /**
   * What an update would change.
   *
   * @param newCommits the commits that are new, parents first
   * @param heads the heads after the update
   */
  public record Preview(List<Update.Entry> newCommits, Set<Hash> heads) {
    /** Copies the collections. */
    public Preview {
      newCommits = List.copyOf(newCommits);
      heads = java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(heads));
    }
  }

  @Override
  public String toString() {
    return "Cdvcs[" + address + ", " + graph.size() + " commits, heads "
        + graph.heads().stream().map(Hash::shortHex).collect(Collectors.joining(", ")) + "]";
  }

  private Hash singleHead() {
    requireCreated();
    Set<Hash> heads = graph.heads();
    if (heads.size() != 1) {
      throw new ReplikonException(Reason.CONFLICTED, "cannot commit to " + address + ": it has "
          + heads.size() + " heads (" + heads.stream().map(Hash::shortHex)
          .collect(Collectors.joining(", ")) + "); merge them first");
    }
    return heads.iterator().next();
  }

  private void requireCreated() {
    if (graph.size() == 0) {
      throw new ReplikonException(
          Reason.UNKNOWN_ADDRESS, "no CDVCS at " + address + ": create it first");
    }
  }

  private static Update commitUpdate(Commit commit, Author author, List<Chunk> chunks) {
    byte[] value = commit.encode();
    Hash id = Hash.sha256(value);
    Signature signature = author.key().signCommit(id);
    Map<Hash, byte[]> chunkValues = new HashMap<>();
    for (Chunk c : chunks) {
      chunkValues.put(c.id(), c.bytes());
    }
    return new Update(commit.address(), List.of(new Update.Entry(id, commit.parents(), signature)),
        Map.of(id, value), chunkValues);
  }

  private static List<Hash> ids(List<Chunk> chunks) {
    List<Hash> out = new ArrayList<>(chunks.size());
    for (Chunk c : chunks) {
      out.add(c.id());
    }
    return out;
  }

  private static List<Update.Entry> entries(CommitGraph graph, List<Hash> commits,
      Function<Hash, Signature> signatures) {
    List<Update.Entry> out = new ArrayList<>(commits.size());
    for (Hash c : commits) {
      out.add(new Update.Entry(c, graph.parents(c), signatures.apply(c)));
    }
    return out;
  }
}
