package io.replikon.collector;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * An HTTP ingest source: {@code POST /events} takes one JSON value or an array of them
 * ({@code application/json}), or one value a line ({@code application/x-ndjson}).
 *
 * @param host the interface to listen on (default loopback; {@code 0.0.0.0} for all)
 * @param port the port; 0 picks a free one (see {@link HttpIngest#port})
 * @param fn the transaction function of each event (default {@code add-tweet})
 * @param maxBodyBytes the largest request body; larger ones get 413 (default 16 MiB)
 * @param flushEndpoint whether {@code POST /flush} commits at once (default off: 403)
 * @param token when present, {@code POST /events} and {@code POST /flush} need the header
 *     {@code Authorization: Bearer <token>} (401 otherwise), and idempotency keys are scoped to
 *     it; never logged ({@link #toString} masks it)
 * @param readTimeout the longest a request may take to arrive, from the end of the last answer
 *     (or the connection) to its last byte; the connection is closed after it, with 408 if a
 *     request had begun (default 30 s)
 */
public record HttpIngestConfig(String host, int port, String fn, int maxBodyBytes,
    boolean flushEndpoint, Optional<String> token, Duration readTimeout) {

  /** The largest request line plus headers: larger get 431 (or 414 for the line). */
  public static final int MAX_HEADER_BYTES = 8192;

  /** Checks the arguments. */
  public HttpIngestConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(fn, "fn");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(readTimeout, "readTimeout");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port " + port + " is not a port");
    }
    if (fn.isEmpty()) {
      throw new IllegalArgumentException("the transaction function must not be empty");
    }
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("max body " + maxBodyBytes);
    }
    if (readTimeout.isNegative() || readTimeout.isZero()) {
      throw new IllegalArgumentException("the read timeout must be positive: " + readTimeout);
    }
    token.ifPresent(HttpIngestConfig::checkToken);
  }

  /** Listens on loopback at {@code port} with the defaults. */
  public static HttpIngestConfig port(int port) {
    return new HttpIngestConfig("127.0.0.1", port, "add-tweet", 16 << 20, false, Optional.empty(),
        Duration.ofSeconds(30));
  }

  /** Returns this configuration listening on {@code host}. */
  public HttpIngestConfig withHost(String listenOn) {
    return new HttpIngestConfig(listenOn, port, fn, maxBodyBytes, flushEndpoint, token,
        readTimeout);
  }

  /** Returns this configuration with another transaction function. */
  public HttpIngestConfig withFn(String name) {
    return new HttpIngestConfig(host, port, name, maxBodyBytes, flushEndpoint, token, readTimeout);
  }

  /** Returns this configuration with another body limit. */
  public HttpIngestConfig withMaxBodyBytes(int max) {
    return new HttpIngestConfig(host, port, fn, max, flushEndpoint, token, readTimeout);
  }

  /** Returns this configuration with {@code POST /flush} enabled. */
  public HttpIngestConfig withFlushEndpoint() {
    return new HttpIngestConfig(host, port, fn, maxBodyBytes, true, token, readTimeout);
  }

  /** Returns this configuration requiring {@code Authorization: Bearer <secret>}. */
  public HttpIngestConfig withToken(String secret) {
    return new HttpIngestConfig(host, port, fn, maxBodyBytes, flushEndpoint, Optional.of(secret),
        readTimeout);
  }

  /** Returns this configuration with another read timeout. */
  public HttpIngestConfig withReadTimeout(Duration timeout) {
    return new HttpIngestConfig(host, port, fn, maxBodyBytes, flushEndpoint, token, timeout);
  }

  /**
   * Reads a bearer token from {@code file}: its content less one trailing newline. Warns (without
   * the token) when the file is readable by its group or others.
   *
   * @throws ReplikonException {@code INVALID_INPUT} if the file is missing, unreadable, empty, or
   *     holds characters a bearer token cannot hold (RFC 6750: letters, digits, {@code -._~+/}
   *     and trailing {@code =})
   */
  public static String readToken(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "no such token file: " + file);
    } catch (IOException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "cannot read the token file " + file
          + ": " + e.getMessage());
    }
    String token = new String(bytes, StandardCharsets.UTF_8);
    if (token.endsWith("\n")) {
      token = token.substring(0, token.length() - 1);
    }
    if (token.endsWith("\r")) {
      token = token.substring(0, token.length() - 1);
    }
    if (token.isEmpty()) {
      throw new ReplikonException(Reason.INVALID_INPUT, "the token file " + file + " is empty");
    }
    try {
      checkToken(token);
    } catch (IllegalArgumentException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "the token file " + file + ": "
          + e.getMessage());
    }
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
      if (mode.contains(PosixFilePermission.OTHERS_READ)
          || mode.contains(PosixFilePermission.GROUP_READ)) {
        LoggerFactory.getLogger(HttpIngestConfig.class).warn("the token file {} can be read by"
            + " other users ({}); chmod 600 it", file,
            java.nio.file.attribute.PosixFilePermissions.toString(mode));
      }
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: nothing to check
    }
    return token;
  }

  private static void checkToken(String token) {
    if (!token.matches("[A-Za-z0-9\\-._~+/]+=*")) {
      throw new IllegalArgumentException("a bearer token holds letters, digits, -._~+/ and"
          + " trailing =, nothing else (no spaces or line breaks inside)");
    }
  }

  /** Shows the configuration with the token masked. */
  @Override
  public String toString() {
    return "HttpIngestConfig[host=" + host + ", port=" + port + ", fn=" + fn + ", maxBodyBytes="
        + maxBodyBytes + ", flushEndpoint=" + flushEndpoint + ", token="
        + (token.isPresent() ? "****" : "none") + ", readTimeout=" + readTimeout + "]";
  }
}
