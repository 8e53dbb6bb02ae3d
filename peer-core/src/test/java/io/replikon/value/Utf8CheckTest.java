package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decoder's UTF-8 check agrees with the JDK's strict decoder, byte for byte. */
class Utf8CheckTest {

  static boolean jdkAccepts(byte[] b) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  @Test
  void wellFormedUtf8_agreesWithTheJdkOnRandomBytes() {
    Random random = new Random(42);
    int accepted = 0;
    for (int round = 0; round < 200_000; round++) {
      byte[] b = new byte[1 + random.nextInt(6)];
      for (int i = 0; i < b.length; i++) {
        // bias towards lead and continuation bytes, where the edge cases are
        int kind = random.nextInt(4);
        b[i] = (byte) (kind == 0 ? random.nextInt(0x80)
            : kind == 1 ? 0x80 + random.nextInt(0x40) : 0xc0 + random.nextInt(0x40));
      }
      boolean expected = jdkAccepts(b);
      assertThat(CborDecoder.wellFormedUtf8(b, 0, b.length))
          .as("bytes %s", java.util.HexFormat.of().formatHex(b)).isEqualTo(expected);
      accepted += expected ? 1 : 0;
    }
    assertThat(accepted).as("the sample holds well-formed strings too").isGreaterThan(1_000);
  }

  @Test
  void wellFormedUtf8_edgeCases() {
    assertThat(CborDecoder.wellFormedUtf8("😀 水 ü".getBytes(StandardCharsets.UTF_8), 0, 11))
        .isTrue();
    assertThat(CborDecoder.wellFormedUtf8(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, 0,
        3)).as("a surrogate").isFalse();
    assertThat(CborDecoder.wellFormedUtf8(new byte[] {(byte) 0xc0, (byte) 0x80}, 0, 2))
        .as("overlong NUL").isFalse();
    assertThat(CborDecoder.wellFormedUtf8(new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80,
        (byte) 0x80}, 0, 4)).as("above U+10FFFF").isFalse();
    assertThat(CborDecoder.wellFormedUtf8(new byte[] {(byte) 0xe2, (byte) 0x82}, 0, 2))
        .as("truncated").isFalse();
  }
}
