package io.replikon.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.Message.Kind;
import io.replikon.trust.Challenge;
import io.replikon.trust.Signature;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Encodes messages as canonical CBOR maps, one per frame, and decodes them strictly. The wire form
 * of each kind is in {@code docs/PROTOCOL.md}.
 *
 * <p>Stateless and thread-safe.
 */
public final class MessageCodec {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final String MALFORMED = "malformed message: ";
  private static final byte[] K_ID = FrameWriter.text("id");
  private static final byte[] K_RE = FrameWriter.text("re");
  private static final byte[] K_KIND = FrameWriter.text("kind");
  private static final byte[] K_LAST = FrameWriter.text("last");
  private static final byte[] K_HEADS = FrameWriter.text("heads");
  private static final byte[] K_HASHES = FrameWriter.text("hashes");
  private static final byte[] K_VALUES = FrameWriter.text("values");
  private static final byte[] K_SLICES = FrameWriter.text("slices");
  private static final byte[] K_ADDRESS = FrameWriter.text("address");
  private static final byte[] K_COMMITS = FrameWriter.text("commits");
  private static final byte[] T_PUBLISH = FrameWriter.text("publish");
  private static final byte[] T_PUBLISH_ACK = FrameWriter.text("publish-ack");
  private static final byte[] T_FETCH = FrameWriter.text("fetch");
  private static final byte[] T_FETCH_REPLY = FrameWriter.text("fetch-reply");

  private MessageCodec() {}

  /**
   * Returns the frame of a message.
   *
   * @throws ReplikonException with reason {@code TOO_LARGE} if the frame would exceed
   *     {@link Message#MAX_FRAME_BYTES}
   */
  public static byte[] encode(Message message) {
    List<ByteBuffer> pieces = encodePieces(message);
    if (pieces.size() == 1 && pieces.get(0).hasArray() && pieces.get(0).arrayOffset() == 0
        && pieces.get(0).array().length == pieces.get(0).remaining()) {
      return pieces.get(0).array();
    }
    int length = 0;
    for (ByteBuffer b : pieces) {
      length += b.remaining();
    }
    byte[] frame = new byte[length];
    int at = 0;
    for (ByteBuffer b : pieces) {
      int n = b.remaining();
      b.duplicate().get(frame, at, n);
      at += n;
    }
    return frame;
  }

  /**
   * Returns the frame of a message as pieces to be sent one after the other. The large byte
   * strings of a publish or fetch-reply (values, slices) are pieces of their own that share the
   * message's arrays rather than copy them, and no tree of the message is built: a transport can
   * write the pieces as they are (gathering), copying each byte once. The buffers must not be
   * changed.
   *
   * @throws ReplikonException with reason {@code TOO_LARGE} if the frame would exceed
   *     {@link Message#MAX_FRAME_BYTES}
   */
  public static List<ByteBuffer> encodePieces(Message message) {
    FrameWriter w = new FrameWriter();
    switch (message.kind()) {
      case PUBLISH -> {
        Message.Publish p = (Message.Publish) message;
        w.head(5, 6);
        w.raw(K_ID);
        w.integer(p.id());
        w.raw(K_KIND);
        w.raw(T_PUBLISH);
        w.raw(K_HEADS);
        w.hashes(p.heads());
        w.raw(K_VALUES);
        w.head(4, p.values().size());
        for (Map.Entry<Hash, byte[]> v : p.values().entrySet()) {
          w.head(4, 2);
          w.hash(v.getKey());
          w.bytes(v.getValue());
        }
        w.raw(K_ADDRESS);
        w.raw(CanonicalCbor.encode(p.address().toValue()));
        w.raw(K_COMMITS);
        w.head(4, p.commits().size());
        for (Update.Entry e : p.commits()) {
          w.head(4, 3);
          w.hash(e.id());
          w.hashes(e.parents());
          w.bytes(e.signature().bytes());
        }
      }
      case PUBLISH_ACK -> {
        Message.PublishAck a = (Message.PublishAck) message;
        w.head(5, 5);
        w.raw(K_ID);
        w.integer(a.id());
        w.raw(K_RE);
        w.integer(a.re());
        w.raw(K_KIND);
        w.raw(T_PUBLISH_ACK);
        w.raw(K_HEADS);
        w.hashes(a.heads());
        w.raw(K_ADDRESS);
        w.raw(CanonicalCbor.encode(a.address().toValue()));
      }
      case FETCH -> {
        w.head(5, 3);
        w.raw(K_ID);
        w.integer(message.id());
        w.raw(K_KIND);
        w.raw(T_FETCH);
        w.raw(K_HASHES);
        w.hashes(((Message.Fetch) message).hashes());
      }
      case FETCH_REPLY -> {
        Message.FetchReply r = (Message.FetchReply) message;
        w.head(5, 5);
        w.raw(K_ID);
        w.integer(r.id());
        w.raw(K_RE);
        w.integer(r.re());
        w.raw(K_KIND);
        w.raw(T_FETCH_REPLY);
        w.raw(K_LAST);
        w.bool(r.last());
        w.raw(K_SLICES);
        w.head(4, r.slices().size());
        for (Message.Slice s : r.slices()) {
          w.head(4, 4);
          w.hash(s.hash());
          w.integer(s.offset());
          w.integer(s.total());
          w.bytes(s.bytes());
        }
      }
      default -> {
        return List.of(ByteBuffer.wrap(encodeTree(message)));
      }
    }
    if (w.length() > Message.MAX_FRAME_BYTES) {
      throw tooLarge(message, w.length());
    }
    return w.finish();
  }

