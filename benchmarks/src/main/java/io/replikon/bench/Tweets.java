package io.replikon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Random;

/**
 * Generates realistic Twitter v1.1 statuses (about 3 KB of JSON each) from a seed: nested
 * {@code user} with its own {@code entities}, {@code entities} with hashtags, urls and user
 * mentions, text in several scripts with emoji, and a {@code retweeted_status} in about one of
 * four. The same seed always gives the same tweets, so benchmark runs compare like with like.
 */
final class Tweets {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final DateTimeFormatter CREATED_AT =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss Z yyyy", Locale.ROOT);
  private static final String[] WORDS = {
    "the", "replication", "of", "values", "is", "fast", "and", "simple", "today", "we", "ship",
    "CRDT", "merge", "peer", "offline", "first", "sync", "café", "naïve", "über", "straße",
    "日本語", "東京", "こんにちは", "Привет", "мир", "مرحبا", "שלום", "你好", "世界", "🎉", "🚀",
    "😀", "👍🏽", "❤️", "🇩🇪", "🔥", "✨"
  };
  private static final String[] LANGS = {"en", "de", "ja", "ru", "ar", "fr", "es", "und"};
  private static final String[] SOURCES = {
    "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
    "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
    "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>"
  };
  private static final String[] COLORS = {"C0DEED", "1DA1F2", "000000", "FFFFFF", "F5F8FA"};

  private final Random random;

  Tweets(long seed) {
    this.random = new Random(seed);
  }

  JsonNode next() {
    ObjectNode tweet = status();
    if (random.nextInt(4) == 0) {
      ObjectNode original = status();
      tweet.put("text", "RT @" + original.get("user").get("screen_name").textValue() + ": "
          + original.get("text").textValue());
      tweet.set("retweeted_status", original);
    }
    return tweet;
  }

  private ObjectNode status() {
    long id = 1_000_000_000_000_000_000L + (random.nextLong() >>> 4);
    ObjectNode t = NODES.objectNode();
    t.put("created_at", date());
    t.put("id", id);
    t.put("id_str", Long.toString(id));
    StringBuilder text = new StringBuilder();
    int words = 8 + random.nextInt(25);
    for (int i = 0; i < words; i++) {
      text.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    }
    ObjectNode entities = NODES.objectNode();
    ArrayNode hashtags = entities.putArray("hashtags");
    for (int i = random.nextInt(4); i > 0; i--) {
      String tag = WORDS[random.nextInt(12)];
      int start = text.length() + 1;
      text.append(" #").append(tag);
      hashtags.addObject().put("text", tag).set("indices", indices(start, text.length()));
    }
    entities.putArray("symbols");
    ArrayNode mentions = entities.putArray("user_mentions");
    for (int i = random.nextInt(3); i > 0; i--) {
      String name = screenName();
      long uid = random.nextLong() >>> 20;
      int start = text.length() + 1;
      text.append(" @").append(name);
      ObjectNode m = mentions.addObject();
      m.put("screen_name", name).put("name", displayName()).put("id", uid)
          .put("id_str", Long.toString(uid)).set("indices", indices(start, text.length()));
    }
    ArrayNode urls = entities.putArray("urls");
    for (int i = random.nextInt(3); i > 0; i--) {
      int start = text.length() + 1;
      String shortUrl = "https://t.co/" + token(10);
      text.append(' ').append(shortUrl);
      urls.add(url(shortUrl, start, text.length()));
    }
    t.put("text", text.toString());
    t.put("source", SOURCES[random.nextInt(SOURCES.length)]);
    t.put("truncated", false);
    boolean reply = random.nextInt(5) == 0;
    long replyTo = random.nextLong() >>> 4;
    long replyUser = random.nextLong() >>> 20;
    t.set("in_reply_to_status_id", reply ? NODES.numberNode(replyTo) : NODES.nullNode());
    t.set("in_reply_to_status_id_str",
        reply ? NODES.textNode(Long.toString(replyTo)) : NODES.nullNode());
    t.set("in_reply_to_user_id", reply ? NODES.numberNode(replyUser) : NODES.nullNode());
    t.set("in_reply_to_user_id_str",
        reply ? NODES.textNode(Long.toString(replyUser)) : NODES.nullNode());
    t.set("in_reply_to_screen_name", reply ? NODES.textNode(screenName()) : NODES.nullNode());
    t.set("user", user());
    if (random.nextInt(10) == 0) {
      ObjectNode geo = t.putObject("geo").put("type", "Point");
      geo.putArray("coordinates").add(random.nextDouble() * 180 - 90)
          .add(random.nextDouble() * 360 - 180);
    } else {
      t.putNull("geo");
    }
    t.putNull("coordinates");
    t.putNull("place");
    t.putNull("contributors");
    t.put("is_quote_status", random.nextInt(10) == 0);
    t.put("retweet_count", random.nextInt(5000));
    t.put("favorite_count", random.nextInt(20000));
    t.set("entities", entities);
    t.put("favorited", false);
    t.put("retweeted", false);
    if (!urls.isEmpty()) {
      t.put("possibly_sensitive", random.nextInt(20) == 0);
    }
    t.put("filter_level", "low");
    t.put("lang", LANGS[random.nextInt(LANGS.length)]);
    t.put("timestamp_ms", Long.toString(1_500_000_000_000L + random.nextInt(1_000_000_000)));
    return t;
  }

