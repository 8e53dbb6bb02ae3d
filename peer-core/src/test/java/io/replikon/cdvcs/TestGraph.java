package io.replikon.cdvcs;

import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small DSL for commit graphs in tests, after JGit's {@code commit(commit(a))}: each call makes a
 * commit with the given parents and returns its id, and the builder keeps a brute-force model
 * (the parents of every commit, searched plainly) to check the walks against.
 */
final class TestGraph {
  private final CommitGraph graph = CommitGraph.create();
  private final Map<Hash, List<Hash>> parents = new LinkedHashMap<>();
  private final Map<Hash, String> names = new HashMap<>();
  private int counter;

  /** Makes a commit with these parents (none: a root). */
  Hash commit(Hash... parentIds) {
    Hash id = Hash.sha256(("commit " + counter++).getBytes(StandardCharsets.UTF_8));
    List<Hash> ps = List.of(parentIds);
    graph.add(id, ps);
    parents.put(id, ps);
    names.put(id, "c" + (counter - 1));
    return id;
  }

  /** Makes a chain of {@code n} commits on top of {@code base} and returns the last. */
  Hash chain(Hash base, int n) {
    Hash tip = base;
    for (int i = 0; i < n; i++) {
      tip = commit(tip);
    }
    return tip;
  }

  CommitGraph graph() {
    return graph;
  }

  Map<Hash, List<Hash>> parentMap() {
    return parents;
  }

  /** The commit and all its ancestors, from the model (a plain search: for small graphs). */
  Set<Hash> ancestorsOf(Hash id) {
    Set<Hash> out = new HashSet<>();
    Deque<Hash> todo = new ArrayDeque<>(List.of(id));
    while (!todo.isEmpty()) {
      Hash c = todo.pop();
      if (out.add(c)) {
        todo.addAll(parents.get(c));
      }
    }
    return out;
  }

  /** The union of the ancestor sets of these commits, from the model. */
  Set<Hash> ancestorsOf(Iterable<Hash> ids) {
    Set<Hash> out = new HashSet<>();
    for (Hash h : ids) {
      out.addAll(ancestorsOf(h));
    }
    return out;
  }

  String name(Hash id) {
    return names.getOrDefault(id, id.shortHex());
  }
}
