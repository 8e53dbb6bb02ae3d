package io.replikon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.JsonCbor;

/**
 * Parses one JSON value per line, strictly, through the project's one JSON to CBOR path
 * ({@link JsonCbor}, the collector's): a second value on the line, a key twice in one object, or
 * a number with a fraction or an exponent that is not a finite double ({@code 1e400}) is an error
 * that says what and at which column. Shared by the commands that read JSON lines. Thread-safe.
 */
final class JsonLineParser {
  private static final String AT_LINE_ONE = " at line 1 column ";

  JsonLineParser() {}

  /**
   * Returns the canonical CBOR encoding of the one JSON value in the bytes.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} and a one-line reason with the
   *     column if the bytes are not exactly one JSON value of the value model
   */
  byte[] encode(byte[] bytes, int offset, int length) {
    try {
      return JsonCbor.encode(bytes, offset, length);
    } catch (ReplikonException e) {
      String message = e.getMessage();
      int at = message.lastIndexOf(AT_LINE_ONE);
      if (at >= 0) { // a line of input is one line: its column is enough
        message = message.substring(0, at) + " (column "
            + message.substring(at + AT_LINE_ONE.length()) + ")";
      }
      throw new ReplikonException(e.reason(), message, e);
    }
  }

  /**
   * Parses exactly one JSON value from the bytes, as {@link #encode} reads it: the tree of that
   * encoding.
   *
   * @throws ReplikonException as {@link #encode}
   */
  JsonNode parse(byte[] bytes, int offset, int length) {
    return CanonicalCbor.decode(encode(bytes, offset, length));
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
}
