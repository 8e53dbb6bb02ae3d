package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TwitterSourceConfigTest {
  private static final TwitterCredentials CREDENTIALS =
      new TwitterCredentials("ck", "cs", "at", "ats");

  private static TwitterSourceConfig withUrl(String url) {
    return new TwitterSourceConfig(Optional.of(URI.create(url)), List.of(), CREDENTIALS);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://127.0.0.1:8080/1.1", "http://127.0.0.1:8080/1.1/"})
  void streamBaseUrl_withOrWithoutTrailingSlash_isStoredWithOne(String url) {
    assertThat(withUrl(url).streamBaseUrl()).contains(URI.create("http://127.0.0.1:8080/1.1/"));
  }

  @Test
  void effectiveStreamBaseUrl_none_isTwitter4jDefault() {
    TwitterSourceConfig config = new TwitterSourceConfig(Optional.empty(), List.of(), CREDENTIALS);

    assertThat(config.effectiveStreamBaseUrl())
        .isEqualTo(URI.create("https://stream.twitter.com/1.1/"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://127.0.0.1/1.1/", "/1.1/", "http://127.0.0.1/1.1/?delimited=length",
      "mailto:someone@example.org"})
  void streamBaseUrl_notAnHttpBase_failsWithInvalidInput(String url) {
    assertThatThrownBy(() -> withUrl(url))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining(url);
  }

  @ParameterizedTest
  @ValueSource(strings = {" ", "crdt,java"})
  void track_blankOrCommaWord_failsWithInvalidInput(String word) {
    assertThatThrownBy(() -> new TwitterSourceConfig(Optional.empty(), List.of(word), CREDENTIALS))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT));
  }

  @Test
  void toString_masksCredentials() {
    assertThat(withUrl("http://127.0.0.1:8080/1.1/").toString())
        .contains("consumerSecret=***").doesNotContain("=cs,", "=ats]");
  }
}
