package io.replikon.client.realize;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The SQLite sink: every applied transaction is a row of {@code ops}; {@code add-tweet}s also fill
 * {@code tweets} and its full-text index {@code tweets_fts}; a transaction that cannot be applied
 * is a row of {@code rejected}; the applied-log of each address is a
 * row of {@code applied_log}, written in the same SQLite transaction as the effects.
 *
 * <p>Durability: WAL journal with {@code synchronous=NORMAL}. A committed batch survives a crash of
 * the process; a power loss or an OS crash may lose the last batches committed before it, but never
 * half of one, and since the applied-log rolls back with the effects the lost batches are simply
 * realized again: still exactly-once, at the cost of redoing a little work. FULL would fsync the
 * WAL at every commit for no gain in correctness here.
 *
 * <p>Rows are written as they are recorded (SQLite has no round trips to save by batching). What
 * it shares with the PostgreSQL sink is in {@link JdbcSink}.
 */
final class SqliteSink extends JdbcSink {
  private SqliteSink(Path file, Connection connection) {
    super(file.toString(), connection);
  }

  static SqliteSink open(Path file) {
    Connection c = null;
    try {
      c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=NORMAL");
        s.execute("PRAGMA busy_timeout=5000");
        s.execute("CREATE TABLE IF NOT EXISTS ops (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            + "commit_id TEXT NOT NULL, tx_index INTEGER NOT NULL, fn TEXT NOT NULL, "
            + "params TEXT NOT NULL)");
        s.execute("CREATE TABLE IF NOT EXISTS tweets (id INTEGER PRIMARY KEY, created_at TEXT, "
            + "screen_name TEXT, text TEXT, json TEXT NOT NULL)");
        s.execute("CREATE VIRTUAL TABLE IF NOT EXISTS tweets_fts USING fts5(text, "
            + "content='tweets', content_rowid='id')");
        s.execute("CREATE TRIGGER IF NOT EXISTS tweets_fts_insert AFTER INSERT ON tweets BEGIN "
            + "INSERT INTO tweets_fts (rowid, text) VALUES (new.id, new.text); END");
        s.execute("CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            + "commit_id TEXT NOT NULL, tx_index INTEGER NOT NULL, fn TEXT NOT NULL, "
            + "params TEXT, reason TEXT NOT NULL)");
        s.execute("CREATE TABLE IF NOT EXISTS applied_log (address TEXT PRIMARY KEY, "
            + "log BLOB NOT NULL)");
      }
      c.setAutoCommit(false);
      c.commit();
      return new SqliteSink(file, c);
    } catch (SQLException e) {
      closeAfter(e, c);
      throw io(e, "cannot open the SQLite sink " + file);
    }
  }

  @Override
  void setJson(PreparedStatement s, int index, String json) throws SQLException {
    s.setString(index, json);
  }

  /** Binds ISO-8601 (sortable) when Twitter's time parses, else the time as given. */
  @Override
  void setCreatedAt(PreparedStatement s, int index, Tweets.Status status) throws SQLException {
    Tweets.setText(s, index, status.createdAt() != null
        ? status.createdAt().toString() : status.rawCreatedAt());
  }

  @Override
  void write(PreparedStatement s) throws SQLException {
    s.executeUpdate();
  }

  @Override
  void emptyTables(Statement s) throws SQLException {
    s.execute("DELETE FROM ops");
    s.execute("DELETE FROM sqlite_sequence WHERE name = 'ops'");
    s.execute("INSERT INTO tweets_fts (tweets_fts) VALUES ('delete-all')");
    s.execute("DELETE FROM tweets");
    s.execute("DELETE FROM rejected");
    s.execute("DELETE FROM sqlite_sequence WHERE name = 'rejected'");
    s.execute("DELETE FROM applied_log");
  }
}
