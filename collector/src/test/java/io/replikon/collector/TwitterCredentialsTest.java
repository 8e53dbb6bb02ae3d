package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TwitterCredentialsTest {
  @TempDir
  Path dir;

  @Test
  void fromFile_twitter4jProperties_readsAllFourKeys() throws Exception {
    Path file = Files.writeString(dir.resolve("twitter4j.properties"), """
        # as in twitter4j.properties
        debug=false
        oauth.consumerKey=ck-123456789
        oauth.consumerSecret = cs-secret
        oauth.accessToken=12345-at
        oauth.accessTokenSecret=ats-secret
        """);

    assertThat(TwitterCredentials.fromFile(file)).isEqualTo(
        new TwitterCredentials("ck-123456789", "cs-secret", "12345-at", "ats-secret"));
  }

  @Test
  void fromFile_systemPropertyPrefix_isAccepted() throws Exception {
    Path file = Files.writeString(dir.resolve("creds.properties"), """
        twitter4j.oauth.consumerKey=ck
        twitter4j.oauth.consumerSecret=cs
        twitter4j.oauth.accessToken=at
        oauth.accessTokenSecret=ats
        """);

    assertThat(TwitterCredentials.fromFile(file))
        .isEqualTo(new TwitterCredentials("ck", "cs", "at", "ats"));
  }

  @Test
  void fromFile_missingKeys_failsNamingThem() throws Exception {
    Path file = Files.writeString(dir.resolve("creds.properties"), """
        oauth.consumerKey=ck
        oauth.accessToken=
        """);

    assertThatThrownBy(() -> TwitterCredentials.fromFile(file))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("has no oauth.consumerSecret, oauth.accessToken,"
            + " oauth.accessTokenSecret");
  }

  @Test
  void fromFile_missingFile_failsWithInvalidInput() {
    Path file = dir.resolve("absent.properties");

    assertThatThrownBy(() -> TwitterCredentials.fromFile(file))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining("cannot read the Twitter credentials file " + file);
  }

  @Test
  void fromEnvironment_noneSet_isEmpty() {
    assertThat(TwitterCredentials.fromEnvironment(Map.of("HOME", "/root"))).isEmpty();
  }

  @Test
  void fromEnvironment_allSet_readsThem() {
    Map<String, String> env = Map.of("TWITTER_CONSUMER_KEY", "ck",
        "TWITTER_CONSUMER_SECRET", "cs", "TWITTER_ACCESS_TOKEN", "at",
        "TWITTER_ACCESS_TOKEN_SECRET", "ats");

    assertThat(TwitterCredentials.fromEnvironment(env))
        .contains(new TwitterCredentials("ck", "cs", "at", "ats"));
  }

  @Test
  void fromEnvironment_someSet_failsNamingTheMissing() {
    Map<String, String> env = Map.of("TWITTER_CONSUMER_KEY", "ck",
        "TWITTER_ACCESS_TOKEN", "at");

    assertThatThrownBy(() -> TwitterCredentials.fromEnvironment(env))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining("TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN_SECRET not set");
  }

  @Test
  void toString_masksSecrets() {
    TwitterCredentials credentials = new TwitterCredentials("xvz1evFS4wEEPTGEFPHBog",
        "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE");

    assertThat(credentials.toString())
        .isEqualTo("TwitterCredentials[consumerKey=xvz1***, consumerSecret=***,"
            + " accessToken=3707***, accessTokenSecret=***]")
        .doesNotContain("kAcSOq", "LswwdoU", "GmHxMAg");
  }
}
