package io.replikon.client.realize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The SQLite sink: every applied transaction is a row of {@code ops}; {@code add-tweet}s also fill
 * {@code tweets} and its full-text index {@code tweets_fts}; the applied-log of each address is a
 * row of {@code applied_log}, written in the same SQLite transaction as the effects.
 *
 * <p>Durability: WAL journal with {@code synchronous=NORMAL}. A committed batch survives a crash of
 * the process; a power loss or an OS crash may lose the last batches committed before it, but never
 * half of one, and since the applied-log rolls back with the effects the lost batches are simply
 * realized again: still exactly-once, at the cost of redoing a little work. FULL would fsync the
 * WAL at every commit for no gain in correctness here.
 */
final class SqliteSink implements Sink<SqlContext>, SqlContext {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final String INSERT_OP =
      "INSERT INTO ops (commit_id, tx_index, fn, params) VALUES (?, ?, ?, ?)";

  private final Path file;
  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  private SqliteSink(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
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
        s.execute("CREATE TABLE IF NOT EXISTS applied_log (address TEXT PRIMARY KEY, "
            + "log BLOB NOT NULL)");
      }
      c.setAutoCommit(false);
      c.commit();
      return new SqliteSink(file, c);
    } catch (SQLException e) {
      if (c != null) {
        try {
          c.close();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw io(e, "cannot open the SQLite sink " + file);
    }
  }

  @Override
  public AppliedLog load(Address address) {
    try {
      PreparedStatement s = statement("SELECT log FROM applied_log WHERE address = ?");
      s.setString(1, address.toString());
      AppliedLog log = AppliedLog.EMPTY;
      try (ResultSet r = s.executeQuery()) {
        if (r.next()) {
          log = AppliedLog.decode(r.getBytes(1));
        }
      }
      connection.commit();
      return log;
    } catch (SQLException e) {
      throw io(e, "cannot read the applied-log of " + address + " from " + file);
    }
  }

  @Override
  public Batch<SqlContext> begin(Address address) {
    return new Batch<>() {
      boolean done;

      @Override
      public SqlContext record(AppliedTransaction t) {
        try {
          PreparedStatement s = statement(INSERT_OP);
          s.setString(1, t.commit().hex());
          s.setInt(2, t.index());
          s.setString(3, t.fn());
          s.setString(4, JSON.writeValueAsString(t.transaction().params()));
          s.executeUpdate();
          return SqliteSink.this;
        } catch (SQLException e) {
          throw io(e, "cannot insert into ops of " + file);
        } catch (JsonProcessingException e) {
          throw new ReplikonException(Reason.INVALID_INPUT, "the params of transaction "
              + t.key() + " cannot be written as JSON: " + e.getMessage(), e);
        }
      }

      @Override
      public void commit(AppliedLog log) {
        try {
          PreparedStatement s =
              statement("INSERT OR REPLACE INTO applied_log (address, log) VALUES (?, ?)");
          s.setString(1, address.toString());
          s.setBytes(2, log.encode());
          s.executeUpdate();
          connection.commit();
          done = true;
        } catch (SQLException e) {
          throw io(e, "cannot commit a batch to " + file);
        }
      }

      @Override
      public void close() {
        if (!done) {
          done = true;
          rollback();
        }
      }
    };
  }

  @Override
  public void reset(Address address) {
    try (Statement s = connection.createStatement()) {
      s.execute("DELETE FROM ops");
      s.execute("DELETE FROM sqlite_sequence WHERE name = 'ops'");
      s.execute("INSERT INTO tweets_fts (tweets_fts) VALUES ('delete-all')");
      s.execute("DELETE FROM tweets");
      s.execute("DELETE FROM applied_log");
      connection.commit();
    } catch (SQLException e) {
      rollback();
      throw io(e, "cannot reset " + file);
    }
  }

  @Override
  public Map<String, Handler<SqlContext>> defaultHandlers() {
    return Map.of(Tweets.ADD_TWEET, Tweets::insert);
  }

  @Override
  public boolean exactlyOnce() {
    return true;
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public PreparedStatement statement(String sql) throws SQLException {
    PreparedStatement s = statements.get(sql);
    if (s == null) {
      s = connection.prepareStatement(sql);
      statements.put(sql, s);
    }
    return s;
  }

  @Override
  public void close() {
    try {
      rollback();
      for (PreparedStatement s : statements.values()) {
        s.close();
      }
      statements.clear();
      connection.close();
    } catch (SQLException e) {
      throw io(e, "cannot close " + file);
    }
  }

  private void rollback() {
    try {
      connection.rollback();
    } catch (SQLException e) {
      throw io(e, "cannot roll back a batch in " + file);
    }
  }

  private static ReplikonException io(SQLException e, String what) {
    return new ReplikonException(Reason.STORE_IO, what + ": " + e.getMessage(), e);
  }
}
