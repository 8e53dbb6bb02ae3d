package io.replikon.client.realize;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** The SQLite sink's default handler of {@code add-tweet}: a Twitter v1.1 status into tweets. */
final class Tweets {
  static final String ADD_TWEET = "add-tweet";
  private static final DateTimeFormatter TWITTER_TIME =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss Z yyyy", Locale.ROOT);
  private static final String INSERT = "INSERT INTO tweets (id, created_at, screen_name, text, "
      + "json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

  private Tweets() {}

  /**
   * Inserts the status in {@code t}'s params. A status already there (the same id added twice)
   * is kept once; every transaction is in {@code ops} anyway.
   */
  static void insert(SqlContext sql, AppliedTransaction t) throws SQLException {
    JsonNode status = t.transaction().params();
    long id = id(status, t);
    PreparedStatement s = sql.statement(INSERT);
    s.setLong(1, id);
    setText(s, 2, createdAt(status.path("created_at")));
    setText(s, 3, textOf(status.path("user").path("screen_name")));
    setText(s, 4, text(status));
    s.setString(5, status.toString());
    s.executeUpdate();
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

  /** Returns Twitter's time as ISO-8601 (sortable), or as given if it does not parse. */
  private static String createdAt(JsonNode node) {
    String raw = textOf(node);
    if (raw == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(raw, TWITTER_TIME).toInstant().toString();
    } catch (DateTimeParseException e) {
      return raw;
    }
  }

  private static String textOf(JsonNode node) {
    return node.isTextual() ? node.asText() : null;
  }

  private static void setText(PreparedStatement s, int index, String value) throws SQLException {
    if (value == null) {
      s.setNull(index, Types.VARCHAR);
    } else {
      s.setString(index, value);
    }
  }
}
