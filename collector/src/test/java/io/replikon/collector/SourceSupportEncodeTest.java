package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.cdvcs.Chunk;
import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SourceSupportEncodeTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encodedJson(byte[] json) {
    return SourceSupport.encodedJson("f", json, 0, json.length);
  }

  @Test
  void encodedJson_duplicateKeysAtAnyDepth_areRefusedWithTheirName() {
    for (String json : new String[] {
        "{\"a\":1,\"a\":2}",
        "{\"a\":null,\"a\":null}",
        "{\"user\":{\"id\":1,\"name\":\"x\",\"id\":2}}",
        "[{\"ok\":1},{\"k\":[{\"z\":{\"dup\":1,\"dup\":{}}}]}]",
        "{\"a\":{},\"b\":[],\"a\":[]}"}) {
      assertThatThrownBy(() -> encodedJson(utf8(json)), json)
          .isInstanceOfSatisfying(ReplikonException.class, e -> assertThat(e.reason())
              .isEqualTo(ReplikonException.Reason.INVALID_INPUT))
          .hasMessageContaining("duplicate key \"");
    }
  }

  @Test
  void encodedJsonElements_sameKeyInSiblingObjects_isNoDuplicate() {
    assertThat(SourceSupport.encodedJsonElements("f",
        utf8("[{\"id\":1,\"u\":{\"id\":2}},{\"id\":3}]"))).hasSize(2);
  }

  @Test
  void encodedJsonElements_anEventTooLargeForAChunk_isRefusedByItsIndex() {
    String big = "\"" + "x".repeat(Chunk.MAX_BYTES) + "\"";
    assertThatThrownBy(() -> SourceSupport.encodedJsonElements("f", utf8("[1," + big + "]")))
        .isInstanceOf(ReplikonException.class)
        .hasMessageStartingWith("event 1: the event is ");
    assertThatThrownBy(() -> encodedJson(utf8(big)))
        .hasMessageStartingWith("the event is ");
  }
}
