package io.replikon.collector;

import java.util.Objects;

/**
 * An HTTP ingest source: {@code POST /events} takes one JSON value or an array of them.
 *
 * @param host the interface to listen on (default loopback; {@code 0.0.0.0} for all)
 * @param port the port; 0 picks a free one (see {@link HttpIngest#port})
 * @param fn the transaction function of each event (default {@code add-tweet})
 * @param maxBodyBytes the largest request body; larger ones get 413 (default 16 MiB)
 * @param flushEndpoint whether {@code POST /flush} commits at once (default off: 403)
 */
public record HttpIngestConfig(String host, int port, String fn, int maxBodyBytes,
    boolean flushEndpoint) {

  /** Checks the arguments. */
  public HttpIngestConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(fn, "fn");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port " + port + " is not a port");
    }
    if (fn.isEmpty()) {
      throw new IllegalArgumentException("the transaction function must not be empty");
    }
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("max body " + maxBodyBytes);
    }
  }

  /** Listens on loopback at {@code port} with the defaults. */
  public static HttpIngestConfig port(int port) {
    return new HttpIngestConfig("127.0.0.1", port, "add-tweet", 16 << 20, false);
  }

  /** Returns this configuration listening on {@code host}. */
  public HttpIngestConfig withHost(String listenOn) {
    return new HttpIngestConfig(listenOn, port, fn, maxBodyBytes, flushEndpoint);
  }

  /** Returns this configuration with another transaction function. */
  public HttpIngestConfig withFn(String name) {
    return new HttpIngestConfig(host, port, name, maxBodyBytes, flushEndpoint);
  }

  /** Returns this configuration with another body limit. */
  public HttpIngestConfig withMaxBodyBytes(int max) {
    return new HttpIngestConfig(host, port, fn, max, flushEndpoint);
  }

  /** Returns this configuration with {@code POST /flush} enabled. */
  public HttpIngestConfig withFlushEndpoint() {
    return new HttpIngestConfig(host, port, fn, maxBodyBytes, true);
  }
}
