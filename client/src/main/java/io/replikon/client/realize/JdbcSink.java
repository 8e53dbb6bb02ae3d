package io.replikon.client.realize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.ByteBuilder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * What the SQL sinks share: the tables {@code ops}, {@code tweets}, {@code rejected} and
 * {@code applied_log}, the
 * statements that write them, and the transaction of a batch (effects and applied-log commit
 * together: exactly-once). A subclass creates the tables, says how it binds the values whose
 * column types differ (JSON, time), whether a row is written at once or batched, and how it
 * empties its tables.
 *
 * <p>Not thread-safe, like every {@link Sink}; its methods do JDBC I/O and block.
 */
abstract class JdbcSink implements Sink<SqlContext>, SqlContext {
  static final ObjectMapper JSON = new ObjectMapper();
  /** The transaction whose params were last written as JSON, and that JSON. */
  private AppliedTransaction lastParams;
  private String lastParamsJson;
  /** Where params are transcoded to JSON (kept from one transaction to the next). */
  private final ByteBuilder json = new ByteBuilder(16 * 1024);
  private static final String INSERT_OP =
      "INSERT INTO ops (commit_id, tx_index, fn, params) VALUES (?, ?, ?, ?)";
  private static final String INSERT_REJECTED = "INSERT INTO rejected (commit_id, tx_index, fn, "
      + "params, reason) VALUES (?, ?, ?, ?, ?)";
  /** The longest reason stored in {@code rejected}, in characters; longer ones are cut. */
  static final int MAX_REASON = 2_000;
  private static final String LOAD_LOG = "SELECT log FROM applied_log WHERE address = ?";
  private static final String SAVE_LOG = "INSERT INTO applied_log (address, log) VALUES (?, ?) "
      + "ON CONFLICT (address) DO UPDATE SET log = excluded.log";

  /** What the sink is called in messages: no password. */
  final String name;
  final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  /** Takes {@code connection}, with auto-commit off and its tables created. */
  JdbcSink(String name, Connection connection) {
    this.name = name;
    this.connection = connection;
  }

  /** Binds {@code json}, a JSON text, to parameter {@code index} of {@code s}. */
  abstract void setJson(PreparedStatement s, int index, String json) throws SQLException;

  /** Binds the {@code created_at} of {@code status} to parameter {@code index} of {@code s}. */
  abstract void setCreatedAt(PreparedStatement s, int index, Tweets.Status status)
      throws SQLException;

  /**
   * Checks that the database can store the ops row of {@code t}, whose params are {@code json};
   * throws a {@code INVALID_INPUT} {@link ReplikonException} if not (PostgreSQL: no NUL
   * character). Nothing by default.
   */
  void checkStorable(AppliedTransaction t, String json) {}

  /** Returns {@code text} as the database can store it in a text column (as is by default). */
  String storable(String text) {
    return text;
  }

  /** Writes the row bound in {@code s}: at once, or in the batch {@link #flush()} executes. */
  abstract void write(PreparedStatement s) throws SQLException;

  /** Executes the rows {@link #write} deferred; called before the applied-log is written. */
  void flush() throws SQLException {}

  /** Forgets the rows {@link #write} deferred; called when a batch rolls back. */
  void discard() throws SQLException {}

  /** Empties the tables, inside the transaction that {@link #reset} then commits. */
  abstract void emptyTables(Statement s) throws SQLException;

  @Override
  public AppliedLog load(Address address) {
    try {
      PreparedStatement s = statement(LOAD_LOG);
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
      rollbackQuietly(e);
      throw io(e, "cannot read the applied-log of " + address + " from " + name);
    }
  }

  /**
   * Returns the params of {@code t} as JSON, written once for the ops row and the handlers of the
   * same transaction (the tweets row stores the same text): transcoded from their CBOR when that
   * is at hand (no tree), the same text Jackson's {@code writeValueAsString} writes for the tree.
   */
  String paramsJson(AppliedTransaction t) throws JsonProcessingException {
    if (t != lastParams) {
      if (t.encoded()) { // straight from CBOR: the text writeValueAsString writes
        json.clear(1 << 20);
        t.writeParamsJson(json, false);
        lastParamsJson = new String(json.array(), 0, json.size(), StandardCharsets.UTF_8);
      } else {
        lastParamsJson = JSON.writeValueAsString(t.transaction().params());
      }
      lastParams = t;
    }
    return lastParamsJson;
  }

