package io.replikon.cdvcs;

import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/*
 * Design note: walks over a commit graph, pruned by generation numbers.
 *
 * All three questions (is A an ancestor of B, which commits are the lowest common ancestors of two
 * sets, which commits does the other side lack) are answered by painting: start from two sets of
 * commits, give one side the colour OURS and the other THEIRS, and push the colours down to
 * parents. A commit that ends up with both colours is common to both sides.
 *
 * Ordering. Commits are taken from a priority queue, highest generation first. A parent's
 * generation is lower than each child's, so when a commit is taken every child of it that the walk
 * will ever reach has been taken already: its colours are final, and it is taken once.
 *
 * Stopping. The walk keeps count of the queued commits that can still change the answer (for
 * missing(): those painted OURS only; for the lowest common ancestors: those not yet STALE, i.e.
 * not below a common commit) and stops when none is left. What lies below the region where the two
 * sides meet is never read, so on a linear history where the other side lacks k commits the walk
 * takes about k + 1 commits, however long the history is. This is git's paint_down_to_common with
 * the generation-number ordering of git's commit-graph file.
 *
 * The ancestor test walks down from the descendant and never enters a commit whose generation is
 * below the ancestor's (it cannot lead there).
 *
 * State lives in a map sized to what is visited (IntIntMap), not in arrays sized to the graph, so a
 * short walk on a huge graph stays short.
 */

/**
 * Walks over a {@link CommitGraph}: the ancestor test, lowest common ancestors and the commits one
 * side lacks.
 *
 * <p>Every method is a pure function of the graph and its arguments. Thread safety is the graph's:
 * a walk may run concurrently with other walks, not with additions to the same graph.
 */
public final class CommitWalk {
  private static final int OURS = 1;
  private static final int THEIRS = 2;
  private static final int STALE = 4;
  private static final int QUEUED = 8;
  private static final int DONE = 16;

  private CommitWalk() {}

  /**
   * Returns true if {@code ancestor} is {@code descendant} or one of its ancestors.
   *
   * @throws IllegalArgumentException if either commit is not in the graph
   */
  public static boolean isAncestor(CommitGraph graph, Hash ancestor, Hash descendant) {
    IndexedCommitGraph g = indexed(graph);
    int target = require(g, ancestor);
    int start = require(g, descendant);
    if (target == start) {
      return true;
    }
    int targetGeneration = g.generationAt(target);
    if (g.generationAt(start) <= targetGeneration) {
      return false;
    }
    IntIntMap seen = new IntIntMap(64);
    int[] stack = new int[64];
    int top = 0;
    stack[top++] = start;
    seen.put(start, 1);
    while (top > 0) {
      int c = stack[--top];
      for (int k = 0, n = g.parentCountAt(c); k < n; k++) {
        int p = g.parentAt(c, k);
        if (p == target) {
          return true;
        }
        if (g.generationAt(p) > targetGeneration && seen.get(p) == 0) {
          seen.put(p, 1);
          if (top == stack.length) {
            stack = Arrays.copyOf(stack, top * 2);
          }
          stack[top++] = p;
        }
      }
    }
    return false;
  }

  /**
   * Returns the lowest common ancestors of two sets of commits: the commits that are ancestors (or
   * members) of both sets and have no descendant with that property. Empty when the sets share no
   * history. The order is by decreasing generation, then id.
   *
   * @throws IllegalArgumentException if a commit is not in the graph
   */
  public static List<Hash> lowestCommonAncestors(
      CommitGraph graph, Collection<Hash> a, Collection<Hash> b) {
    IndexedCommitGraph g = indexed(graph);
    Paint paint = new Paint(g, false);
    for (Hash h : a) {
      paint.mark(require(g, h), OURS);
    }
    for (Hash h : b) {
      paint.mark(require(g, h), THEIRS);
    }
    List<Integer> found = new ArrayList<>();
    while (paint.interesting > 0) {
      int c = paint.take();
      int f = paint.flags.get(c);
      int propagate = f & (OURS | THEIRS | STALE);
      if ((f & (OURS | THEIRS)) == (OURS | THEIRS) && (f & STALE) == 0) {
        found.add(c);
        propagate |= STALE;
      }
      paint.markParents(c, propagate);
    }
    return sorted(g, found, true);
  }

