package io.replikon.cdvcs;

import io.replikon.value.Hash;
import java.util.List;
import java.util.Set;

/**
 * The commit graph of a CDVCS: each commit's id, its ordered parents and its generation number, and
 * the heads (the commits no other commit names as parent).
 *
 * <p>The graph only grows, and parents always enter before their children, so it is a DAG by
 * construction. The generation of a commit is 1 + the largest generation of its parents (a root has
 * 1); every walk in {@link CommitWalk} uses it to stop early.
 *
 * <p><b>Thread safety.</b> Not thread-safe: one thread adds, and readers on other threads must
 * synchronize with it, as with JGit's {@code RevWalk}.
 */
public sealed interface CommitGraph permits IndexedCommitGraph {

  /** Returns a new, empty graph. */
  static CommitGraph create() {
    return new IndexedCommitGraph(16);
  }

  /** Returns a new, empty graph with room for {@code expectedCommits} before it grows. */
  static CommitGraph withCapacity(int expectedCommits) {
    return new IndexedCommitGraph(expectedCommits);
  }

  /**
   * Adds a commit whose parents are all in the graph. Adding a commit that is already there is
   * harmless (the join is idempotent), provided its parents are the same.
   *
   * @return true if the commit was new
   * @throws IllegalArgumentException if a parent is not in the graph, a parent is listed twice, or
   *     the commit is known with other parents
   */
  boolean add(Hash id, List<Hash> parents);

  /** Returns true if the commit is in the graph. */
  boolean contains(Hash id);

  /**
   * Returns the parents of a commit, first parent first.
   *
   * @throws IllegalArgumentException if the commit is not in the graph
   */
  List<Hash> parents(Hash id);

  /**
   * Returns the generation number of a commit: 1 for a root, else 1 + the largest generation of its
   * parents.
   *
   * @throws IllegalArgumentException if the commit is not in the graph
   */
  int generation(Hash id);

  /** Returns the heads, in the order they became heads. Never empty unless the graph is. */
  Set<Hash> heads();

  /** Returns the number of commits. */
  int size();

  /** Returns every commit in the order it was added: parents before children. */
  List<Hash> commits();

  /** Returns an independent copy of this graph. */
  CommitGraph copy();
}
