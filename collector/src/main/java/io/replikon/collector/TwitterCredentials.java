package io.replikon.collector;

import io.replikon.error.ReplikonException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * The OAuth 1.0a credentials twitter4j signs its streaming requests with.
 *
 * <p>{@link #toString} masks them: it shows the first four characters of the consumer key and the
 * access token and none of the secrets, so a configuration that holds credentials can be logged.
 *
 * <p>Immutable and thread-safe.
 *
 * @param consumerKey the application's consumer (API) key, not blank
 * @param consumerSecret the application's consumer secret, not blank
 * @param accessToken the user's access token, not blank
 * @param accessTokenSecret the user's access token secret, not blank
 */
public record TwitterCredentials(String consumerKey, String consumerSecret, String accessToken,
    String accessTokenSecret) {

  /** The environment variables {@link #fromEnvironment} reads, in the order of the components. */
  public static final List<String> ENVIRONMENT_VARIABLES = List.of("TWITTER_CONSUMER_KEY",
      "TWITTER_CONSUMER_SECRET", "TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_TOKEN_SECRET");

  /** The keys {@link #fromFile} reads, in the order of the components (twitter4j.properties). */
  public static final List<String> FILE_KEYS = List.of("oauth.consumerKey",
      "oauth.consumerSecret", "oauth.accessToken", "oauth.accessTokenSecret");

  /**
   * Checks the arguments.
   *
   * @throws IllegalArgumentException if one is blank
   */
  public TwitterCredentials {
    requireNotBlank(consumerKey, "consumerKey");
    requireNotBlank(consumerSecret, "consumerSecret");
    requireNotBlank(accessToken, "accessToken");
    requireNotBlank(accessTokenSecret, "accessTokenSecret");
  }

  /**
   * Reads credentials from a properties file with the keys of twitter4j.properties:
   * {@code oauth.consumerKey}, {@code oauth.consumerSecret}, {@code oauth.accessToken} and
   * {@code oauth.accessTokenSecret}. Each key may also carry twitter4j's system-property prefix
   * ({@code twitter4j.oauth.consumerKey}); values are trimmed. Other keys are ignored.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if the file cannot be read, or if a
   *     key is missing or blank (the message names the file and every missing key)
   */
  public static TwitterCredentials fromFile(Path file) {
    Objects.requireNonNull(file, "file");
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "cannot read the Twitter credentials file " + file + ": " + e.getMessage(), e);
    }
    List<String> values = new ArrayList<>(FILE_KEYS.size());
    List<String> missing = new ArrayList<>();
    for (String key : FILE_KEYS) {
      String value = properties.getProperty(key, properties.getProperty("twitter4j." + key));
      if (value == null || value.isBlank()) {
        missing.add(key);
      }
      values.add(value == null ? null : value.trim());
    }
    if (!missing.isEmpty()) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "the Twitter credentials file " + file + " has no " + String.join(", ", missing)
              + " (it needs " + String.join(", ", FILE_KEYS) + ")");
    }
    return new TwitterCredentials(values.get(0), values.get(1), values.get(2), values.get(3));
  }

  /**
   * Reads credentials from the variables {@code TWITTER_CONSUMER_KEY},
   * {@code TWITTER_CONSUMER_SECRET}, {@code TWITTER_ACCESS_TOKEN} and
   * {@code TWITTER_ACCESS_TOKEN_SECRET} of {@code environment} (normally {@code System.getenv()}).
   *
   * @return empty if none of the four is set (or all are blank)
   * @throws ReplikonException with reason {@code INVALID_INPUT} if some are set and others are
   *     not (the message names the missing ones)
   */
  public static Optional<TwitterCredentials> fromEnvironment(Map<String, String> environment) {
    Objects.requireNonNull(environment, "environment");
    List<String> values = new ArrayList<>(ENVIRONMENT_VARIABLES.size());
    List<String> missing = new ArrayList<>();
    for (String name : ENVIRONMENT_VARIABLES) {
      String value = environment.get(name);
      if (value == null || value.isBlank()) {
        missing.add(name);
      }
      values.add(value == null ? null : value.trim());
    }
    if (missing.size() == ENVIRONMENT_VARIABLES.size()) {
      return Optional.empty();
    }
    if (!missing.isEmpty()) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "incomplete Twitter credentials in the environment: " + String.join(", ", missing)
              + " not set (all of " + String.join(", ", ENVIRONMENT_VARIABLES) + " are needed)");
    }
    return Optional.of(
        new TwitterCredentials(values.get(0), values.get(1), values.get(2), values.get(3)));
  }

  /** Returns the credentials with the secrets masked. */
  @Override
  public String toString() {
    return "TwitterCredentials[consumerKey=" + prefix(consumerKey) + ", consumerSecret=***"
        + ", accessToken=" + prefix(accessToken) + ", accessTokenSecret=***]";
  }

  private static String prefix(String value) {
    return value.length() <= 8 ? "***" : value.substring(0, 4) + "***";
  }

  private static void requireNotBlank(String value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " is blank");
    }
  }
}