  private ObjectNode user() {
    long id = random.nextLong() >>> 20;
    String name = screenName();
    ObjectNode u = NODES.objectNode();
    u.put("id", id);
    u.put("id_str", Long.toString(id));
    u.put("name", displayName());
    u.put("screen_name", name);
    u.put("location", random.nextBoolean() ? "Berlin, Deutschland" : "東京都 渋谷区");
    StringBuilder description = new StringBuilder();
    for (int i = 5 + random.nextInt(15); i > 0; i--) {
      description.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
    }
    u.put("description", description.toString().trim());
    String home = "https://t.co/" + token(10);
    u.put("url", home);
    ObjectNode userEntities = u.putObject("entities");
    userEntities.putObject("url").putArray("urls").add(url(home, 0, home.length()));
    userEntities.putObject("description").putArray("urls");
    u.put("protected", false);
    u.put("followers_count", random.nextInt(1_000_000));
    u.put("friends_count", random.nextInt(5000));
    u.put("listed_count", random.nextInt(500));
    u.put("created_at", date());
    u.put("favourites_count", random.nextInt(100_000));
    u.putNull("utc_offset");
    u.putNull("time_zone");
    u.put("geo_enabled", random.nextBoolean());
    u.put("verified", random.nextInt(50) == 0);
    u.put("statuses_count", random.nextInt(200_000));
    u.putNull("lang");
    u.put("contributors_enabled", false);
    u.put("is_translator", false);
    u.put("is_translation_enabled", false);
    u.put("profile_background_color", COLORS[random.nextInt(COLORS.length)]);
    u.put("profile_background_image_url", "http://abs.twimg.com/images/themes/theme1/bg.png");
    u.put("profile_background_image_url_https",
        "https://abs.twimg.com/images/themes/theme1/bg.png");
    u.put("profile_background_tile", false);
    String image = token(19);
    u.put("profile_image_url", "http://pbs.twimg.com/profile_images/" + image + "/normal.jpg");
    u.put("profile_image_url_https",
        "https://pbs.twimg.com/profile_images/" + image + "/normal.jpg");
    u.put("profile_banner_url", "https://pbs.twimg.com/profile_banners/" + id + "/1500000000");
    u.put("profile_link_color", COLORS[random.nextInt(COLORS.length)]);
    u.put("profile_sidebar_border_color", COLORS[random.nextInt(COLORS.length)]);
    u.put("profile_sidebar_fill_color", COLORS[random.nextInt(COLORS.length)]);
    u.put("profile_text_color", "333333");
    u.put("profile_use_background_image", true);
    u.put("has_extended_profile", random.nextBoolean());
    u.put("default_profile", random.nextBoolean());
    u.put("default_profile_image", false);
    u.putNull("following");
    u.putNull("follow_request_sent");
    u.putNull("notifications");
    u.put("translator_type", "none");
    return u;
  }

  private ObjectNode url(String shortUrl, int start, int end) {
    String path = token(8 + random.nextInt(20));
    ObjectNode url = NODES.objectNode();
    url.put("url", shortUrl);
    url.put("expanded_url", "https://www.example.org/articles/" + path + "?ref=twitter");
    url.put("display_url", "example.org/articles/" + path.substring(0, 6) + "…");
    url.set("indices", indices(start, end));
    return url;
  }

  private ArrayNode indices(int start, int end) {
    return NODES.arrayNode().add(start).add(end);
  }

  private String date() {
    Instant when = Instant.ofEpochSecond(1_200_000_000L + random.nextInt(400_000_000));
    return CREATED_AT.format(when.atOffset(ZoneOffset.UTC));
  }

  private String screenName() {
    return token(4 + random.nextInt(11));
  }

  private String displayName() {
    String name = WORDS[random.nextInt(WORDS.length)] + " " + WORDS[random.nextInt(WORDS.length)];
    return random.nextBoolean() ? name : name + " " + WORDS[24 + random.nextInt(WORDS.length - 24)];
  }

  private String token(int length) {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
