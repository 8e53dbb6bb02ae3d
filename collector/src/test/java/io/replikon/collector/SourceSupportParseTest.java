package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SourceSupportParseTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void parse_duplicateKeysAtAnyDepth_areRefusedWithTheirName() {
    for (String json : new String[] {
        "{\"a\":1,\"a\":2}",
        "{\"a\":null,\"a\":null}",
        "{\"user\":{\"id\":1,\"name\":\"x\",\"id\":2}}",
        "[{\"ok\":1},{\"k\":[{\"z\":{\"dup\":1,\"dup\":{}}}]}]",
        "{\"a\":{},\"b\":[],\"a\":[]}"}) {
      assertThatThrownBy(() -> SourceSupport.parse(utf8(json)), json)
          .isInstanceOfSatisfying(ReplikonException.class, e -> assertThat(e.reason())
              .isEqualTo(ReplikonException.Reason.INVALID_INPUT))
          .hasMessageContaining("Duplicate field");
    }
  }

  @Test
  void parse_sameKeyInSiblingObjects_isNoDuplicate() {
    assertThat(SourceSupport.parse(utf8("[{\"id\":1,\"u\":{\"id\":2}},{\"id\":3}]")).size())
        .isEqualTo(2);
  }
}
