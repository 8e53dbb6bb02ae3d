package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JetstreamSourceConfigTest {
  private static JetstreamSourceConfig config(String url, String... collections) {
    return new JetstreamSourceConfig(URI.create(url), List.of(collections));
  }

  @Test
  void defaults_arePostsFromThePublicInstance() {
    JetstreamSourceConfig defaults = JetstreamSourceConfig.defaults();

    assertThat(defaults.url())
        .isEqualTo(URI.create("wss://jetstream2.us-east.bsky.network/subscribe"));
    assertThat(defaults.collections()).containsExactly("app.bsky.feed.post");
    assertThat(defaults.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void withIdleTimeout_keepsTheRest() {
    JetstreamSourceConfig config = config("ws://127.0.0.1:1/subscribe", "app.bsky.feed.post")
        .withIdleTimeout(Duration.ofSeconds(5));

    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.url()).isEqualTo(URI.create("ws://127.0.0.1:1/subscribe"));
    assertThat(config.collections()).containsExactly("app.bsky.feed.post");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1})
  void idleTimeout_notPositive_failsWithInvalidInput(long seconds) {
    JetstreamSourceConfig config = config("ws://127.0.0.1:1/subscribe", "app.bsky.feed.post");

    assertThatThrownBy(() -> config.withIdleTimeout(Duration.ofSeconds(seconds)))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining("idle timeout");
  }

  @Test
  void subscribeUri_addsRepeatedCollectionsAndTheCursor() {
    JetstreamSourceConfig config = config("wss://example.org/subscribe?wantedDids=did:plc:abc",
        "app.bsky.feed.post", "app.bsky.graph.*");

    assertThat(config.subscribeUri(OptionalLong.of(1779719009157119L))).isEqualTo(URI.create(
        "wss://example.org/subscribe?wantedDids=did:plc:abc&wantedCollections=app.bsky.feed.post"
            + "&wantedCollections=app.bsky.graph.*&cursor=1779719009157119"));
    assertThat(config.subscribeUri(OptionalLong.empty())).isEqualTo(URI.create(
        "wss://example.org/subscribe?wantedDids=did:plc:abc&wantedCollections=app.bsky.feed.post"
            + "&wantedCollections=app.bsky.graph.*"));
  }

  @Test
  void wants_matchesExactNsidsAndPrefixes() {
    JetstreamSourceConfig config = config("ws://127.0.0.1:1/subscribe", "app.bsky.feed.post",
        "app.bsky.graph.*");

    assertThat(config.wants("app.bsky.feed.post")).isTrue();
    assertThat(config.wants("app.bsky.graph.follow")).isTrue();
    assertThat(config.wants("app.bsky.feed.postgate")).isFalse();
    assertThat(config.wants("app.bsky.feed.like")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://example.org/subscribe", "/subscribe",
      "wss://example.org/subscribe?cursor=1", "wss://example.org/subscribe?compress=true",
      "wss://example.org/subscribe?wantedCollections=app.bsky.feed.post",
      "wss://example.org/subscribe?requireHello=true", "wss://example.org/subscribe#x"})
  void url_notAPlainJetstreamUrl_failsWithInvalidInput(String url) {
    assertThatThrownBy(() -> config(url, "app.bsky.feed.post"))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT))
        .hasMessageContaining(url);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "post", "app bsky.feed.post", "app.bsky.*.post",
      "app.bsky.feed.post&x=1"})
  void collections_notAnNsid_failsWithInvalidInput(String collection) {
    assertThatThrownBy(() -> config("wss://example.org/subscribe", collection))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT));
  }

  @Test
  void collections_empty_failsWithInvalidInput() {
    assertThatThrownBy(() -> config("wss://example.org/subscribe"))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT));
  }
}
