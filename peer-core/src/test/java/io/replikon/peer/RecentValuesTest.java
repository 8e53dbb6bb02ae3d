package io.replikon.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.value.Hash;
import org.junit.jupiter.api.Test;

class RecentValuesTest {
  static Hash h(int i) {
    return Hash.sha256(new byte[] {(byte) i});
  }

  @Test
  void keepsTheLastValuesWithinItsBudget_droppingTheLeastRecentlyUsed() {
    RecentValues r = new RecentValues(100);
    r.put(h(1), new byte[40]);
    r.put(h(2), new byte[40]);
    assertThat(r.get(h(1))).hasSize(40); // now h(2) is the least recently used
    r.put(h(3), new byte[40]);
    assertThat(r.get(h(2))).isNull();
    assertThat(r.get(h(1))).isNotNull();
    assertThat(r.get(h(3))).isNotNull();
    assertThat(r.bytes()).isEqualTo(80);
  }

  @Test
  void aValueOverTheBudget_isNotKept_andPuttingAgainCountsOnce() {
    RecentValues r = new RecentValues(100);
    r.put(h(1), new byte[101]);
    assertThat(r.size()).isZero();
    r.put(h(2), new byte[30]);
    r.put(h(2), new byte[30]);
    assertThat(r.bytes()).isEqualTo(30);
    assertThat(r.size()).isEqualTo(1);
  }
}
