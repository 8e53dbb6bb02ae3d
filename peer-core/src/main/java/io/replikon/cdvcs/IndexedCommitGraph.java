package io.replikon.cdvcs;

import io.replikon.value.Hash;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/*
 * Design note: a commit graph in flat arrays.
 *
 * A history of a million commits must fit in tens of megabytes and answer "who are the parents of
 * commit #i" without chasing pointers. Each commit gets a dense index in the order it was added
 * (parents first). Per index we keep the four words of its id, its generation and the span of its
 * parents in one shared parent array (CSR layout). Ids map to indexes through an open-addressing
 * table of ints with linear probing; the id words are uniformly distributed, so the low bits of
 * the first word are a good slot. About 56 bytes a commit in all.
 *
 * The walks in CommitWalk work on indexes, so they never allocate Hash objects while walking.
 */
final class IndexedCommitGraph implements CommitGraph {
  private long[] words;
  private int[] generations;
  private int[] parentStart;
  private int[] parentIndexes;
  private int parentCount;
  private int size;
  private int[] table;
  private int mask;
  private final Set<Hash> heads = new LinkedHashSet<>();

  IndexedCommitGraph(int expected) {
    int capacity = Math.max(16, expected);
    words = new long[capacity * 4];
    generations = new int[capacity];
    parentStart = new int[capacity + 1];
    parentIndexes = new int[capacity + capacity / 8];
    int tableSize = Integer.highestOneBit(Math.max(32, capacity * 2 - 1)) << 1;
    table = new int[tableSize];
    mask = tableSize - 1;
  }

  @Override
  public boolean add(Hash id, List<Hash> parents) {
    int existing = indexOf(id);
    if (existing >= 0) {
      if (!parentsAt(existing).equals(parents)) {
        throw new IllegalArgumentException("commit " + id + " is known with parents "
            + parentsAt(existing) + ", not " + parents);
      }
      return false;
    }
    int[] parentIdx = new int[parents.size()];
    int generation = 1;
    for (int k = 0; k < parentIdx.length; k++) {
      Hash parent = parents.get(k);
      int p = indexOf(parent);
      if (p < 0) {
        throw new IllegalArgumentException(
            "parent " + parent + " of commit " + id + " is not in the graph");
      }
      for (int j = 0; j < k; j++) {
        if (parentIdx[j] == p) {
          throw new IllegalArgumentException("commit " + id + " names parent " + parent + " twice");
        }
      }
      parentIdx[k] = p;
      generation = Math.max(generation, generations[p] + 1);
    }
    ensureCapacity(size + 1, parentCount + parentIdx.length);
    int index = size;
    words[4 * index] = id.w0();
    words[4 * index + 1] = id.w1();
    words[4 * index + 2] = id.w2();
    words[4 * index + 3] = id.w3();
    generations[index] = generation;
    System.arraycopy(parentIdx, 0, parentIndexes, parentCount, parentIdx.length);
    parentCount += parentIdx.length;
    parentStart[index + 1] = parentCount;
    size++;
    insertSlot(id, index);
    for (Hash parent : parents) {
      heads.remove(parent);
    }
    heads.add(id);
    return true;
  }

  @Override
  public boolean contains(Hash id) {
    return indexOf(id) >= 0;
  }

  @Override
  public List<Hash> parents(Hash id) {
    return parentsAt(require(id));
  }

  @Override
  public int generation(Hash id) {
    return generations[require(id)];
  }

  @Override
  public Set<Hash> heads() {
    return Collections.unmodifiableSet(heads);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public List<Hash> commits() {
    return new AbstractList<>() {
      @Override
      public Hash get(int index) {
        if (index < 0 || index >= size) {
          throw new IndexOutOfBoundsException(index);
        }
        return idAt(index);
      }

      @Override
      public int size() {
        return size;
      }
    };
  }

  @Override
  public CommitGraph copy() {
    IndexedCommitGraph copy = new IndexedCommitGraph(size);
    copy.words = Arrays.copyOf(words, words.length);
    copy.generations = Arrays.copyOf(generations, generations.length);
    copy.parentStart = Arrays.copyOf(parentStart, parentStart.length);
    copy.parentIndexes = Arrays.copyOf(parentIndexes, parentIndexes.length);
    copy.parentCount = parentCount;
    copy.size = size;
    copy.table = Arrays.copyOf(table, table.length);
    copy.mask = mask;
    copy.heads.addAll(heads);
    return copy;
  }

  @Override
  public String toString() {
    return "CommitGraph[" + size + " commits, heads " + heads + "]";
  }

  // ---- index-level access for CommitWalk ----

  /** Returns the index of a commit, or -1 if it is not in the graph. */
  int indexOf(Hash id) {
    int slot = (int) (id.w0() ^ id.w0() >>> 32) & mask;
    while (true) {
      int entry = table[slot];
      if (entry == 0) {
        return -1;
      }
      int i = entry - 1;
      int w = 4 * i;
      if (words[w] == id.w0() && words[w + 1] == id.w1() && words[w + 2] == id.w2()
          && words[w + 3] == id.w3()) {
        return i;
      }
      slot = (slot + 1) & mask;
    }
  }

  Hash idAt(int index) {
    int w = 4 * index;
    return new Hash(words[w], words[w + 1], words[w + 2], words[w + 3]);
  }

  int generationAt(int index) {
    return generations[index];
  }

  int parentCountAt(int index) {
    return parentStart[index + 1] - parentStart[index];
  }

  int parentAt(int index, int k) {
    return parentIndexes[parentStart[index] + k];
  }

  List<Hash> parentsAt(int index) {
    int from = parentStart[index];
    int count = parentStart[index + 1] - from;
    Hash[] out = new Hash[count];
    for (int k = 0; k < count; k++) {
      out[k] = idAt(parentIndexes[from + k]);
    }
    return List.of(out);
  }

  private int require(Hash id) {
    int index = indexOf(id);
    if (index < 0) {
      throw new IllegalArgumentException("commit " + id + " is not in the graph");
    }
    return index;
  }

  private void insertSlot(Hash id, int index) {
    if (2 * size > table.length) {
      rehash(table.length * 2); // places every commit up to this one
      return;
    }
    int slot = (int) (id.w0() ^ id.w0() >>> 32) & mask;
    while (table[slot] != 0) {
      slot = (slot + 1) & mask;
    }
    table[slot] = index + 1;
  }

  private void rehash(int newSize) {
    table = new int[newSize];
    mask = newSize - 1;
    for (int i = 0; i < size; i++) {
      long w0 = words[4 * i];
      int slot = (int) (w0 ^ w0 >>> 32) & mask;
      while (table[slot] != 0) {
        slot = (slot + 1) & mask;
      }
      table[slot] = i + 1;
    }
  }

  private void ensureCapacity(int commits, int parents) {
    if (commits > generations.length) {
      int newCapacity = Math.max(commits, generations.length + (generations.length >> 1));
      words = Arrays.copyOf(words, newCapacity * 4);
      generations = Arrays.copyOf(generations, newCapacity);
      parentStart = Arrays.copyOf(parentStart, newCapacity + 1);
    }
    if (parents > parentIndexes.length) {
      int grown = parentIndexes.length + (parentIndexes.length >> 1);
      parentIndexes = Arrays.copyOf(parentIndexes, Math.max(parents, grown));
    }
  }
}
