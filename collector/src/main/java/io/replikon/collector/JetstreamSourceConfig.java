package io.replikon.collector;

import io.replikon.error.ReplikonException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a Jetstream source (see {@link Sources#jetstream}) subscribes, and to what.
 *
 * <p>Immutable and thread-safe.
 *
 * @param url the Jetstream subscribe endpoint, {@code ws://} or {@code wss://}, e.g.
 *     {@value #DEFAULT_URL}. It may carry query parameters of its own ({@code wantedDids},
 *     {@code maxMessageSizeBytes}) but not those the source sets or cannot read:
 *     {@code wantedCollections}, {@code cursor}, {@code compress} and {@code requireHello}
 * @param collections the collections (NSIDs such as {@code app.bsky.feed.post}, or prefixes such
 *     as {@code app.bsky.feed.*}) whose commit events are committed, sent as repeated
 *     {@code wantedCollections} parameters; not empty
 * @param idleTimeout how long a connection may deliver nothing while the source waits for it
 *     before the source drops it and reconnects from its cursor; positive. Jetstream sends
 *     events continuously (identity and account events pass every filter), so silence means a
 *     connection that died without the client noticing: a half-open TCP connection, or an end
 *     the JDK's WebSocket client missed (see {@link JetstreamSource}). Default
 *     {@link #DEFAULT_IDLE_TIMEOUT}
 */
public record JetstreamSourceConfig(URI url, List<String> collections, Duration idleTimeout) {

  /** The public Jetstream instance used when none is given. */
  public static final String DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe";

  /** The collections subscribed to when none are given: posts. */
  public static final List<String> DEFAULT_COLLECTIONS = List.of("app.bsky.feed.post");

  /** How long a connection may stay silent when none is given: 60 seconds. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  private static final Set<String> MANAGED_PARAMETERS =
      Set.of("wantedcollections", "cursor", "compress", "requirehello");
  private static final Pattern COLLECTION =
      Pattern.compile("[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+(\\.\\*)?");

  /**
   * Checks and copies the arguments.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if {@code url} is not a ws or wss
   *     URL with a host, has a fragment or a parameter the source manages, or if
   *     {@code collections} is empty or holds something that is not an NSID or NSID prefix, or
   *     if {@code idleTimeout} is not positive
   */
  public JetstreamSourceConfig {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw invalid("the Jetstream idle timeout must be positive: " + idleTimeout);
    }
    collections = List.copyOf(collections);
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!url.isAbsolute() || url.isOpaque() || url.getHost() == null
        || !(scheme.equals("ws") || scheme.equals("wss")) || url.getRawFragment() != null) {
      throw invalid("the Jetstream URL must be a ws:// or wss:// URL with a host, like "
          + DEFAULT_URL + ": " + url);
    }
    if (url.getRawQuery() != null) {
      for (String parameter : url.getRawQuery().split("&")) {
        String name = parameter.split("=", 2)[0].toLowerCase(Locale.ROOT);
        if (MANAGED_PARAMETERS.contains(name)) {
          throw invalid("the Jetstream URL must not set " + parameter.split("=", 2)[0]
              + " (the collections and the cursor are set by the collector; compressed and"
              + " hello-gated streams are not supported): " + url);
        }
      }
    }
    if (collections.isEmpty()) {
      throw invalid("a Jetstream source needs at least one collection, such as "
          + DEFAULT_COLLECTIONS.get(0));
    }
    for (String collection : collections) {
      if (!COLLECTION.matcher(collection).matches()) {
        throw invalid("not a collection NSID or NSID prefix (like app.bsky.feed.post or"
            + " app.bsky.feed.*): '" + collection + "'");
      }
    }
  }

  /**
   * Checks and copies the arguments; the idle timeout is {@link #DEFAULT_IDLE_TIMEOUT}.
   *
   * @throws ReplikonException as the canonical constructor
   */
  public JetstreamSourceConfig(URI url, List<String> collections) {
    this(url, collections, DEFAULT_IDLE_TIMEOUT);
  }

  /** Returns a copy with {@code idleTimeout}; see the canonical constructor. */
  public JetstreamSourceConfig withIdleTimeout(Duration idleTimeout) {
    return new JetstreamSourceConfig(url, collections, idleTimeout);
  }

  /** Returns the default: posts from {@value #DEFAULT_URL}, idle timeout 60 s. */
  public static JetstreamSourceConfig defaults() {
    return new JetstreamSourceConfig(URI.create(DEFAULT_URL), DEFAULT_COLLECTIONS);
  }

  /** Returns whether commit events of {@code collection} are wanted (exact or prefix match). */
  boolean wants(String collection) {
    for (String wanted : collections) {
      if (wanted.endsWith(".*")
          ? collection.startsWith(wanted.substring(0, wanted.length() - 1))
          : collection.equals(wanted)) {
        return true;
      }
    }
    return false;
  }

  /** Returns the URL to connect to: {@link #url} with the collections and the cursor, if any. */
  URI subscribeUri(OptionalLong cursor) {
    StringBuilder query = new StringBuilder();
    if (url.getRawQuery() != null && !url.getRawQuery().isEmpty()) {
      query.append(url.getRawQuery());
    }
    for (String collection : collections) {
      query.append(query.length() == 0 ? "" : "&").append("wantedCollections=")
          .append(URLEncoder.encode(collection, StandardCharsets.UTF_8));
    }
    cursor.ifPresent(c -> query.append("&cursor=").append(c));
    String base = url.toString();
    int question = base.indexOf('?');
    return URI.create((question < 0 ? base : base.substring(0, question)) + "?" + query);
  }

  private static ReplikonException invalid(String message) {
    return new ReplikonException(ReplikonException.Reason.INVALID_INPUT, message);
  }
}
