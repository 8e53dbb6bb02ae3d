package io.replikon.client.realize;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * The SQL sinks' default handler of {@code add-tweet}: a Twitter v1.1 status into {@code tweets}.
 * The parsing is shared; each sink binds the values its column types take ({@link JdbcSink}).
 */
final class Tweets {
  static final String ADD_TWEET = "add-tweet";
  private static final DateTimeFormatter TWITTER_TIME =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss Z yyyy", Locale.ROOT);
  private static final String INSERT = "INSERT INTO tweets (id, created_at, screen_name, text, "
      + "json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

  private Tweets() {}

  /**
   * The columns of a status.
   *
   * @param id the status id
   * @param rawCreatedAt Twitter's {@code created_at} as given, or null
   * @param createdAt {@code rawCreatedAt} parsed, or null if absent or unparseable
   * @param screenName the author's screen name, or null
   * @param text the most complete text, or null
   * @param json the whole status as JSON
   */
  record Status(long id, String rawCreatedAt, Instant createdAt, String screenName, String text,
      String json) {}

  /**
   * Inserts the status in {@code t}'s params through {@code sink}. A status already there (the
   * same id added twice) is kept once; every transaction is in {@code ops} anyway.
   */
  static void insert(JdbcSink sink, AppliedTransaction t) throws SQLException {
    String json;
    try {
      json = sink.paramsJson(t);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "the status of "
          + t.key() + " cannot be written as JSON: " + e.getMessage(), e);
    }
    Status status = parse(t, json);
    PreparedStatement s = sink.statement(INSERT);
    s.setLong(1, status.id());
    sink.setCreatedAt(s, 2, status);
    setText(s, 3, status.screenName());
    setText(s, 4, status.text());
    sink.setJson(s, 5, status.json());
    sink.write(s);
  }

  /** Returns the columns of the status in {@code t}'s params, whose JSON is {@code json}. */
  static Status parse(AppliedTransaction t, String json) {
    JsonNode status = t.transaction().params();
    String raw = textOf(status.path("created_at"));
    return new Status(id(status, t), raw, parseTime(raw),
        textOf(status.path("user").path("screen_name")), text(status), json);
  }

  private static long id(JsonNode status, AppliedTransaction t) {
    JsonNode id = status.path("id");
    if (id.isIntegralNumber() && id.canConvertToLong()) {
      return id.asLong();
    }
    JsonNode idStr = status.path("id_str");
    if (idStr.isTextual()) {
      try {
        return Long.parseLong(idStr.asText());
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new ReplikonException(Reason.INVALID_INPUT, "add-tweet " + t.key()
        + ": the status has no id (an integer id or a numeric id_str)");
  }

  /** Returns the most complete text: extended_tweet.full_text, full_text, then text. */
  static String text(JsonNode status) {
    JsonNode extended = status.path("extended_tweet").path("full_text");
    if (extended.isTextual()) {
      return extended.asText();
    }
    if (status.path("full_text").isTextual()) {
      return status.get("full_text").asText();
    }
    return textOf(status.path("text"));
  }

  /** Returns Twitter's time parsed, or null if absent or it does not parse. */
  private static Instant parseTime(String raw) {
    if (raw == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(raw, TWITTER_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String textOf(JsonNode node) {
    return node.isTextual() ? node.asText() : null;
  }

  static void setText(PreparedStatement s, int index, String value) throws SQLException {
    if (value == null) {
      s.setNull(index, Types.VARCHAR);
    } else {
      s.setString(index, value);
    }
  }
}