  /**
   * Returns the commits reachable from {@code ourHeads} and not from {@code theirHeads}, parents
   * before children (ordered by generation, then id, so every peer lists them in the same order).
   * Their heads that are not in the graph are ignored: they name history this side does not have,
   * which cannot reduce what the other side lacks.
   *
   * <p>This is the delta of the differential handshake: what a subscriber that has
   * {@code theirHeads} needs to reach {@code ourHeads}.
   *
   * @throws IllegalArgumentException if one of our heads is not in the graph
   */
  public static List<Hash> missing(
      CommitGraph graph, Collection<Hash> ourHeads, Collection<Hash> theirHeads) {
    IndexedCommitGraph g = indexed(graph);
    Paint paint = new Paint(g, true);
    for (Hash h : theirHeads) {
      int i = g.indexOf(h);
      if (i >= 0) {
        paint.mark(i, THEIRS);
      }
    }
    for (Hash h : ourHeads) {
      paint.mark(require(g, h), OURS);
    }
    List<Integer> found = new ArrayList<>();
    while (paint.interesting > 0) {
      int c = paint.take();
      int f = paint.flags.get(c);
      if ((f & THEIRS) == 0) {
        found.add(c);
      }
      paint.markParents(c, f & (OURS | THEIRS));
    }
    return sorted(g, found, false);
  }

  /**
   * Returns the members of {@code commits} that are not ancestors of another member: the heads of
   * the graph they span. Duplicates count once; order follows {@code commits}.
   *
   * @throws IllegalArgumentException if a commit is not in the graph
   */
  public static Set<Hash> maximal(CommitGraph graph, Collection<Hash> commits) {
    Set<Hash> distinct = new LinkedHashSet<>(commits);
    Set<Hash> out = new LinkedHashSet<>();
    for (Hash c : distinct) {
      boolean below = false;
      for (Hash other : distinct) {
        if (!other.equals(c) && isAncestor(graph, c, other)) {
          below = true;
          break;
        }
      }
      if (!below) {
        out.add(c);
      }
    }
    return out;
  }

  private static List<Hash> sorted(IndexedCommitGraph g, List<Integer> indexes, boolean newest) {
    Comparator<Integer> order =
        Comparator.<Integer>comparingInt(g::generationAt).thenComparing(g::idAt);
    indexes.sort(newest ? order.reversed() : order);
    List<Hash> out = new ArrayList<>(indexes.size());
    for (int i : indexes) {
      out.add(g.idAt(i));
    }
    return out;
  }

  private static IndexedCommitGraph indexed(CommitGraph graph) {
    return (IndexedCommitGraph) graph;
  }

  private static int require(IndexedCommitGraph g, Hash id) {
    int i = g.indexOf(id);
    if (i < 0) {
      throw new IllegalArgumentException("commit " + id + " is not in the graph");
    }
    return i;
  }

  /** The colours of one walk and its queue. */
  private static final class Paint {
    final IndexedCommitGraph g;
    final IntIntMap flags = new IntIntMap(64);
    final LongMaxHeap queue = new LongMaxHeap();
    /** Whether a commit still matters to missing() (OURS only) rather than to LCA (not STALE). */
    final boolean oursOnlyMatters;
    int interesting;

    Paint(IndexedCommitGraph g, boolean oursOnlyMatters) {
      this.g = g;
      this.oursOnlyMatters = oursOnlyMatters;
    }

    boolean matters(int f) {
      if (oursOnlyMatters) {
        return (f & OURS) != 0 && (f & THEIRS) == 0;
      }
      return (f & (OURS | THEIRS)) != 0 && (f & STALE) == 0;
    }

    void mark(int c, int add) {
      int old = flags.get(c);
      int now = old | add;
      if (now == old || (old & DONE) != 0) {
        return; // a taken commit's colours are final (see the design note)
      }
      if ((old & QUEUED) == 0) {
        now |= QUEUED;
        queue.push((long) g.generationAt(c) << 32 | c);
      } else if (matters(old)) {
        interesting--;
      }
      if (matters(now)) {
        interesting++;
      }
      flags.put(c, now);
    }

    void markParents(int c, int colours) {
      for (int k = 0, n = g.parentCountAt(c); k < n; k++) {
        mark(g.parentAt(c, k), colours);
      }
    }

    int take() {
      int c = (int) queue.pop();
      int f = flags.get(c);
      if (matters(f)) {
        interesting--;
      }
      flags.put(c, (f & ~QUEUED) | DONE);
      return c;
    }
  }
}
