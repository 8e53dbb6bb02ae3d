package io.replikon.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NumericNode;
import io.replikon.error.ReplikonException;
import java.io.IOException;

/**
 * Parses one JSON value per line, strictly: a second value on the line, a key twice in one object
 * or a number too large for a double is an error. Shared by the commands that read JSON lines.
 * Thread-safe.
 */
final class JsonLineParser {
  private final ObjectMapper mapper;

  JsonLineParser() {
    JsonFactory factory =
        JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    this.mapper = JsonMapper.builder(factory).nodeFactory(new FiniteNodeFactory()).build();
  }

  /**
   * Parses exactly one JSON value from the bytes; a second value, or anything but whitespace
   * after the first, is an error.
   */
  JsonNode parse(byte[] bytes, int offset, int length) throws IOException {
    try (JsonParser parser = mapper.createParser(bytes, offset, length)) {
      JsonNode node = mapper.readTree(parser);
      JsonToken next = parser.nextToken();
      if (next != null) {
        throw new JsonParseException(
            parser, "more than one JSON value on the line", parser.currentTokenLocation());
      }
      return node;
    }
  }

  static boolean isBlank(byte[] bytes, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      byte b = bytes[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** Returns the reason of a parse failure, with its column, for a one-line message. */
  static String reason(JacksonException e) {
    String message = e.getOriginalMessage();
    JsonLocation location = e.getLocation();
    if (location != null && location.getColumnNr() > 0) {
      message += " (column " + location.getColumnNr() + ")";
    }
    return message;
  }

  /**
   * Builds JSON trees whose floats are finite: JSON has no infinity, so a number that overflows a
   * double (1e400) is an error rather than a silent infinity.
   */
  private static final class FiniteNodeFactory extends JsonNodeFactory {
    private static final long serialVersionUID = 1L;

    @Override
    public NumericNode numberNode(double v) {
      if (Double.isInfinite(v)) {
        throw new ReplikonException(
            ReplikonException.Reason.MALFORMED_VALUE,
            "a number is out of the range of a 64-bit float");
      }
      return super.numberNode(v);
    }
  }
}