  /** The encoding through a tree of the message: every kind, and the reference for the rest. */
  static byte[] encodeTree(Message message) {
    ObjectNode m = F.objectNode();
    m.put("kind", message.kind().wireName());
    m.put("id", message.id());
    switch (message.kind()) {
      case HELLO -> {
        Message.Hello h = (Message.Hello) message;
        m.put("peer", h.peer());
        m.put("version", h.version());
        m.put("role", h.role().name().toLowerCase(java.util.Locale.ROOT));
        if (!h.credentials().isEmpty()) {
          ObjectNode c = m.putObject("credentials");
          h.credentials().forEach(c::put);
        }
        h.challenge().ifPresent(c -> m.put("challenge", c.bytes()));
      }
      case AUTH -> {
        Message.Auth a = (Message.Auth) message;
        m.put("key", a.key().bytes());
        m.put("signature", a.signature().bytes());
      }
      case SUBSCRIBE -> {
        ArrayNode interests = m.putArray("interests");
        for (Message.Interest i : ((Message.Subscribe) message).interests()) {
          ObjectNode n = interests.addObject();
          n.set("address", i.address().toValue());
          n.set("heads", hashes(i.heads()));
        }
      }
      case SUBSCRIBE_ACK -> {
        Message.SubscribeAck a = (Message.SubscribeAck) message;
        m.put("re", a.re());
        ArrayNode addresses = m.putArray("addresses");
        a.addresses().forEach(x -> addresses.add(x.toValue()));
      }
      case PUBLISH -> {
        Message.Publish p = (Message.Publish) message;
        m.set("address", p.address().toValue());
        ArrayNode commits = m.putArray("commits");
        for (Update.Entry e : p.commits()) {
          ArrayNode pair = commits.addArray();
          pair.add(e.id().toValue());
          pair.add(hashes(e.parents()));
          pair.add(e.signature().bytes());
        }
        m.set("heads", hashes(p.heads()));
        ArrayNode values = m.putArray("values");
        p.values().forEach((hash, bytes) -> values.addArray().add(hash.toValue()).add(bytes));
      }
      case PUBLISH_ACK -> {
        Message.PublishAck a = (Message.PublishAck) message;
        m.put("re", a.re());
        m.set("address", a.address().toValue());
        m.set("heads", hashes(a.heads()));
      }
      case FETCH -> m.set("hashes", hashes(((Message.Fetch) message).hashes()));
      case FETCH_REPLY -> {
        Message.FetchReply r = (Message.FetchReply) message;
        m.put("re", r.re());
        ArrayNode slices = m.putArray("slices");
        for (Message.Slice s : r.slices()) {
          slices.addArray().add(s.hash().toValue()).add(s.offset()).add(s.total()).add(s.bytes());
        }
        m.put("last", r.last());
      }
      case ERROR -> {
        Message.ErrorReport e = (Message.ErrorReport) message;
        m.put("re", e.re());
        m.put("code", e.code().wireName());
        m.put("message", e.message());
      }
    }
    byte[] frame = CanonicalCbor.encode(m);
    if (frame.length > Message.MAX_FRAME_BYTES) {
      throw tooLarge(message, frame.length);
    }
    return frame;
  }