  @Override
  public Batch<SqlContext> begin(Address address) {
    return new Batch<>() {
      boolean done;

      @Override
      public SqlContext record(AppliedTransaction t) {
        try {
          String params = paramsJson(t);
          checkStorable(t, params);
          PreparedStatement s = statement(INSERT_OP);
          s.setString(1, t.commit().hex());
          s.setInt(2, t.index());
          s.setString(3, t.fn());
          setJson(s, 4, params);
          write(s);
          return JdbcSink.this;
        } catch (SQLException e) {
          throw io(e, "cannot insert into ops of " + name);
        } catch (JsonProcessingException e) {
          throw new ReplikonException(Reason.INVALID_INPUT, "the params of transaction "
              + t.key() + " cannot be written as JSON: " + e.getMessage(), e);
        }
      }

      /** A row of {@code rejected}: params as JSON text (null if they cannot be written so). */
      @Override
      public void reject(AppliedTransaction t, String reason) {
        String params;
        try {
          params = paramsJson(t);
        } catch (JsonProcessingException e) {
          params = null;
        }
        String why = reason == null ? "" : reason;
        if (why.length() > MAX_REASON) {
          why = why.substring(0, MAX_REASON) + "...";
        }
        try {
          PreparedStatement s = statement(INSERT_REJECTED);
          s.setString(1, t.commit().hex());
          s.setInt(2, t.index());
          s.setString(3, storable(t.fn()));
          Tweets.setText(s, 4, params);
          s.setString(5, storable(why));
          write(s);
        } catch (SQLException e) {
          throw io(e, "cannot insert into rejected of " + name);
        }
      }

      @Override
      public void commit(AppliedLog log) {
        try {
          flush();
          PreparedStatement s = statement(SAVE_LOG);
          s.setString(1, address.toString());
          s.setBytes(2, log.encode());
          s.executeUpdate();
          connection.commit();
          done = true;
        } catch (SQLException e) {
          throw io(e, "cannot commit a batch to " + name);
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
      emptyTables(s);
      connection.commit();
    } catch (SQLException e) {
      rollbackQuietly(e);
      throw io(e, "cannot reset " + name);
    }
  }

  @Override
  public Map<String, Handler<SqlContext>> defaultHandlers() {
    return Map.of(Tweets.ADD_TWEET, (sql, t) -> Tweets.insert(this, t));
  }

  @Override
  public boolean exactlyOnce() {
    return true;
  }

  /** True: a transaction that cannot be applied becomes a row of {@code rejected}. */
  @Override
  public boolean recordsRejections() {
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
      throw io(e, "cannot close " + name);
    }
  }

  private void rollback() {
    try {
      discard();
      connection.rollback();
    } catch (SQLException e) {
      throw io(e, "cannot roll back a batch in " + name);
    }
  }

  private void rollbackQuietly(SQLException cause) {
    try {
      discard();
      connection.rollback();
    } catch (SQLException suppressed) {
      cause.addSuppressed(suppressed);
    }
  }

  /** Closes {@code c} after a failure to open, keeping what went wrong closing it. */
  static void closeAfter(SQLException e, Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
    }
  }

  /**
   * Returns a {@code STORE_IO} exception for {@code e}, with the message of the exception chained
   * by {@link SQLException#getNextException()} (where a failed JDBC batch keeps its cause).
   */
  static ReplikonException io(SQLException e, String what) {
    String message = what + ": " + e.getMessage();
    SQLException next = e.getNextException();
    if (next != null && next != e) {
      message += " (" + next.getMessage() + ")";
    }
    return new ReplikonException(Reason.STORE_IO, message, e);
  }
}
