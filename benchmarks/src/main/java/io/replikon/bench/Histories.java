package io.replikon.bench;

import io.replikon.cdvcs.CommitGraph;
import io.replikon.value.Hash;
import java.util.List;

/**
 * Synthetic but realistic commit histories for the commit-graph benchmarks.
 *
 * <p>The shape repeats every {@value #PERIOD} commits: from the current tip {@code T} a side branch
 * of three commits {@code s1 <- s2 <- s3} and one mainline commit {@code m1} both start at
 * {@code T}, then a merge commit {@code M(m1, s3)} (two parents, mainline first) joins them, then
 * {@value #PERIOD} - 5 linear commits follow. Commit ids are the SHA-256 of an 8-byte counter, so
 * they are uniformly distributed like real ids.
 */
final class Histories {
  /** Commits per repetition of the pattern: 3 side-branch commits, 1 mainline, 1 merge, 95 linear. */
  static final int PERIOD = 100;

  private Histories() {}

  /** Returns the id of the {@code n}th commit: SHA-256 of {@code n} as 8 big-endian bytes. */
  static Hash id(long n) {
    byte[] b = new byte[8];
    for (int i = 7; i >= 0; i--) {
      b[i] = (byte) n;
      n >>>= 8;
    }
    return Hash.sha256(b);
  }

  /** Returns {@code count} ids, numbered from {@code first}. */
  static Hash[] ids(long first, int count) {
    Hash[] out = new Hash[count];
    for (int i = 0; i < count; i++) {
      out[i] = id(first + i);
    }
    return out;
  }

  /**
   * Adds a history of exactly {@code commits} commits to an empty {@code graph}, taking ids from
   * {@code ids} in order, and returns its single head. The history ends on a linear stretch, so it
   * has one head.
   */
  static Hash build(CommitGraph graph, Hash[] ids, int commits) {
    if (ids.length < commits || commits < 1) {
      throw new IllegalArgumentException("need " + commits + " ids, got " + ids.length);
    }
    int next = 0;
    Hash tip = ids[next++];
    graph.add(tip, List.of());
    while (next < commits) {
      int left = commits - next;
      if (left >= PERIOD) {
        Hash fork = tip;
        Hash s1 = ids[next++];
        graph.add(s1, List.of(fork));
        Hash s2 = ids[next++];
        graph.add(s2, List.of(s1));
        Hash s3 = ids[next++];
        graph.add(s3, List.of(s2));
        Hash m1 = ids[next++];
        graph.add(m1, List.of(fork));
        Hash merge = ids[next++];
        graph.add(merge, List.of(m1, s3));
        tip = merge;
        left = PERIOD - 5;
      }
      for (int k = 0; k < left && next < commits; k++) {
        Hash c = ids[next++];
        graph.add(c, List.of(tip));
        tip = c;
      }
    }
    return tip;
  }

  /** Adds a linear branch on {@code base}, one commit per id in order; returns its tip. */
  static Hash branch(CommitGraph graph, Hash base, Hash[] ids) {
    Hash tip = base;
    for (Hash c : ids) {
      graph.add(c, List.of(tip));
      tip = c;
    }
    return tip;
  }
}
