package io.replikon.collector;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.error.ReplikonException;
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

  /** Parses JSON text; rejects trailing content after the first value. Thread-safe. */
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private SourceSupport() {}

  /**
   * Encodes {@code [fn, params]} with {@link Chunk#encode}, or logs why it cannot be committed and
   * returns empty: the value is not a value of the data model (a string with an unpaired
   * surrogate), or its encoding does not fit in a chunk.
   *
   * @param what names the event in the log line (a status id, a time_us)
   */
  static Optional<byte[]> encode(String fn, JsonNode params, String what) {
    byte[] encoded;
    try {
      encoded = Chunk.encode(new Transaction(fn, params));
    } catch (ReplikonException e) {
      LOG.warn("skipping {} ({}): it cannot be encoded: {}", what, fn, e.getMessage());
      return Optional.empty();
    }
    if (encoded.length > Chunk.MAX_BYTES - CHUNK_HEADROOM) {
      LOG.warn("skipping {} ({}): its encoding is {} bytes, more than a chunk holds", what, fn,
          encoded.length);
      return Optional.empty();
    }
    return Optional.of(encoded);
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
