package io.replikon.client.realize;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;

/**
 * The PostgreSQL sink: the tables of {@link JdbcSink} in PostgreSQL types ({@code jsonb} params
 * and statuses, {@code timestamptz} times), a generated {@code tsvector} column over tweet text
 * with a GIN index, a transaction that cannot be applied a row of {@code rejected} (a transaction
 * holding a NUL character too: PostgreSQL stores none), and the applied-log of each address a row of {@code applied_log}, committed in
 * the same PostgreSQL transaction as the effects.
 *
 * <p>The rows of {@code ops} and {@code tweets} are batched ({@code addBatch}) and sent when the
 * batch commits, rewritten by the driver into multi-row inserts ({@code reWriteBatchedInserts}):
 * one round trip per table and batch instead of one per row. A handler querying those tables
 * therefore does not see the rows of the batch in progress.
 *
 * <p>Durability is the server's: with its default {@code synchronous_commit=on} a committed batch
 * survives a crash of the server; a failed or lost commit rolls back effects and applied-log
 * together, and the batch is realized again.
 */
final class PostgresSink extends JdbcSink {
  private final Set<PreparedStatement> pending = new LinkedHashSet<>();

  private PostgresSink(String name, Connection connection) {
    super(name, connection);
  }

  /** Where to connect, from a URL a user gave. */
  record Target(String jdbcUrl, Properties properties, String name) {}

  /**
   * Returns the JDBC URL and connection properties for {@code url}: a JDBC URL
   * ({@code jdbc:postgresql://host:port/db?...}) is taken as is; a libpq URI
   * ({@code postgresql://user:password@host:port/db?...} or {@code postgres://...}) becomes
   * {@code jdbc:postgresql://host:port/db?...} with its user and password (percent-decoded) as
   * properties. {@code reWriteBatchedInserts=true} is added unless the URL sets it.
   *
   * @throws ReplikonException {@code INVALID_INPUT} for any other URL
   */
  static Target target(String url) {
    Properties properties = new Properties();
    properties.setProperty("reWriteBatchedInserts", "true");
    properties.setProperty("ApplicationName", "replikon");
    String jdbcUrl;
    if (url.startsWith("jdbc:postgresql:")) {
      jdbcUrl = url;
    } else {
      String rest;
      if (url.startsWith("postgresql://")) {
        rest = url.substring("postgresql://".length());
      } else if (url.startsWith("postgres://")) {
        rest = url.substring("postgres://".length());
      } else {
        throw new ReplikonException(Reason.INVALID_INPUT, "not a PostgreSQL URL: expected "
            + "jdbc:postgresql://host:port/db, postgresql://user@host:port/db or postgres://...");
      }
      int end = 0;
      while (end < rest.length() && rest.charAt(end) != '/' && rest.charAt(end) != '?') {
        end++;
      }
      String authority = rest.substring(0, end);
      int at = authority.lastIndexOf('@');
      if (at >= 0) {
        String userInfo = authority.substring(0, at);
        int colon = userInfo.indexOf(':');
        String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
        if (!user.isEmpty()) {
          properties.setProperty("user", decode(user));
        }
        if (colon >= 0) {
          properties.setProperty("password", decode(userInfo.substring(colon + 1)));
        }
      }
      jdbcUrl = "jdbc:postgresql://" + authority.substring(at + 1) + rest.substring(end);
    }
    int query = jdbcUrl.indexOf('?');
    return new Target(jdbcUrl, properties, query < 0 ? jdbcUrl : jdbcUrl.substring(0, query));
  }

  private static String decode(String percentEncoded) {
    return URLDecoder.decode(percentEncoded.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  static PostgresSink open(String url) {
    Target target = target(url);
    Connection c = null;
    try {
      c = DriverManager.getConnection(target.jdbcUrl(), target.properties());
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE IF NOT EXISTS ops (seq bigserial PRIMARY KEY, "
            + "commit_id text NOT NULL, tx_index integer NOT NULL, fn text NOT NULL, "
            + "params jsonb NOT NULL)");
        s.execute("CREATE TABLE IF NOT EXISTS tweets (id bigint PRIMARY KEY, "
            + "created_at timestamptz, screen_name text, text text, json jsonb NOT NULL, "
            + "text_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED)");
        s.execute("CREATE INDEX IF NOT EXISTS tweets_text_tsv ON tweets USING gin (text_tsv)");
        s.execute("CREATE TABLE IF NOT EXISTS rejected (seq bigserial PRIMARY KEY, "
            + "commit_id text NOT NULL, tx_index integer NOT NULL, fn text NOT NULL, "
            + "params text, reason text NOT NULL)");
        s.execute("CREATE TABLE IF NOT EXISTS applied_log (address text PRIMARY KEY, "
            + "log bytea NOT NULL)");
      }
      c.commit();
      return new PostgresSink(target.name(), c);
    } catch (SQLException e) {
      closeAfter(e, c);
      throw io(e, "cannot open the PostgreSQL sink " + target.name());
    }
  }

  /**
   * Refuses a transaction holding a NUL character (U+0000) in its fn or params: PostgreSQL stores
   * none in {@code text} nor {@code jsonb}, and the failure would come only when the batch is sent,
   * for the whole batch.
   */
  @Override
  void checkStorable(AppliedTransaction t, String json) {
    if (t.fn().indexOf('\0') >= 0 || hasNulEscape(json)) {
      throw new ReplikonException(Reason.INVALID_INPUT, "PostgreSQL stores no NUL character "
          + "(U+0000), and the " + (t.fn().indexOf('\0') >= 0 ? "fn" : "params") + " of "
          + t.key() + " hold one");
    }
  }

  /** Returns true if the JSON text {@code json} holds the escape of U+0000. */
  static boolean hasNulEscape(String json) {
    for (int i = json.indexOf('\\'); i >= 0 && i + 1 < json.length();
        i = json.indexOf('\\', i + 2)) {
      if (json.charAt(i + 1) == 'u' && json.startsWith("0000", i + 2)) {
        return true;
      }
    }
    return false;
  }

  /** U+0000 becomes the six characters of its JSON escape: PostgreSQL's text holds no NUL. */
  @Override
  String storable(String text) {
    return text.indexOf('\0') < 0 ? text : text.replace("\0", "\\u0000");
  }

  @Override
  void setJson(PreparedStatement s, int index, String json) throws SQLException {
    s.setObject(index, json, Types.OTHER); // untyped: the server reads it as the column's jsonb
  }

  /** Binds the time as a {@code timestamptz}, or null if Twitter's time does not parse. */
  @Override
  void setCreatedAt(PreparedStatement s, int index, Tweets.Status status) throws SQLException {
    if (status.createdAt() == null) {
      s.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
    } else {
      s.setObject(index, OffsetDateTime.ofInstant(status.createdAt(), ZoneOffset.UTC));
    }
  }

  @Override
  void write(PreparedStatement s) throws SQLException {
    s.addBatch();
    pending.add(s);
  }

  @Override
  void flush() throws SQLException {
    for (PreparedStatement s : pending) {
      s.executeBatch();
    }
    pending.clear();
  }

  @Override
  void discard() throws SQLException {
    for (PreparedStatement s : pending) {
      s.clearBatch();
    }
    pending.clear();
  }

  @Override
  void emptyTables(Statement s) throws SQLException {
    s.execute("TRUNCATE ops, tweets, rejected, applied_log RESTART IDENTITY");
  }
}
