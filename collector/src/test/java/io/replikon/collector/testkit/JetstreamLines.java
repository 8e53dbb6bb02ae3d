package io.replikon.collector.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Events in Jetstream's wire format (shaped like bluesky-social/jetstream's
 * {@code golden_v1.jsonl}, captured from production), for {@link JetstreamServer}.
 */
public final class JetstreamLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JetstreamLines() {}

  /** Returns the create commit of a post with {@code text}. */
  public static String post(String did, long timeUs, String rkey, String text) {
    ObjectNode event = commit(did, timeUs, "create", "app.bsky.feed.post", rkey);
    ObjectNode commit = (ObjectNode) event.get("commit");
    ObjectNode record = commit.putObject("record");
    record.put("$type", "app.bsky.feed.post");
    record.put("createdAt", "2026-05-25T14:23:28.757Z");
    record.putArray("langs").add("en");
    ObjectNode reply = record.putObject("reply");
    for (String end : new String[] {"parent", "root"}) {
      reply.putObject(end)
          .put("cid", "bafyreibnvq6x2ktyacz7zbrsuwmr3r2hfn6a3pvq4r2aytgqhdcptldj6e")
          .put("uri", "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3mmoojamkzc2c");
    }
    record.put("text", text);
    commit.put("cid", "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
    return event.toString();
  }

  /** Returns the update commit of a post, with its new {@code text}. */
  public static String update(String did, long timeUs, String rkey, String text) {
    ObjectNode event = commit(did, timeUs, "update", "app.bsky.feed.post", rkey);
    ObjectNode commit = (ObjectNode) event.get("commit");
    commit.putObject("record").put("$type", "app.bsky.feed.post")
        .put("createdAt", "2026-05-25T14:23:28.757Z").put("text", text);
    commit.put("cid", "bafyreigroo6vhxt62ufcndhaxzas6btq4jmniuzj4g3opq4gdtrqtnlu2a");
    return event.toString();
  }

  /** Returns the delete commit of a post (no record, no cid). */
  public static String delete(String did, long timeUs, String rkey) {
    return commit(did, timeUs, "delete", "app.bsky.feed.post", rkey).toString();
  }

  /** Returns the create commit of a like (collection {@code app.bsky.feed.like}). */
  public static String like(String did, long timeUs, String rkey) {
    ObjectNode event = commit(did, timeUs, "create", "app.bsky.feed.like", rkey);
    ObjectNode commit = (ObjectNode) event.get("commit");
    ObjectNode record = commit.putObject("record");
    record.put("$type", "app.bsky.feed.like");
    record.put("createdAt", "2026-05-25T14:23:29.001Z");
    record.putObject("subject")
        .put("cid", "bafyreibnvq6x2ktyacz7zbrsuwmr3r2hfn6a3pvq4r2aytgqhdcptldj6e")
        .put("uri", "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3mmoojamkzc2c");
    commit.put("cid", "bafyreihdbmn2dvzvbdnplwuj7dxj6tkbgh6zdwbkzytvwqd2eeijmkejfa");
    return event.toString();
  }

  /** Returns the create commit of a repost (collection {@code app.bsky.feed.repost}). */
  public static String repost(String did, long timeUs, String rkey) {
    ObjectNode event = commit(did, timeUs, "create", "app.bsky.feed.repost", rkey);
    ObjectNode commit = (ObjectNode) event.get("commit");
    commit.putObject("record").put("$type", "app.bsky.feed.repost")
        .put("createdAt", "2026-05-25T14:23:29.500Z").putObject("subject")
        .put("cid", "bafyreibnvq6x2ktyacz7zbrsuwmr3r2hfn6a3pvq4r2aytgqhdcptldj6e")
        .put("uri", "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3mmoojamkzc2c");
    commit.put("cid", "bafyreiaf3kx5yvpkhcqd7j4ss5i3wmbxh2r6ekgqvwkfdzkcvqwnwkjnje");
    return event.toString();
  }

  /** Returns an identity event. */
  public static String identity(String did, long timeUs, long seq) {
    ObjectNode event = JSON.createObjectNode();
    event.put("did", did);
    event.put("time_us", timeUs);
    event.put("kind", "identity");
    event.putObject("identity").put("did", did).put("handle", "alice.bsky.social")
        .put("seq", seq).put("time", "2026-05-25T14:23:29.950Z");
    return event.toString();
  }

  /** Returns an account event. */
  public static String account(String did, long timeUs, long seq, boolean active) {
    ObjectNode event = JSON.createObjectNode();
    event.put("did", did);
    event.put("time_us", timeUs);
    event.put("kind", "account");
    ObjectNode account = event.putObject("account");
    account.put("active", active);
    account.put("did", did);
    account.put("seq", seq);
    account.put("time", "2026-05-25T14:23:29.951Z");
    if (!active) {
      account.put("status", "deactivated");
    }
    return event.toString();
  }

  private static ObjectNode commit(String did, long timeUs, String operation, String collection,
      String rkey) {
    ObjectNode event = JSON.createObjectNode();
    event.put("did", did);
    event.put("time_us", timeUs);
    event.put("kind", "commit");
    ObjectNode commit = event.putObject("commit");
    commit.put("rev", "3mmoojpaqkn2z");
    commit.put("operation", operation);
    commit.put("collection", collection);
    commit.put("rkey", rkey);
    return event;
  }
}
