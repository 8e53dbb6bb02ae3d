package io.replikon.bench;

import io.replikon.cdvcs.CommitGraph;
import io.replikon.cdvcs.CommitWalk;
import io.replikon.value.Hash;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The walks of {@link CommitWalk} near the tips of a long history: they should cost the same
 * whatever the length of the history, since generation numbers stop them where the two sides meet.
 *
 * <p>The graph holds a history of {@code commits} commits (see {@link Histories}: linear with a
 * 3-commit side branch merged back every 100 commits) ending at {@code base}, and on top of it two
 * linear branches: {@code a} of {@value #AHEAD} commits and {@code b} of {@value #OTHER} commits.
 * So the graph has {@code commits + 15} commits, and:
 *
 * <ul>
 *   <li>{@code missing}: {@code missing([a], [base])}, the other side is {@value #AHEAD} commits
 *       behind and lacks exactly those;
 *   <li>{@code missingDiverged}: {@code missing([a], [b])}, the other side has 5 commits of its
 *       own and lacks the {@value #AHEAD} of {@code a};
 *   <li>{@code lowestCommonAncestors}: of {@code a} and {@code b}, which diverged at {@code base};
 *   <li>{@code isAncestor}: {@code isAncestor(base, a)}, {@value #AHEAD} commits apart.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// AlwaysPreTouch: without it the first ~10 s of a fork measure page faults on fresh eden pages
// (about 15 us/op instead of 1 us/op here, at ~2 KB allocated per walk), not the walks.
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class CommitWalkBench {
  static final int AHEAD = 10;
  static final int OTHER = 5;

  @Param({"10000", "100000", "1000000"})
  public int commits;

  CommitGraph graph;
  Hash base;
  Hash a;
  Hash b;
  List<Hash> aHeads;
  List<Hash> bHeads;
  List<Hash> baseHeads;

  @Setup(Level.Trial)
  public void setUp() {
    Hash[] ids = Histories.ids(0, commits + AHEAD + OTHER);
    long start = System.nanoTime();
    graph = CommitGraph.create();
    base = Histories.build(graph, ids, commits);
    Hash[] aIds = new Hash[AHEAD];
    System.arraycopy(ids, commits, aIds, 0, AHEAD);
    Hash[] bIds = new Hash[OTHER];
    System.arraycopy(ids, commits + AHEAD, bIds, 0, OTHER);
    a = Histories.branch(graph, base, aIds);
    b = Histories.branch(graph, base, bIds);
    long built = System.nanoTime() - start;
    aHeads = List.of(a);
    bHeads = List.of(b);
    baseHeads = List.of(base);
    check(graph.size() == commits + AHEAD + OTHER, "size " + graph.size());
    check(graph.heads().size() == 2, "heads " + graph.heads());
    check(missing().size() == AHEAD, "missing " + missing().size());
    check(missingDiverged().size() == AHEAD, "missingDiverged " + missingDiverged().size());
    check(lowestCommonAncestors().equals(List.of(base)), "lca " + lowestCommonAncestors());
    check(isAncestor(), "isAncestor");
    check(!CommitWalk.isAncestor(graph, b, a), "b is not an ancestor of a");
    System.out.printf("%n[setup] %d commits (+%d on branches) added in %.1f ms (ids precomputed)%n",
        commits, AHEAD + OTHER, built / 1e6);
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("benchmark graph is not as designed: " + what);
    }
  }

  @Benchmark
  public List<Hash> missing() {
    return CommitWalk.missing(graph, aHeads, baseHeads);
  }

  @Benchmark
  public List<Hash> missingDiverged() {
    return CommitWalk.missing(graph, aHeads, bHeads);
  }

  @Benchmark
  public List<Hash> lowestCommonAncestors() {
    return CommitWalk.lowestCommonAncestors(graph, aHeads, bHeads);
  }

  @Benchmark
  public boolean isAncestor() {
    return CommitWalk.isAncestor(graph, base, a);
  }
}
