package io.replikon.storage;

import static io.replikon.storage.StoreContract.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeysTest {
  @Test
  void successor_ofPrefix_isTheFirstKeyPastTheRange() {
    assertThat(Keys.successor(new byte[0])).isNull();
    assertThat(Keys.successor(bytes(0xff, 0xff))).isNull();
    assertThat(Keys.successor(bytes(0x01, 0xff))).isEqualTo(bytes(0x02));
    assertThat(Keys.successor(bytes(0x01, 0x7f))).isEqualTo(bytes(0x01, 0x80));
    assertThat(Keys.successor(bytes(0x00))).isEqualTo(bytes(0x01));
  }

  @Test
  void startsWith_comparesThePrefixBytes() {
    assertThat(Keys.startsWith(bytes(1, 2, 3), bytes(1, 2))).isTrue();
    assertThat(Keys.startsWith(bytes(1, 2), bytes(1, 2))).isTrue();
    assertThat(Keys.startsWith(bytes(1, 2), new byte[0])).isTrue();
    assertThat(Keys.startsWith(bytes(1), bytes(1, 2))).isFalse();
    assertThat(Keys.startsWith(bytes(1, 3), bytes(1, 2))).isFalse();
  }
}
