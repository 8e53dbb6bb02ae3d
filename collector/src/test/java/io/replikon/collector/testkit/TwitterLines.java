package io.replikon.collector.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Lines of Twitter's v1.1 streaming format, shaped like the ones Twitter sent, for
 * {@link TwitterStreamServer}.
 */
public final class TwitterLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TwitterLines() {}

  /**
   * Returns a status (a tweet) with the fields a v1.1 stream carried: created_at, id, id_str,
   * text, source, user, entities, coordinates, lang, timestamp_ms.
   */
  public static String status(long id, String screenName, String text) {
    ObjectNode status = JSON.createObjectNode();
    status.put("created_at", "Wed Oct 10 20:19:24 +0000 2018");
    status.put("id", id);
    status.put("id_str", Long.toString(id));
    status.put("text", text);
    status.put("source",
        "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>");
    status.put("truncated", false);
    status.putNull("in_reply_to_status_id");
    ObjectNode user = status.putObject("user");
    user.put("id", 6253282L);
    user.put("id_str", "6253282");
    user.put("name", "Grüße 🌍 " + screenName);
    user.put("screen_name", screenName);
    user.put("followers_count", 6133636);
    user.put("verified", true);
    status.putNull("geo");
    ObjectNode coordinates = status.putObject("coordinates");
    coordinates.put("type", "Point");
    coordinates.putArray("coordinates").add(-122.4194).add(37.7749);
    ObjectNode entities = status.putObject("entities");
    entities.putArray("hashtags").addObject().put("text", "crdt").putArray("indices").add(0)
        .add(5);
    entities.putArray("urls");
    entities.putArray("user_mentions");
    status.put("favorite_count", 0);
    status.put("lang", "en");
    status.put("timestamp_ms", "1539202764000");
    return status.toString();
  }

  /** Returns a status deletion notice. */
  public static String deletion(long statusId, long userId) {
    return "{\"delete\":{\"status\":{\"id\":" + statusId + ",\"id_str\":\"" + statusId
        + "\",\"user_id\":" + userId + ",\"user_id_str\":\"" + userId + "\"},"
        + "\"timestamp_ms\":\"1539202765000\"}}";
  }

  /** Returns a limit notice: {@code withheld} matching statuses were not delivered. */
  public static String limit(int withheld) {
    return "{\"limit\":{\"track\":" + withheld + ",\"timestamp_ms\":\"1539202766000\"}}";
  }

  /** Returns a stall warning. */
  public static String stallWarning(int percentFull) {
    return "{\"warning\":{\"code\":\"FALLING_BEHIND\",\"message\":\"Your connection is falling"
        + " behind and messages are being queued for delivery to you. Your queue is now over "
        + percentFull + "% full. You will be disconnected when the queue is full.\","
        + "\"percent_full\":" + percentFull + "}}";
  }

  /** Returns a scrub_geo notice. */
  public static String scrubGeo(long userId, long upToStatusId) {
    return "{\"scrub_geo\":{\"user_id\":" + userId + ",\"user_id_str\":\"" + userId
        + "\",\"up_to_status_id\":" + upToStatusId + ",\"up_to_status_id_str\":\""
        + upToStatusId + "\"}}";
  }
}