  private static ReplikonException tooLarge(Message message, long length) {
    return new ReplikonException(Reason.TOO_LARGE, message.kind().wireName() + " message of "
        + length + " bytes exceeds the frame limit of " + Message.MAX_FRAME_BYTES);
  }

  /**
   * Decodes a frame from a buffer (from its position to its limit; the buffer is not changed).
   * A publish or fetch-reply in the usual form is read straight from the buffer, each value
   * copied once; anything else is decoded as {@link #decode(byte[])} does, with the same result
   * and the same errors.
   *
   * @throws ReplikonException as {@link #decode(byte[])}
   */
  public static Message decode(ByteBuffer frame) {
    if (frame.remaining() > Message.MAX_FRAME_BYTES) {
      throw new ReplikonException(Reason.TOO_LARGE, "frame of " + frame.remaining()
          + " bytes exceeds the limit of " + Message.MAX_FRAME_BYTES);
    }
    Message m = FrameReader.read(frame);
    if (m != null) {
      return check(m);
    }
    byte[] bytes = new byte[frame.remaining()];
    frame.duplicate().get(bytes);
    return decode(bytes);
  }

  /**
   * Decodes a frame as {@link #decode(ByteBuffer)} does and checks that every value it carries
   * hashes to its id: the inline values of a publish and every whole value in a fetch-reply (a
   * slice from offset 0 that holds the value's total length). Slices of a larger value are not
   * checked here: only the whole value can be, by whoever puts it together.
   *
   * <p>It also checks the signatures of a publish's commits whose values it carries, up to the
   * first bad one, without refusing anything for them (the engine refuses a bad signature as
   * {@code forbidden}, and finds the good ones verified already).
   *
   * <p>A transport calls this on its I/O thread, so that a peer's engine thread need not hash
   * what arrives nor verify its signatures (see {@link io.replikon.peer.Link#verifiesValues()}).
   *
   * @throws ReplikonException {@code HASH_MISMATCH} for a value that does not hash to its id
   *     (naming both), and as {@link #decode(ByteBuffer)}
   */
  public static Message decodeVerified(ByteBuffer frame) {
    Message m = decode(frame);
    switch (m.kind()) {
      case PUBLISH -> {
        Message.Publish p = (Message.Publish) m;
        Map<Hash, Commit> commits = new HashMap<>();
        p.values().forEach((id, value) -> {
          Commit commit = checkValue(id, value);
          if (commit != null) {
            commits.put(id, commit);
          }
        });
        verifySignatures(p, commits);
      }
      case FETCH_REPLY -> {
        for (Message.Slice s : ((Message.FetchReply) m).slices()) {
          if (!s.isMissing() && s.offset() == 0 && s.bytes().length == s.total()) {
            verifyValue(s.hash(), s.bytes());
          }
        }
      }
      case HELLO, SUBSCRIBE, SUBSCRIBE_ACK, PUBLISH_ACK, FETCH, AUTH, ERROR -> { } // no values
    }
    return m;
  }

  /**
   * Checks the signatures of a publish's commits whose values travel in it, on the caller's thread
   * (a transport's I/O thread), up to the first that fails: the engine checks every commit again
   * before storing it, and finds these verified already ({@link VerifyingKey#verifiesCommit}
   * remembers good signatures), so its thread, which also writes the store, is spared the work. A
   * bad signature is left for the engine to refuse as {@code forbidden}; the link is not closed
   * here.
   */
  private static void verifySignatures(Message.Publish p, Map<Hash, Commit> inline) {
    for (Update.Entry e : p.commits()) {
      Commit commit = inline.get(e.id()); // none for an entry naming a chunk: the engine refuses it
      if (commit != null && !commit.signer().verifiesCommit(e.id(), e.signature())) {
        return;
      }
    }
  }

