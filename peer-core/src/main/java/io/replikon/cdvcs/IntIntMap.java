package io.replikon.cdvcs;

/**
 * An open-addressing map from non-negative ints to ints (absent reads as 0), sized to what a walk
 * visits rather than to the whole graph. Not thread-safe.
 */
final class IntIntMap {
  private int[] keys; // key + 1; 0 marks an empty slot
  private int[] values;
  private int size;

  IntIntMap(int expected) {
    int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
    keys = new int[capacity];
    values = new int[capacity];
  }

  int get(int key) {
    int mask = keys.length - 1;
    int slot = mix(key) & mask;
    while (true) {
      int k = keys[slot];
      if (k == 0) {
        return 0;
      }
      if (k == key + 1) {
        return values[slot];
      }
      slot = (slot + 1) & mask;
    }
  }

  void put(int key, int value) {
    int mask = keys.length - 1;
    int slot = mix(key) & mask;
    while (true) {
      int k = keys[slot];
      if (k == 0) {
        keys[slot] = key + 1;
        values[slot] = value;
        if (++size * 2 > keys.length) {
          grow();
        }
        return;
      }
      if (k == key + 1) {
        values[slot] = value;
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  int size() {
    return size;
  }

  private void grow() {
    int[] oldKeys = keys;
    int[] oldValues = values;
    keys = new int[oldKeys.length * 2];
    values = new int[oldKeys.length * 2];
    int mask = keys.length - 1;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != 0) {
        int slot = mix(oldKeys[i] - 1) & mask;
        while (keys[slot] != 0) {
          slot = (slot + 1) & mask;
        }
        keys[slot] = oldKeys[i];
        values[slot] = oldValues[i];
      }
    }
  }

  private static int mix(int key) {
    int h = key * 0x9E3779B9;
    return h ^ h >>> 16;
  }
}
