package io.replikon.collector.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A server on a loopback ephemeral port that speaks Twitter's v1.1 streaming format, for tests:
 * {@code POST /1.1/statuses/filter.json} and {@code GET /1.1/statuses/sample.json} answer 200 with
 * a chunked body of {@code \r\n}-terminated JSON lines, as Twitter did.
 *
 * <p>Lines are scripted: {@link #send} queues lines, {@link #dropConnection} queues the end of a
 * connection. Whichever connection is open takes the queue in order; after a drop, the next
 * connection (the client's reconnect) takes what follows. A line taken by a connection whose client
 * has gone away is lost. {@link #refuseNextConnection} makes the next request fail with an HTTP
 * status.
 *
 * <p>Usage: {@code try (var server = TwitterStreamServer.start())}, configure the source with
 * {@code TwitterSourceConfig(Optional.of(server.baseUrl()), ...)} and any credentials, then
 * {@code server.send(line, ...)}.
 *
 * <p>Thread-safe.
 */
public final class TwitterStreamServer implements AutoCloseable {
  /** The paths served, below {@link #baseUrl}. */
  public static final String FILTER_PATH = "/1.1/statuses/filter.json";

  /** The sample stream's path. */
  public static final String SAMPLE_PATH = "/1.1/statuses/sample.json";

  /**
   * A request the server received.
   *
   * @param method GET or POST
   * @param path the request path
   * @param query the raw query, or empty
   * @param body the request body (the form of a filter request), or empty
   * @param authorization the Authorization header, or empty
   */
  public record StreamRequest(String method, String path, String query, String body,
      String authorization) {}

  private record Refusal(int status, String body) {}

  private static final Object DROP = new Object();

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "twitter-stream-server");
    t.setDaemon(true);
    return t;
  });
  private final BlockingQueue<Object> script = new LinkedBlockingQueue<>();
  private final List<StreamRequest> requests = new ArrayList<>();
  private final List<Refusal> refusals = new ArrayList<>();

  private TwitterStreamServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** Starts a server on a loopback ephemeral port. */
  public static TwitterStreamServer start() throws IOException {
    return new TwitterStreamServer();
  }

  /** Returns the stream base URL, e.g. {@code http://127.0.0.1:41234/1.1/}. */
  public URI baseUrl() {
    return URI.create("http://" + server.getAddress().getAddress().getHostAddress() + ":"
        + server.getAddress().getPort() + "/1.1/");
  }

  /** Queues lines, each sent followed by {@code \r\n}; an empty line is a keep-alive. */
  public void send(String... lines) {
    for (String line : lines) {
      if (line.contains("\n") || line.contains("\r")) {
        throw new IllegalArgumentException("a stream line holds no line break");
      }
      script.add(line);
    }
  }

  /** Queues the end of the connection: the client sees the end of the stream and reconnects. */
  public void dropConnection() {
    script.add(DROP);
  }

  /** Makes the next stream request fail with {@code status} and {@code body}. */
  public synchronized void refuseNextConnection(int status, String body) {
    refusals.add(new Refusal(status, body));
  }

  /** Returns the stream requests received so far, refused ones included, in order. */
  public synchronized List<StreamRequest> requests() {
    return List.copyOf(requests);
  }

  /** Stops the server and ends open connections. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getRawPath();
      String query = exchange.getRequestURI().getRawQuery();
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      Refusal refusal;
      synchronized (this) {
        requests.add(new StreamRequest(exchange.getRequestMethod(), path,
            query == null ? "" : query, body, authorization == null ? "" : authorization));
        refusal = refusals.isEmpty() ? null : refusals.remove(0);
      }
      if (!path.equals(FILTER_PATH) && !path.equals(SAMPLE_PATH)) {
        refusal = new Refusal(404, "{\"errors\":[{\"message\":\"no such stream\"}]}");
      }
      if (refusal != null) {
        byte[] bytes = refusal.body().getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(refusal.status(), bytes.length == 0 ? -1 : bytes.length);
        exchange.getResponseBody().write(bytes);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      while (true) {
        Object next = script.take();
        if (next == DROP) {
          return;
        }
        out.write((next + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