  /**
   * Checks a whole value as it arrives from a peer: that it hashes to its id, and that it is the
   * canonical encoding of a commit value (a map, {@link Commit#decode}) or of a chunk (a list,
   * {@link Chunk#checkEncoding}), so that no value has a second id and nothing but commits and
   * chunks is stored. {@link #decodeVerified} calls it for every whole value of a frame; a
   * receiver that puts a value together from slices calls it on the result.
   *
   * <p>Thread-safe; allocates nothing for a chunk, a decoded tree for a commit value (small).
   *
   * @throws ReplikonException {@code HASH_MISMATCH} for a value that does not hash to its id,
   *     {@code MALFORMED_VALUE} for one that is neither a canonical commit value nor a canonical
   *     chunk
   */
  public static void verifyValue(Hash id, byte[] value) {
    checkValue(id, value);
  }

  /** Checks a value as {@link #verifyValue} does; returns it decoded if it is a commit value. */
  private static Commit checkValue(Hash id, byte[] value) {
    Hash actual = Hash.sha256(value);
    if (!actual.equals(id)) {
      throw new ReplikonException(Reason.HASH_MISMATCH, "value " + id + " hashes to " + actual);
    }
    int major = value.length == 0 ? -1 : (value[0] & 0xff) >>> 5;
    try {
      switch (major) {
        case 5 -> {
          return Commit.decode(value);
        }
        case 4 -> {
          Chunk.checkEncoding(value);
          return null;
        }
        default -> throw new ReplikonException(Reason.MALFORMED_VALUE,
            "neither a commit value (a map) nor a chunk (a list)");
      }
    } catch (ReplikonException e) {
      throw malformed("value " + id + ": " + e.getMessage());
    }
  }

