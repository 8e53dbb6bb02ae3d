package io.replikon.bench;

import io.replikon.cdvcs.CommitGraph;
import io.replikon.value.Hash;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Measures the heap a commit graph of a given size takes, and how long building it takes. Not a
 * JMH benchmark: a plain program, because the heap figure needs explicit GCs around one build.
 *
 * <p>Run: {@code java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.CommitGraphFootprint [commits] [repetitions]} (defaults 1000000 and 5).
 *
 * <p>Heap: used heap after a full GC with the graph reachable, minus the same before building it
 * (the precomputed ids are reachable in both, so they are not counted). Build time: adding the
 * commits of {@link Histories#build} to an empty graph with ids precomputed, and separately with
 * the SHA-256 of each id computed on the way, after one untimed warm-up build.
 */
public final class CommitGraphFootprint {
  private CommitGraphFootprint() {}

  public static void main(String[] args) throws InterruptedException {
    int commits = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    System.out.printf("commit graph of %,d commits (%s); java %s, max heap %d MiB%n", commits,
        "linear, a 3-commit side branch merged back every " + Histories.PERIOD,
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);

    Hash[] ids = Histories.ids(0, commits);

    footprint("CommitGraph.create()", ids, commits, n -> CommitGraph.create());
    footprint("CommitGraph.withCapacity(n)", ids, commits, CommitGraph::withCapacity);

    buildTime("build, ids precomputed, create()", repetitions, () -> {
      CommitGraph g = CommitGraph.create();
      Histories.build(g, ids, commits);
      return g;
    });
    buildTime("build, ids precomputed, withCapacity(n)", repetitions, () -> {
      CommitGraph g = CommitGraph.withCapacity(commits);
      Histories.build(g, ids, commits);
      return g;
    });
    buildTime("build, sha256 ids computed on the way, create()", repetitions, () -> {
      CommitGraph g = CommitGraph.create();
      Histories.build(g, Histories.ids(0, commits), commits);
      return g;
    });
  }

  private static void footprint(String how, Hash[] ids, int commits,
      IntFunction<CommitGraph> factory) throws InterruptedException {
    long before = usedAfterGc();
    CommitGraph graph = factory.apply(commits);
    Histories.build(graph, ids, commits);
    long after = usedAfterGc();
    long bytes = after - before;
    System.out.printf("heap %-30s %,d commits: %,d bytes = %.1f MiB = %.1f bytes/commit%n",
        how, graph.size(), bytes, bytes / 1048576.0, (double) bytes / graph.size());
    if (graph.size() != commits) {
      throw new AssertionError(graph.size());
    }
  }

  private interface Build {
    CommitGraph run();
  }

  private static void buildTime(String what, int repetitions, Build build)
      throws InterruptedException {
    build.run(); // warm-up
    double[] ms = new double[repetitions];
    for (int r = 0; r < repetitions; r++) {
      usedAfterGc();
      long start = System.nanoTime();
      CommitGraph g = build.run();
      ms[r] = (System.nanoTime() - start) / 1e6;
      if (g.size() == 0) {
        throw new AssertionError();
      }
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    System.out.printf("time %-48s min %.0f ms, median %.0f ms, max %.0f ms (runs: %s)%n", what,
        sorted[0], sorted[repetitions / 2], sorted[repetitions - 1], format(ms));
  }

  private static String format(double[] ms) {
    StringBuilder sb = new StringBuilder();
    for (double m : ms) {
      sb.append(sb.length() == 0 ? "" : ", ").append(Math.round(m));
    }
    return sb.toString();
  }

  private static long usedAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(50);
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
