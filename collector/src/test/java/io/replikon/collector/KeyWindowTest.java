package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

class KeyWindowTest {

  /** Against a reference model: a map plus a queue of the newest {@code capacity} keys. */
  @RepeatedTest(20)
  void put_manyKeys_remembersExactlyTheNewestCapacity(RepetitionInfo info) {
    Random random = new Random(info.getCurrentRepetition());
    int capacity = 1 + random.nextInt(300);
    KeyWindow window = new KeyWindow(capacity);
    Map<Long, Integer> model = new HashMap<>();
    ArrayDeque<Long> order = new ArrayDeque<>();
    for (int i = 0; i < 5_000; i++) {
      // small key space with clustered hashes: collisions and long probe chains
      long hash = 1 + random.nextInt(2_000) * (random.nextBoolean() ? 1L : 1L << 32);
      int count = random.nextInt(1000);
      if (!model.containsKey(hash)) {
        if (order.size() == capacity) {
          model.remove(order.removeFirst());
        }
        model.put(hash, count);
        order.addLast(hash);
      }
      window.put(hash, count);
      long probe = 1 + random.nextInt(2_000);
      assertThat(window.get(probe)).isEqualTo(model.getOrDefault(probe, -1));
    }
    assertThat(window.size()).isEqualTo(order.size());
    long[] oldestFirst = window.hashesOldestFirst();
    assertThat(oldestFirst).containsExactly(order.stream().mapToLong(Long::longValue).toArray());
    for (long h : order) {
      assertThat(window.get(h)).isEqualTo(model.get(h));
    }
  }
}
