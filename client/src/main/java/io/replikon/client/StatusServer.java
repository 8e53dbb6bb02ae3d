package io.replikon.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The operator's view of a peer over HTTP: {@code /health} (200 "ok" while the peer runs),
 * {@code /metrics} (Prometheus text format) and {@code /} (a small status page). Runs on the JDK's
 * HTTP server with one thread of its own.
 */
final class StatusServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;
  private final Peer peer;

  private StatusServer(HttpServer server, ExecutorService executor, Peer peer) {
    this.server = server;
    this.executor = executor;
    this.peer = peer;
  }

  static StatusServer start(String host, int port, Peer peer) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new ReplikonException(ReplikonException.Reason.CONNECTION,
          "cannot listen for HTTP on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "replikon-http");
      t.setDaemon(true);
      return t;
    });
    StatusServer status = new StatusServer(server, executor, peer);
    server.setExecutor(executor);
    server.createContext("/health", ex -> status.respond(ex, "text/plain", () -> "ok\n"));
    server.createContext("/metrics", ex -> status.respond(ex,
        "text/plain; version=0.0.4; charset=utf-8", status::metrics));
    server.createContext("/", ex -> {
      if (!ex.getRequestURI().getPath().equals("/")) {
        status.send(ex, 404, "text/plain", "not found\n");
      } else {
        status.respond(ex, "text/html; charset=utf-8", status::page);
      }
    });
    server.start();
    return status;
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  private PeerStatus snapshot() {
    try {
      return peer.status().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the peer did not answer: " + e, e);
    }
  }

  private String metrics() {
    PeerStatus s = snapshot();
    PeerStatus.Counters c = s.counters();
    StringBuilder out = new StringBuilder();
    gauge(out, "replikon_connections", "Open connections to peers.", s.connections().size());
    counter(out, "replikon_connections_opened_total", "Connections opened.",
        c.connectionsOpened());
    counter(out, "replikon_commits_stored_total", "Commits stored.", c.commitsStored());
    counter(out, "replikon_publishes_stored_total", "Publishes from peers that brought commits.",
        c.publishesStored());
    counter(out, "replikon_values_fetched_total", "Values received in fetch replies.",
        c.valuesFetched());
    counter(out, "replikon_fetched_bytes_total", "Bytes received in fetch replies.",
        c.bytesFetched());
    counter(out, "replikon_refusals_total",
        "Connections closed for bad input or for passing a limit.", c.refusals());
    counter(out, "replikon_internal_errors_total",
        "Failures of this peer on a connection's messages (that connection closed).",
        c.internalErrors());
    counter(out, "replikon_store_failures_total",
        "Store writes or reads that failed on what a peer sent or asked for (answered internal).",
        c.storeFailures());
    out.append("# HELP replikon_cdvcs_commits Commits held per CDVCS.\n");
    out.append("# TYPE replikon_cdvcs_commits gauge\n");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("replikon_cdvcs_commits{address=\"").append(escape(x.address().toString()))
          .append("\"} ").append(x.commitCount()).append('\n');
    }
    out.append("# HELP replikon_cdvcs_heads Heads per CDVCS (more than one: a conflict).\n");
    out.append("# TYPE replikon_cdvcs_heads gauge\n");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("replikon_cdvcs_heads{address=\"").append(escape(x.address().toString()))
          .append("\"} ").append(x.heads().size()).append('\n');
    }
    return out.toString();
  }

  private String page() {
    PeerStatus s = snapshot();
    StringBuilder out = new StringBuilder("<!doctype html><meta charset=utf-8><title>replikon "
        + html(s.peerId()) + "</title><h1>replikon peer " + html(s.peerId()) + " ("
        + s.role() + ")</h1><h2>Connections (" + s.connections().size() + ")</h2><ul>");
    s.connections().forEach(c -> out.append("<li>").append(html(c)));
    out.append("</ul><h2>CDVCS (").append(s.cdvcs().size()).append(")</h2><table>")
        .append("<tr><th>address<th>commits<th>transactions<th>heads");
    for (CdvcsStore.Summary x : s.cdvcs()) {
      out.append("<tr><td>").append(html(x.address().toString())).append("<td>")
          .append(x.commitCount()).append("<td>").append(x.transactionCount()).append("<td>")
          .append(x.heads().stream().map(Hash::shortHex).collect(Collectors.joining(" ")));
    }
    PeerStatus.Counters c = s.counters();
    out.append("</table><h2>Counters</h2><p>commits stored ").append(c.commitsStored())
        .append(", publishes stored ").append(c.publishesStored()).append(", values fetched ")
        .append(c.valuesFetched()).append(", refusals ").append(c.refusals()).append("\n");
    return out.toString();
  }

  /** Answers with the body, or 503 with the reason if the peer cannot give it. */
  private void respond(HttpExchange ex, String type, Supplier<String> body) throws IOException {
    String text;
    try {
      text = body.get();
    } catch (RuntimeException e) {
      send(ex, 503, "text/plain", "unavailable: " + e.getMessage() + "\n");
      return;
    }
    send(ex, 200, type, text);
  }

  private void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" gauge\n")
        .append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" counter\n")
        .append(name).append(' ').append(value).append('\n');
  }

  private static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String html(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
