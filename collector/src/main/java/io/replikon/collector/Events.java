package io.replikon.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;

/** Turns incoming JSON into encoded transactions, with the reason when it cannot. */
final class Events {
  /**
   * Duplicate keys are refused: canonical encoding would otherwise drop one silently. The tree
   * builder finds them as it puts each key in its object's map (FAIL_ON_READING_DUP_TREE_KEY);
   * the parser's STRICT_DUPLICATE_DETECTION would keep a second set of names per object for the
   * same answer, a sixth of the parsing time of a tweet.
   */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
  /** The largest encoded transaction a chunk holds (its list header takes at most 5 bytes). */
  static final int MAX_ENCODED = Chunk.MAX_BYTES - 5;

  private Events() {}

  /**
   * Parses one JSON value.
   *
   * @throws ReplikonException {@code INVALID_INPUT} naming what is wrong and where
   */
  static JsonNode parse(byte[] json) {
    try {
      JsonNode value = JSON.readTree(json);
      if (value == null || value.isMissingNode()) {
        throw new ReplikonException(Reason.INVALID_INPUT, "no JSON value");
      }
      return value;
    } catch (JsonProcessingException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "invalid JSON: "
          + e.getOriginalMessage() + (e.getLocation() == null ? ""
              : " at line " + e.getLocation().getLineNr() + " column "
                  + e.getLocation().getColumnNr()));
    } catch (IOException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "invalid JSON: " + e.getMessage());
    }
  }

  /**
   * Encodes {@code [fn, value]}.
   *
   * @throws ReplikonException {@code INVALID_INPUT} if it does not fit in a chunk
   */
  static byte[] encode(String fn, JsonNode value) {
    byte[] encoded = Chunk.encode(new Transaction(fn, value));
    if (encoded.length > MAX_ENCODED) {
      throw new ReplikonException(Reason.INVALID_INPUT, "the event is " + encoded.length
          + " bytes encoded; an event holds at most " + MAX_ENCODED);
    }
    return encoded;
  }
}
