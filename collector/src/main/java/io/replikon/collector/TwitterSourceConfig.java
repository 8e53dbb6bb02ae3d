package io.replikon.collector;

import io.replikon.error.ReplikonException;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a Twitter source (see {@link Sources#twitter}) connects: where, with which credentials, and
 * what it asks for.
 *
 * <p>Immutable and thread-safe. {@link #toString} masks the credentials.
 *
 * @param streamBaseUrl the base URL of the v1.1 streaming API, the part before
 *     {@code statuses/filter.json}, e.g. {@code http://127.0.0.1:8080/1.1/}; with or without the
 *     trailing slash (it is stored with one); empty for twitter4j's default,
 *     {@value #DEFAULT_STREAM_BASE_URL}. Any server that speaks Twitter's v1.1 streaming format
 *     works: Twitter's own endpoints have been shut down since 2023.
 * @param track the words to track with {@code statuses/filter}; empty for
 *     {@code statuses/sample}
 * @param credentials what the requests are signed with (any non-blank values for a server that
 *     does not check the signature)
 */
public record TwitterSourceConfig(Optional<URI> streamBaseUrl, List<String> track,
    TwitterCredentials credentials) {

  /** twitter4j's default stream base URL. */
  public static final String DEFAULT_STREAM_BASE_URL = "https://stream.twitter.com/1.1/";

  /**
   * Checks and copies the arguments, and adds the trailing slash to {@code streamBaseUrl}.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if {@code streamBaseUrl} is not an
   *     absolute http or https URL with a host and without query or fragment, or a track word is
   *     blank or holds a comma
   */
  public TwitterSourceConfig {
    Objects.requireNonNull(streamBaseUrl, "streamBaseUrl");
    track = List.copyOf(track);
    Objects.requireNonNull(credentials, "credentials");
    streamBaseUrl = streamBaseUrl.map(TwitterSourceConfig::normalize);
    for (String word : track) {
      if (word.isBlank() || word.contains(",")) {
        throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
            "a track word must be non-blank and hold no comma: '" + word + "'");
      }
    }
  }

  /** Returns the stream base URL used: the configured one, or twitter4j's default. */
  public URI effectiveStreamBaseUrl() {
    return streamBaseUrl.orElse(URI.create(DEFAULT_STREAM_BASE_URL));
  }

  private static URI normalize(URI url) {
    String scheme = url.getScheme();
    if (!url.isAbsolute() || url.isOpaque() || url.getHost() == null
        || !("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
        || url.getRawQuery() != null || url.getRawFragment() != null) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "the Twitter stream base URL must be an http or https URL with a host and no query,"
              + " like " + DEFAULT_STREAM_BASE_URL + ": " + url);
    }
    String text = url.toString();
    return text.endsWith("/") ? url : URI.create(text + "/");
  }
}
