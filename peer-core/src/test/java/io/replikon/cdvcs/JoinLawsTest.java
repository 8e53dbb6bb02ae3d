package io.replikon.cdvcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.testkit.TestKeys;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The laws of the CDVCS join on random graphs with merges: idempotent, commutative, associative,
 * and the heads always the maximal commits. Each replica holds an ancestry-closed part of one
 * random history, entered in a random parents-first order of its own.
 */
class JoinLawsTest {
  static final Address ADDRESS = new Address("law", new UUID(1, 2));

  static IntStream seeds() {
    return IntStream.range(0, 300);
  }

  /** The replica holding the ancestors of {@code tips}, added in a random topological order. */
  static Cdvcs replica(TestGraph history, List<Hash> tips, Random random) {
    Set<Hash> members = history.ancestorsOf(tips);
    Map<Hash, Integer> waiting = new HashMap<>();
    Map<Hash, List<Hash>> children = new HashMap<>();
    List<Hash> ready = new ArrayList<>();
    for (Hash c : members) {
      List<Hash> ps = history.parentMap().get(c);
      waiting.put(c, ps.size());
      for (Hash p : ps) {
        children.computeIfAbsent(p, k -> new ArrayList<>()).add(c);
      }
      if (ps.isEmpty()) {
        ready.add(c);
      }
    }
    ready.sort(null); // the set's order is not seeded; the draw below is
    List<Update.Entry> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      Hash c = ready.remove(random.nextInt(ready.size()));
      order.add(new Update.Entry(c, history.parentMap().get(c), TestKeys.UNCHECKED));
      for (Hash child : children.getOrDefault(c, List.of())) {
        if (waiting.merge(child, -1, Integer::sum) == 0) {
          ready.add(child);
        }
      }
    }
    Cdvcs out = Cdvcs.empty(ADDRESS);
    out.apply(new Update(ADDRESS, order, Map.of(), Map.of()));
    return out;
  }

  /** The update that carries every commit of {@code c}, in its own order. */
  static Update everything(Cdvcs c) {
    List<Update.Entry> entries = new ArrayList<>();
    for (Hash h : c.graph().commits()) {
      entries.add(new Update.Entry(h, c.graph().parents(h), TestKeys.UNCHECKED));
    }
    return new Update(ADDRESS, entries, Map.of(), Map.of());
  }

  static Cdvcs join(Cdvcs a, Cdvcs b) {
    Cdvcs out = Cdvcs.of(ADDRESS, a.graph().copy());
    out.apply(everything(b));
    return out;
  }

  /** What a state is, independent of the order commits entered: commits, parents, heads. */
  record Snapshot(Map<Hash, List<Hash>> parents, Set<Hash> heads) {}

  static Snapshot snapshot(Cdvcs c) {
    Map<Hash, List<Hash>> parents = new HashMap<>();
    for (Hash h : c.graph().commits()) {
      parents.put(h, c.graph().parents(h));
    }
    return new Snapshot(parents, new HashSet<>(c.heads()));
  }

  static Set<Hash> childless(Cdvcs c) {
    Set<Hash> out = new HashSet<>(c.graph().commits());
    for (Hash h : c.graph().commits()) {
      c.graph().parents(h).forEach(out::remove);
    }
    return out;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void join_isIdempotentCommutativeAssociative_andHeadsAreMaximal(int seed) {
    Random random = new Random(seed);
    TestGraph history = CommitWalkTest.randomGraph(random, 10 + random.nextInt(80));
    List<Hash> all = history.graph().commits();
    Cdvcs a = replica(history, CommitWalkTest.pick(random, all, 1 + random.nextInt(3)), random);
    Cdvcs b = replica(history, CommitWalkTest.pick(random, all, 1 + random.nextInt(3)), random);
    Cdvcs c = replica(history, CommitWalkTest.pick(random, all, 1 + random.nextInt(3)), random);

    assertThat(snapshot(join(a, a))).as("idempotent, seed %d", seed).isEqualTo(snapshot(a));
    assertThat(snapshot(join(a, b))).as("commutative, seed %d", seed)
        .isEqualTo(snapshot(join(b, a)));
    assertThat(snapshot(join(join(a, b), c))).as("associative, seed %d", seed)
        .isEqualTo(snapshot(join(a, join(b, c))));
    for (Cdvcs s : List.of(a, b, join(a, b), join(join(a, b), c))) {
      assertThat(s.heads()).as("heads are the childless commits, seed %d", seed)
          .containsExactlyInAnyOrderElementsOf(childless(s));
      assertThat(s.heads()).as("heads are maximal, seed %d", seed)
          .containsExactlyInAnyOrderElementsOf(CommitWalk.maximal(s.graph(), s.heads()));
    }
    // the union holds exactly the commits of both sides
    Set<Hash> union = new HashSet<>(a.graph().commits());
    union.addAll(b.graph().commits());
    assertThat(new HashSet<>(join(a, b).graph().commits())).isEqualTo(union);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void missing_closesTheGapBetweenReplicas(int seed) {
    Random random = new Random(seed);
    TestGraph history = CommitWalkTest.randomGraph(random, 10 + random.nextInt(80));
    List<Hash> all = history.graph().commits();
    Cdvcs a = replica(history, CommitWalkTest.pick(random, all, 1 + random.nextInt(3)), random);
    Cdvcs b = replica(history, CommitWalkTest.pick(random, all, 1 + random.nextInt(3)), random);
    // what a sends b in a differential handshake: its commits that b's heads do not reach
    List<Update.Entry> delta = new ArrayList<>();
    for (Hash h : CommitWalk.missing(a.graph(), a.heads(), b.heads())) {
      delta.add(new Update.Entry(h, a.graph().parents(h), TestKeys.UNCHECKED));
    }
    Cdvcs received = Cdvcs.of(ADDRESS, b.graph().copy());
    received.apply(new Update(ADDRESS, delta, Map.of(), Map.of()));
    assertThat(snapshot(received)).as("seed %d", seed).isEqualTo(snapshot(join(b, a)));
  }
}