  /**
   * Decodes a frame.
   *
   * @throws ReplikonException {@code TOO_LARGE} for a frame over the limit,
   *     {@code MALFORMED_VALUE} for bytes that are not a well-formed message (the message says
   *     what is wrong), {@code PROTOCOL} for a well-formed message of an unknown kind
   */
  public static Message decode(byte[] frame) {
    if (frame.length > Message.MAX_FRAME_BYTES) {
      throw new ReplikonException(Reason.TOO_LARGE, "frame of " + frame.length
          + " bytes exceeds the limit of " + Message.MAX_FRAME_BYTES);
    }
    JsonNode m = CanonicalCbor.decode(frame);
    if (!m.isObject()) {
      throw malformed("a message is a map");
    }
    String kindName = text(m, "kind");
    Kind kind = Kind.fromWireName(kindName);
    if (kind == null) {
      throw new ReplikonException(Reason.PROTOCOL, "unknown message kind '" + Printable.of(kindName) + "'");
    }
    long id = number(m, "id");
    try {
      if (kind != Kind.HELLO || m.path("version").asLong(0) == Message.PROTOCOL_VERSION) {
        onlyFields(m, kind); // a hello of another version gets its version-mismatch answer
      }
      return check(switch (kind) {
        case HELLO -> new Message.Hello(id, text(m, "peer"), version(m),
            role(text(m, "role")), credentials(m.get("credentials")),
            m.has("challenge") ? Optional.of(Challenge.of(fixedBytes(m, "challenge",
                Challenge.BYTES))) : Optional.empty());
        case AUTH -> new Message.Auth(id, key(fixedBytes(m, "key", VerifyingKey.BYTES)),
            Signature.of(fixedBytes(m, "signature", Signature.BYTES)));
        case SUBSCRIBE -> {
          List<Message.Interest> interests = new ArrayList<>();
          for (JsonNode n : list(m, "interests")) {
            if (!n.isObject() || n.size() != 2) {
              throw malformed("an interest is a map {address, heads}");
            }
            interests.add(new Message.Interest(Address.fromValue(n.get("address")),
                hashSet(n.get("heads"), "heads")));
          }
          yield new Message.Subscribe(id, interests);
        }
        case SUBSCRIBE_ACK -> {
          List<Address> addresses = new ArrayList<>();
          for (JsonNode n : list(m, "addresses")) {
            addresses.add(Address.fromValue(n));
          }
          yield new Message.SubscribeAck(id, number(m, "re"), addresses);
        }
        case PUBLISH -> {
          List<Update.Entry> commits = new ArrayList<>();
          JsonNode commitList = m.get("commits");
          if (commitList != null && commitList.size() > Message.MAX_COMMITS_PER_PUBLISH) {
            throw tooManyCommits(commitList.size());
          }
          for (JsonNode pair : list(m, "commits")) {
            byte[] signature = pair.isArray() && pair.size() == 3
                ? fixedBytes(pair.get(2), Signature.BYTES) : null;
            if (signature == null) {
              throw malformed("a commit entry is [id, parents, signature (64 bytes)]");
            }
            commits.add(new Update.Entry(Hash.fromValue(pair.get(0)),
                hashList(pair.get(1), "parents"), Signature.of(signature)));
          }
          Map<Hash, byte[]> values = new LinkedHashMap<>();
          for (JsonNode pair : list(m, "values")) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(1).isBinary()) {
              throw malformed("a value entry is [hash, bytes]");
            }
            values.put(Hash.fromValue(pair.get(0)), ((BinaryNode) pair.get(1)).binaryValue());
          }
          yield new Message.Publish(id, Address.fromValue(m.get("address")), commits,
              hashSet(m.get("heads"), "heads"), values);
        }
        case PUBLISH_ACK -> new Message.PublishAck(id, number(m, "re"),
            Address.fromValue(m.get("address")), hashSet(m.get("heads"), "heads"));
        case FETCH -> new Message.Fetch(id, hashList(m.get("hashes"), "hashes"));
        case FETCH_REPLY -> {
          List<Message.Slice> slices = new ArrayList<>();
          for (JsonNode s : list(m, "slices")) {
            if (!s.isArray() || s.size() != 4 || !s.get(1).isIntegralNumber()
                || !s.get(1).canConvertToLong() || !s.get(2).isIntegralNumber()
                || !s.get(2).canConvertToLong() || !s.get(3).isBinary()) {
              throw malformed("a slice is [hash, offset, total, bytes]");
            }
            slices.add(new Message.Slice(Hash.fromValue(s.get(0)), s.get(1).asLong(),
                s.get(2).asLong(), ((BinaryNode) s.get(3)).binaryValue()));
          }
          JsonNode last = m.get("last");
          if (last == null || !last.isBoolean()) {
            throw malformed("field last is not a boolean");
          }
          yield new Message.FetchReply(id, number(m, "re"), slices, last.asBoolean());
        }
        case ERROR -> {
          String message = text(m, "message");
          if (message.length() > Message.MAX_ERROR_MESSAGE_BYTES
              || utf8Length(message) > Message.MAX_ERROR_MESSAGE_BYTES) {
            throw malformed("field message is longer than " + Message.MAX_ERROR_MESSAGE_BYTES
                + " bytes");
          }
          yield new Message.ErrorReport(id, number(m, "re"),
              ErrorCode.fromWireName(text(m, "code")), message);
        }
      });
    } catch (ReplikonException e) {
      if (e.reason() == Reason.MALFORMED_VALUE && !e.getMessage().startsWith(MALFORMED)) {
        throw malformed(kindName + ": " + e.getMessage());
      }
      throw e;
    }
  }

  /** The fields of each kind of message: no other may be present. */
  private static final Map<Kind, Set<String>> FIELDS = Map.of(
      Kind.HELLO, Set.of("kind", "id", "peer", "version", "role", "credentials", "challenge"),
      Kind.AUTH, Set.of("kind", "id", "key", "signature"),
      Kind.SUBSCRIBE, Set.of("kind", "id", "interests"),
      Kind.SUBSCRIBE_ACK, Set.of("kind", "id", "re", "addresses"),
      Kind.PUBLISH, Set.of("kind", "id", "address", "commits", "heads", "values"),
      Kind.PUBLISH_ACK, Set.of("kind", "id", "re", "address", "heads"),
      Kind.FETCH, Set.of("kind", "id", "hashes"),
      Kind.FETCH_REPLY, Set.of("kind", "id", "re", "slices", "last"),
      Kind.ERROR, Set.of("kind", "id", "re", "code", "message"));

  private static void onlyFields(JsonNode m, Kind kind) {
    Set<String> allowed = FIELDS.get(kind);
    for (Iterator<String> names = m.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw malformed(kind.wireName() + " has no field '" + Printable.of(name) + "'");
      }
    }
  }

  /**
   * Checks the bounds that a well-formed message must also keep, whichever way it was read:
   * ids and {@code re} not negative, at most {@link Message#MAX_COMMITS_PER_PUBLISH} commits in a
   * publish, at most {@link Message#MAX_HEADS} heads in a list and parents in a commit entry, a peer id and credentials within their caps, fetch-reply slices that describe a
   * value of at most {@link Message#MAX_VALUE_BYTES} and lie inside it. Runs before the message
   * reaches anyone who might allocate by what it declares.
   */
  static Message check(Message m) {
    if (m.id() < 0) {
      throw malformed(m.kind().wireName() + " has a negative id " + m.id());
    }
    switch (m.kind()) {
      case HELLO -> {
        Message.Hello h = (Message.Hello) m;
        if (h.peer().length() > Message.MAX_PEER_ID_BYTES
            || utf8Length(h.peer()) > Message.MAX_PEER_ID_BYTES) {
          throw malformed("hello: peer id longer than " + Message.MAX_PEER_ID_BYTES + " bytes");
        }
        if (h.credentials().size() > Message.MAX_CREDENTIALS) {
          throw malformed("hello: more than " + Message.MAX_CREDENTIALS + " credentials");
        }
        h.credentials().forEach((k, v) -> {
          if (k.length() > Message.MAX_CREDENTIAL_BYTES || v.length() > Message.MAX_CREDENTIAL_BYTES
              || utf8Length(k) > Message.MAX_CREDENTIAL_BYTES
              || utf8Length(v) > Message.MAX_CREDENTIAL_BYTES) {
            throw malformed("hello: a credential longer than " + Message.MAX_CREDENTIAL_BYTES
                + " bytes");
          }
        });
      }
      case SUBSCRIBE_ACK -> notNegative(((Message.SubscribeAck) m).re(), "subscribe-ack");
      case PUBLISH -> {
        Message.Publish p = (Message.Publish) m;
        int n = p.commits().size();
        if (n > Message.MAX_COMMITS_PER_PUBLISH) {
          throw tooManyCommits(n);
        }
        heads(p.heads().size(), "publish");
        for (Update.Entry e : p.commits()) {
          heads(e.parents().size(), "publish: a commit's parents");
        }
      }
      case PUBLISH_ACK -> {
        Message.PublishAck a = (Message.PublishAck) m;
        notNegative(a.re(), "publish-ack");
        heads(a.heads().size(), "publish-ack");
      }
      case SUBSCRIBE -> {
        for (Message.Interest i : ((Message.Subscribe) m).interests()) {
          heads(i.heads().size(), "subscribe: an interest");
        }
      }
      case FETCH_REPLY -> {
        Message.FetchReply r = (Message.FetchReply) m;
        notNegative(r.re(), "fetch-reply");
        for (Message.Slice s : r.slices()) {
          checkSlice(s);
        }
      }
      case ERROR -> notNegative(((Message.ErrorReport) m).re(), "error");
      case FETCH, AUTH -> { }
    }
    return m;
  }

  private static void checkSlice(Message.Slice s) {
    long total = s.total();
    int length = s.bytes().length;
    if (total == -1) {
      if (s.offset() != 0 || length != 0) {
        throw malformed("fetch-reply: a missing value's slice has offset 0 and no bytes");
      }
      return;
    }
    if (total < 0 || total > Message.MAX_VALUE_BYTES) {
      throw malformed("fetch-reply: a slice declares a value of " + total + " bytes (at most "
          + Message.MAX_VALUE_BYTES + ", or -1 for a missing value)");
    }
    if (s.offset() < 0 || s.offset() > total - length) {
      throw malformed("fetch-reply: a slice of " + length + " bytes at offset " + s.offset()
          + " lies outside its value of " + total + " bytes");
    }
  }

  private static void heads(int n, String where) {
    if (n > Message.MAX_HEADS) {
      throw malformed(where + " lists " + n + " heads, more than the " + Message.MAX_HEADS
          + " a list may hold");
    }
  }

  private static void notNegative(long re, String kind) {
    if (re < 0) {
      throw malformed(kind + " has a negative re " + re);
    }
  }

  private static ReplikonException tooManyCommits(int n) {
    return malformed("publish: " + n + " commits, more than the " + Message.MAX_COMMITS_PER_PUBLISH
        + " a publish may carry");
  }

  /** The UTF-8 length of {@code s}, without encoding it. */
  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }

  private static int version(JsonNode m) {
    long v = number(m, "version");
    if (v != (int) v) {
      throw malformed("field version is out of range");
    }
    return (int) v;
  }

  private static ArrayNode hashes(Collection<Hash> hashes) {
    ArrayNode out = F.arrayNode(hashes.size());
    hashes.forEach(h -> out.add(h.toValue()));
    return out;
  }

  private static List<Hash> hashList(JsonNode node, String field) {
    if (node == null || !node.isArray()) {
      throw malformed("field " + field + " is not a list");
    }
    List<Hash> out = new ArrayList<>(node.size());
    for (JsonNode h : node) {
      out.add(Hash.fromValue(h));
    }
    return out;
  }

  private static Set<Hash> hashSet(JsonNode node, String field) {
    return new LinkedHashSet<>(hashList(node, field));
  }

  private static Iterable<JsonNode> list(JsonNode m, String field) {
    JsonNode node = m.get(field);
    if (node == null || !node.isArray()) {
      throw malformed("field " + field + " is not a list");
    }
    return node;
  }

  private static byte[] fixedBytes(JsonNode m, String field, int length) {
    byte[] bytes = fixedBytes(m.get(field), length);
    if (bytes == null) {
      throw malformed("field " + field + " is not a byte string of " + length + " bytes");
    }
    return bytes;
  }

  /** Returns the bytes of a byte string of {@code length} bytes, or null for anything else. */
  private static byte[] fixedBytes(JsonNode node, int length) {
    if (node == null || !node.isBinary()) {
      return null;
    }
    byte[] bytes = ((BinaryNode) node).binaryValue();
    return bytes.length == length ? bytes : null;
  }

  private static VerifyingKey key(byte[] bytes) {
    try {
      return VerifyingKey.of(bytes);
    } catch (ReplikonException e) {
      throw malformed("field key: " + e.getMessage());
    }
  }

  private static String text(JsonNode m, String field) {
    JsonNode node = m.get(field);
    if (node == null || !node.isTextual()) {
      throw malformed("field " + field + " is not a string");
    }
    return node.asText();
  }

  private static long number(JsonNode m, String field) {
    JsonNode node = m.get(field);
    if (node == null || !node.isIntegralNumber() || !node.canConvertToLong()) {
      throw malformed("field " + field + " is not an integer");
    }
    return node.asLong();
  }

  private static Message.Role role(String name) {
    return switch (name) {
      case "server" -> Message.Role.SERVER;
      case "client" -> Message.Role.CLIENT;
      default -> throw malformed("unknown role '" + Printable.of(name) + "'");
    };
  }

  private static Map<String, String> credentials(JsonNode node) {
    if (node == null) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw malformed("field credentials is not a map");
    }
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw malformed("credential " + Printable.of(e.getKey()) + " is not a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static ReplikonException malformed(String what) {
    return new ReplikonException(Reason.MALFORMED_VALUE, MALFORMED + what);
  }
}
