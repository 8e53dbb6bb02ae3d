package io.replikon.client.realize;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The built-in sinks. Each is used by one realizer at a time and must be closed by its owner (a
 * realizer does not close it).
 */
public final class Sinks {
  private Sinks() {}

  /**
   * Opens (creating if needed) a SQLite database as a sink, exactly-once. Tables:
   * <ul>
   *   <li>{@code ops(seq INTEGER PRIMARY KEY AUTOINCREMENT, commit_id TEXT, tx_index INTEGER,
   *       fn TEXT, params TEXT)}: one row per applied transaction, params as JSON, deliberately
   *       without a uniqueness constraint on {@code (commit_id, tx_index)};
   *   <li>{@code tweets(id INTEGER PRIMARY KEY, created_at TEXT, screen_name TEXT, text TEXT,
   *       json TEXT)}: filled by the default {@code add-tweet} handler from a Twitter v1.1 status
   *       ({@code created_at} as ISO-8601 when it parses; a status seen twice is kept once), with
   *       the external-content FTS5 index {@code tweets_fts(text)} kept by a trigger;
   *   <li>{@code rejected(seq INTEGER PRIMARY KEY AUTOINCREMENT, commit_id TEXT, tx_index
   *       INTEGER, fn TEXT, params TEXT, reason TEXT)}: one row per transaction that could not be
   *       applied (see {@link Realizer}: {@code ["add-tweet", 42]}, a status without an id), with
   *       its params as JSON text and the reason (at most 2,000 characters); it has no row in
   *       {@code ops} and realization goes on, unless the realizer is strict;
   *   <li>{@code applied_log(address TEXT PRIMARY KEY, log BLOB)}: the canonical CBOR of
   *       {@link AppliedLog}, written in the same SQLite transaction as the effects (and the
   *       rejections: exactly-once for both).
   * </ul>
   * WAL journal, {@code synchronous=NORMAL}: a power loss may undo the last committed batches, not
   * part of one; they are realized again. A reset empties every table, for every address.
   * Handlers get a {@link SqlContext} on the open transaction.
   *
   * @throws io.replikon.error.ReplikonException {@code STORE_IO} if it cannot be opened
   */
  public static Sink<SqlContext> sqlite(Path file) {
    return SqliteSink.open(Objects.requireNonNull(file, "file"));
  }

  /**
   * Connects to a PostgreSQL database as a sink, exactly-once, creating its tables if needed (in
   * the connection's current schema; PostgreSQL 12 or later for the generated column):
   * <ul>
   *   <li>{@code ops(seq bigserial PRIMARY KEY, commit_id text, tx_index integer, fn text,
   *       params jsonb)}: one row per applied transaction, deliberately without a uniqueness
   *       constraint on {@code (commit_id, tx_index)};
   *   <li>{@code tweets(id bigint PRIMARY KEY, created_at timestamptz, screen_name text, text text,
   *       json jsonb, text_tsv tsvector)}: filled by the default {@code add-tweet} handler as in
   *       the SQLite sink ({@code created_at} null when Twitter's time does not parse), with
   *       {@code text_tsv} generated as {@code to_tsvector('simple', text)} and GIN-indexed:
   *       {@code WHERE text_tsv @@ plainto_tsquery('simple', 'ethereum')};
   *   <li>{@code rejected(seq bigserial PRIMARY KEY, commit_id text, tx_index integer, fn text,
   *       params text, reason text)}: the transactions that could not be applied, as in the
   *       SQLite sink (params as JSON text, not {@code jsonb});
   *   <li>{@code applied_log(address text PRIMARY KEY, log bytea)}: the canonical CBOR of
   *       {@link AppliedLog}, written in the same PostgreSQL transaction as the effects and the
   *       rejections.
   * </ul>
   * The rows of a batch are sent with JDBC batching, rewritten into multi-row inserts. PostgreSQL
   * stores no NUL character in {@code text} nor {@code jsonb}: a transaction holding one in its fn
   * or params cannot be applied and is rejected (its fn and reason stored with the NUL written
   * {@code \u0000}). A reset truncates every table, for every address, in one transaction. Handlers get a {@link SqlContext} on the open transaction.
   *
   * <p>{@code url} is either a JDBC URL, {@code jdbc:postgresql://host:port/db?param=value}, or a
   * libpq connection URI as the command line takes it, {@code postgresql://user:password@host:port
   * /db?param=value} (or {@code postgres://...}), turned into {@code
   * jdbc:postgresql://host:port/db?param=value} with the percent-decoded user and password passed
   * as connection properties; query parameters go to the driver as they are, so they take its
   * names ({@code sslmode}, {@code currentSchema}, ...). {@code reWriteBatchedInserts=true} unless
   * the URL sets it. Messages name the URL without its query and without user and password.
   *
   * @throws io.replikon.error.ReplikonException {@code INVALID_INPUT} if {@code url} is neither
   *     form, {@code STORE_IO} if it cannot connect or create the tables
   */
  public static Sink<SqlContext> postgresql(String url) {
    return PostgresSink.open(Objects.requireNonNull(url, "url"));
  }

