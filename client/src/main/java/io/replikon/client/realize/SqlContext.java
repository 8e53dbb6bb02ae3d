package io.replikon.client.realize;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * What handlers of the SQL sinks (SQLite, PostgreSQL) write with: the sink's connection, inside
 * the open sink transaction.
 *
 * <p>A handler must not commit, roll back or change the auto-commit mode of the connection, nor
 * close it or the statements it gets: the realizer commits the effects together with the
 * applied-log. Used from the realizing thread only.
 */
public interface SqlContext {
  /** Returns the connection, in a transaction. */
  Connection connection();

  /**
   * Returns a prepared statement for {@code sql}, cached for the life of the sink (prepare once,
   * execute many times).
   */
  PreparedStatement statement(String sql) throws SQLException;
}
