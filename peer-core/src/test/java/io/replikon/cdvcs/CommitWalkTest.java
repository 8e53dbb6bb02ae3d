package io.replikon.cdvcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CommitWalkTest {

  @Test
  void isAncestor_onChainAndAcrossMerge() {
    TestGraph t = new TestGraph();
    Hash a = t.commit();
    Hash b = t.commit(a);
    Hash c1 = t.commit(b);
    Hash c2 = t.commit(b);
    Hash m = t.commit(c1, c2);
    CommitGraph g = t.graph();
    assertThat(CommitWalk.isAncestor(g, a, m)).isTrue();
    assertThat(CommitWalk.isAncestor(g, c2, m)).isTrue();
    assertThat(CommitWalk.isAncestor(g, m, m)).isTrue();
    assertThat(CommitWalk.isAncestor(g, c1, c2)).isFalse();
    assertThat(CommitWalk.isAncestor(g, m, a)).isFalse();
  }

  @Test
  void generation_isOnePlusLargestParentGeneration() {
    TestGraph t = new TestGraph();
    Hash a = t.commit();
    Hash longSide = t.chain(a, 5);
    Hash shortSide = t.commit(a);
    Hash m = t.commit(shortSide, longSide);
    assertThat(t.graph().generation(a)).isEqualTo(1);
    assertThat(t.graph().generation(longSide)).isEqualTo(6);
    assertThat(t.graph().generation(m)).isEqualTo(7);
  }

  @Test
  void lowestCommonAncestors_ofTwoBranches_isTheForkPoint() {
    TestGraph t = new TestGraph();
    Hash a = t.commit();
    Hash b = t.commit(a);
    Hash left = t.chain(b, 4);
    Hash right = t.chain(b, 2);
    assertThat(CommitWalk.lowestCommonAncestors(t.graph(), List.of(left), List.of(right)))
        .containsExactly(b);
  }

  @Test
  void lowestCommonAncestors_crissCross_givesBothBases() {
    TestGraph t = new TestGraph();
    Hash a = t.commit();
    Hash x = t.commit(a);
    Hash y = t.commit(a);
    Hash m1 = t.commit(x, y);
    Hash m2 = t.commit(y, x);
    assertThat(CommitWalk.lowestCommonAncestors(t.graph(), List.of(t.commit(m1)),
        List.of(t.commit(m2)))).containsExactlyInAnyOrder(x, y);
  }

  @Test
  void lowestCommonAncestors_ofAncestorAndDescendant_isTheAncestor() {
    TestGraph t = new TestGraph();
    Hash a = t.commit();
    Hash b = t.chain(a, 3);
    Hash c = t.chain(b, 3);
    assertThat(CommitWalk.lowestCommonAncestors(t.graph(), List.of(c), List.of(b)))
        .containsExactly(b);
  }

  @Test
  void lowestCommonAncestors_disconnectedRoots_isEmpty() {
    TestGraph t = new TestGraph();
    Hash a = t.chain(t.commit(), 2);
    Hash b = t.chain(t.commit(), 2);
    assertThat(CommitWalk.lowestCommonAncestors(t.graph(), List.of(a), List.of(b))).isEmpty();
  }

  @Test
  void missing_onChain_isTheNewCommitsParentFirst() {
    TestGraph t = new TestGraph();
    Hash base = t.chain(t.commit(), 100);
    List<Hash> expected = new ArrayList<>();
    Hash tip = base;
    for (int i = 0; i < 10; i++) {
      tip = t.commit(tip);
      expected.add(tip);
    }
    assertThat(CommitWalk.missing(t.graph(), List.of(tip), List.of(base)))
        .containsExactlyElementsOf(expected);
    assertThat(CommitWalk.missing(t.graph(), List.of(tip), List.of(tip))).isEmpty();
    assertThat(CommitWalk.missing(t.graph(), List.of(base), List.of(tip))).isEmpty();
  }

  @Test
  void missing_theirUnknownHeads_areIgnored() {
    TestGraph t = new TestGraph();
    Hash root = t.commit();
    Hash tip = t.chain(root, 3);
    Hash unknown = Hash.sha256(new byte[] {42});
    assertThat(CommitWalk.missing(t.graph(), List.of(tip), List.of(unknown))).hasSize(4);
    assertThat(CommitWalk.missing(t.graph(), List.of(tip), List.of())).hasSize(4);
  }

  @Test
  void missing_ourUnknownHead_isRefused() {
    TestGraph t = new TestGraph();
    t.commit();
    Hash unknown = Hash.sha256(new byte[] {42});
    assertThatThrownBy(() -> CommitWalk.missing(t.graph(), List.of(unknown), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(unknown.shortHex());
  }

  @Test
  void missing_onLongHistory_visitsOnlyTheDifference() {
    // Not a timing: a walk that read the whole history would need the whole history to be
    // reachable from the result, so check the result and that it stays right at the far end.
    TestGraph t = new TestGraph();
    Hash base = t.chain(t.commit(), 20_000);
    Hash tip = t.chain(base, 3);
    assertThat(CommitWalk.missing(t.graph(), List.of(tip), List.of(base))).hasSize(3);
    assertThat(CommitWalk.lowestCommonAncestors(t.graph(), List.of(tip), List.of(base)))
        .containsExactly(base);
  }

  static IntStream seeds() {
    return IntStream.range(0, 200);
  }

  /** A random DAG: mostly chains, with forks, merges of up to three parents and extra roots. */
  static TestGraph randomGraph(Random random, int size) {
    TestGraph t = new TestGraph();
    List<Hash> all = new ArrayList<>();
    all.add(t.commit());
    for (int i = 1; i < size; i++) {
      int roll = random.nextInt(100);
      Hash c;
      if (roll < 3) {
        c = t.commit();
      } else if (roll < 20 && all.size() > 2) {
        Set<Hash> ps = new HashSet<>();
        int n = 2 + random.nextInt(2);
        while (ps.size() < Math.min(n, all.size())) {
          ps.add(all.get(random.nextInt(all.size())));
        }
        c = t.commit(ps.toArray(Hash[]::new));
      } else {
        int back = Math.min(all.size(), 1 + random.nextInt(4));
        c = t.commit(all.get(all.size() - back));
      }
      all.add(c);
    }
    return t;
  }

  static List<Hash> pick(Random random, List<Hash> from, int n) {
    List<Hash> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(from.get(random.nextInt(from.size())));
    }
    return out;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void walks_agreeWithBruteForceModel(int seed) {
    Random random = new Random(seed);
    TestGraph t = randomGraph(random, 20 + random.nextInt(120));
    List<Hash> commits = t.graph().commits();
    for (int round = 0; round < 10; round++) {
      List<Hash> ours = pick(random, commits, 1 + random.nextInt(3));
      List<Hash> theirs = pick(random, commits, random.nextInt(4));

      Set<Hash> expectedMissing = new HashSet<>(t.ancestorsOf(ours));
      expectedMissing.removeAll(t.ancestorsOf(theirs));
      List<Hash> missing = CommitWalk.missing(t.graph(), ours, theirs);
      assertThat(new HashSet<>(missing)).as("missing, seed %d", seed).isEqualTo(expectedMissing);
      assertThat(missing).as("no duplicates").doesNotHaveDuplicates();
      Set<Hash> earlier = new HashSet<>();
      for (Hash c : missing) {
        for (Hash p : t.graph().parents(c)) {
          if (expectedMissing.contains(p)) {
            assertThat(earlier).as("parent before child, seed %d", seed).contains(p);
          }
        }
        earlier.add(c);
      }

      Set<Hash> common = new HashSet<>(t.ancestorsOf(ours));
      common.retainAll(t.ancestorsOf(theirs));
      Set<Hash> expectedLca = new HashSet<>();
      for (Hash c : common) {
        boolean hasCommonDescendant = common.stream()
            .anyMatch(d -> !d.equals(c) && t.ancestorsOf(d).contains(c));
        if (!hasCommonDescendant) {
          expectedLca.add(c);
        }
      }
      assertThat(new HashSet<>(CommitWalk.lowestCommonAncestors(t.graph(), ours, theirs)))
          .as("lca, seed %d", seed).isEqualTo(expectedLca);

      Hash x = commits.get(random.nextInt(commits.size()));
      Hash y = commits.get(random.nextInt(commits.size()));
      assertThat(CommitWalk.isAncestor(t.graph(), x, y))
          .as("isAncestor, seed %d", seed).isEqualTo(t.ancestorsOf(y).contains(x));
    }
  }
}
