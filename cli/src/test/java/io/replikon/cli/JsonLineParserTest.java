package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.JsonCbor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonLineParserTest {
  private final JsonLineParser parser = new JsonLineParser();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void encode_givesTheCollectorsBytes_andParseTheirTree() {
    for (String json : List.of("{\"b\":1,\"aa\":[1.5,-0,1e-400]}", "18446744073709551616",
        "\"ü水\"", " [ true , null ] ")) {
      byte[] line = utf8(json);
      byte[] collector = JsonCbor.encode(line, 0, line.length);
      assertThat(parser.encode(line, 0, line.length)).isEqualTo(collector);
      assertThat(CanonicalCbor.encode(parser.parse(line, 0, line.length))).isEqualTo(collector);
    }
  }

  @Test
  void encodeAndParse_refuseANumberThatIsNotAFiniteDouble_withItsColumn() {
    byte[] line = utf8("{\"a\": 1e400}");
    for (Runnable read : List.<Runnable>of(() -> parser.encode(line, 0, line.length),
        () -> parser.parse(line, 0, line.length))) {
      assertThatThrownBy(read::run).isInstanceOf(ReplikonException.class)
          .hasMessage("invalid JSON: the number 1e400 is not a finite 64-bit float (a number "
              + "with a fraction or an exponent must be; an integer may be any size) (column 7)");
    }
  }
}
