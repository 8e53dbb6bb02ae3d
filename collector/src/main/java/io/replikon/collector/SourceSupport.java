package io.replikon.collector;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Chunk;
import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the stream sources share: encoding one event as a transaction, and handing a submission to
 * an {@link Intake} until it is accepted.
 *
 * <p>Stateless and thread-safe.
 */
final class SourceSupport {
  private static final Logger LOG = LoggerFactory.getLogger(SourceSupport.class);

  /**
   * Room left in a chunk for the array header around one transaction: an encoding larger than
   * {@code Chunk.MAX_BYTES - CHUNK_HEADROOM} would not fit in a chunk of its own.
   */
  private static final int CHUNK_HEADROOM = 16;

  /**
   * Parses JSON text into trees, for the sources that look inside their messages (Twitter,
   * Jetstream); rejects trailing content after the first value, and duplicate keys (canonical
   * encoding would otherwise keep one of them silently), found by the tree builder as it puts
   * each key in its object's map. Thread-safe.
   */
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private SourceSupport() {}

  /**
   * Encodes {@code [fn, params]} for the JSON text {@code json} through the one JSON-to-CBOR path
   * ({@link #encodedJson}), or logs why it cannot be committed and returns empty: the text is not
   * a value of the data model (a number that is not a finite double, an unpaired surrogate,
   * duplicate keys), its encoding does not fit in a chunk, or it is an {@code add-tweet} without
   * an id. The sources that parse a message to route it still encode its text, not their tree, so
   * every source follows the same rules.
   *
   * @param what names the event in the log line (a status id, a time_us)
   */
  static Optional<byte[]> encode(String fn, String json, String what) {
    try {
      byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
      return Optional.of(encodedJson(fn, utf8, 0, utf8.length));
    } catch (ReplikonException e) {
      LOG.warn("skipping {} ({}): {}", what, fn, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Encodes {@code [fn, value]} for the JSON text {@code json[offset, offset + length)}, straight
   * from the text ({@link Chunk#encodeJson}): the bytes {@code Chunk.encode} gives for the parsed
   * tree.
   *
   * @throws ReplikonException {@code INVALID_INPUT} naming what is wrong and where: not one JSON
   *     value, duplicate keys, a number that is not a finite double, too large for a chunk, or
   *     (for {@code add-tweet}) not an object with an integer {@code id} or numeric
   *     {@code id_str}
   */
  static byte[] encodedJson(String fn, byte[] json, int offset, int length) {
    return checked(fn, fitting(Chunk.encodeJson(fn, json, offset, length)));
  }

  /**
   * Returns {@code encoded} if a sink can apply it: an {@code add-tweet} must be a tweet ({@link
   * TweetCheck}); other functions are not checked.
   *
   * @throws ReplikonException {@code INVALID_INPUT} with the reason otherwise
   */
  static byte[] checked(String fn, byte[] encoded) {
    if (fn.equals(TweetCheck.FN)) {
      String problem = TweetCheck.problem(encoded);
      if (problem != null) {
        throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT, problem);
      }
    }
    return encoded;
  }

  /**
   * As {@link #encodedJson}, one event per element if the text is a JSON array.
   *
   * @throws ReplikonException {@code INVALID_INPUT} as {@link #encodedJson}; for an event too
   *     large or not a tweet, the message names its index in the array
   */
  static List<byte[]> encodedJsonElements(String fn, byte[] json) {
    List<byte[]> out = Chunk.encodeJsonElements(fn, json, 0, json.length);
    for (int i = 0; i < out.size(); i++) {
      try {
        checked(fn, fitting(out.get(i)));
      } catch (ReplikonException e) {
        throw new ReplikonException(e.reason(), "event " + i + ": " + e.getMessage());
      }
    }
    return out;
  }

  /**
   * As {@link #encodedJson} for each line of newline-delimited JSON (blank lines skipped).
   *
   * @throws ReplikonException {@code INVALID_INPUT} as {@link #encodedJson}, naming the line
   */
  static List<byte[]> encodedJsonLines(String fn, byte[] ndjson) {
    List<byte[]> out = new java.util.ArrayList<>();
    int start = 0;
    int line = 0;
    while (start < ndjson.length) {
      int end = JsonLinesSource.indexOfNewline(ndjson, start, ndjson.length);
      if (end < 0) {
        end = ndjson.length;
      }
      line++;
      boolean blank = true;
      for (int i = start; i < end && blank; i++) {
        blank = ndjson[i] == ' ' || ndjson[i] == '\t' || ndjson[i] == '\r';
      }
      if (!blank) {
        try {
          out.add(encodedJson(fn, ndjson, start, end - start));
        } catch (ReplikonException e) {
          throw new ReplikonException(e.reason(), "line " + line + ": " + e.getMessage());
        }
      }
      start = end + 1;
    }
    return out;
  }

  /** Returns {@code encoded} if it fits in a chunk of its own, else refuses it. */
  private static byte[] fitting(byte[] encoded) {
    if (encoded.length > Chunk.MAX_BYTES - CHUNK_HEADROOM) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT, "the event is "
          + encoded.length + " bytes encoded; an event holds at most "
          + (Chunk.MAX_BYTES - CHUNK_HEADROOM));
    }
    return encoded;
  }

  /**
   * Submits {@code submission} and waits until it is journaled. Waits for capacity before every
   * attempt ({@link Intake#awaitCapacity}) and tries again after {@code OVERLOADED}.
   *
   * @return what the intake answered
   * @throws ReplikonException what the intake failed with, other than {@code OVERLOADED}
   *     ({@code STORE_CLOSED} once the collector closed, {@code STORE_IO}, ...); a failure that is
   *     not a {@code ReplikonException} is wrapped in one with reason {@code STORE_IO}
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  static Accepted submit(Intake intake, Submission submission) throws InterruptedException {
    while (true) {
      intake.awaitCapacity();
      try {
        return intake.submit(submission).get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof CompletionException && cause.getCause() != null) {
          cause = cause.getCause();
        }
        if (cause instanceof ReplikonException re) {
          if (re.reason() == ReplikonException.Reason.OVERLOADED) {
            LOG.debug("the intake is overloaded; waiting for capacity");
            continue;
          }
          throw re;
        }
        throw new ReplikonException(ReplikonException.Reason.STORE_IO,
            "the collector failed to journal events: " + cause, cause);
      }
    }
  }

  /** Returns {@code text} cut to at most 200 characters, for log lines. */
  static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "…";
  }
}