  /**
   * Opens (creating if needed) a JSON lines file as a sink for one address, exactly-once: one line
   * {@code {"commit": hex, "tx": index, "fn": fn, "params": params}} per applied transaction.
   * Handlers get the line about to be written and may add fields to it.
   *
   * <p>Each batch is appended and fsynced, then the length of the file and the applied-log are
   * recorded in the sidecar {@code <file>.applied}, replaced atomically (temporary file, fsync,
   * rename, directory fsync). Opening truncates the file back to the recorded length, dropping
   * lines a crash left behind. Reset records an empty log, then truncates the file. Lines of a
   * large batch are written before it commits (every MiB) and cut away if it does not.
   *
   * <p>A file that is not a regular file, such as {@code /dev/null}, a FIFO or a terminal (after
   * symbolic links), can be neither truncated nor fsynced: the lines are only written to it, in
   * order, the applied-log is kept in memory (no sidecar), and every sink opened on it starts from
   * the beginning: at-least-once, {@link Sink#exactlyOnce()} false.
   *
   * <p>Transactions whose handler is {@link Handler#recordOnly()} ({@code accept(fn)}) are
   * written straight from their CBOR encoding, without building a tree; the lines are the same
   * bytes as a handler that adds nothing would get.
   *
   * <p>Rejections: every transaction with a handler is written as a line (its params are JSON
   * already), so there is nothing the sink itself cannot store; it records no rejections
   * ({@link Sink#recordsRejections()} false), and a handler that throws, for whatever reason,
   * stops the realization with the batch cut away, strict or not.
   *
   * @throws io.replikon.error.ReplikonException {@code INVALID_INPUT} if the file is not empty
   *     and has no sidecar, {@code STORE_IO} if it is shorter than recorded or cannot be opened
   */
  public static Sink<ObjectNode> jsonLines(Path file) {
    return JsonLinesSink.open(Objects.requireNonNull(file, "file"));
  }

  /**
   * Returns a sink that calls {@code callback} for each applied transaction, at least once (see
   * {@link Callback}), with its applied-log in memory: a new sink starts from nothing.
   *
   * <p>Rejections: none are recorded ({@link Sink#recordsRejections()} false). What the callback
   * throws is the caller's: it stops the realization, strict or not, and the batch is delivered
   * again by the next run; a callback that wants to go on past a transaction it cannot use
   * catches and records that itself.
   */
  public static Sink<Callback> callback(Callback callback) {
    return new CallbackSink(Objects.requireNonNull(callback, "callback"), Optional.empty());
  }

  /**
   * Returns a sink that calls {@code callback} for each applied transaction, at least once, with
   * its applied-log in the file {@code appliedLog}, replaced atomically after each batch. Records
   * no rejections, as {@link #callback(Callback)}.
   */
  public static Sink<Callback> callback(Callback callback, Path appliedLog) {
    return new CallbackSink(Objects.requireNonNull(callback, "callback"),
        Optional.of(appliedLog));
  }
}
