package io.replikon.protocol;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Update;
import io.replikon.trust.Challenge;
import io.replikon.trust.Signature;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A message of the peer protocol. One message travels in one binary WebSocket frame, encoded by
 * {@link MessageCodec}; {@code docs/PROTOCOL.md} describes the wire form.
 *
 * <p>Every message carries an {@code id}, unique among the messages its sender sent on the
 * connection; answers name the message they answer in {@code re}. Dispatch is a switch over
 * {@link #kind()} with no default, so a new kind breaks the build, not a run.
 *
 * <p>Messages are immutable; do not change the byte arrays they hold.
 */
public sealed interface Message {
  /** The protocol version this code speaks: 2, signed commits. */
  int PROTOCOL_VERSION = 2;
  /**
   * The WebSocket subprotocol name. It names the framing (one CBOR message per binary frame), which
   * every protocol version shares; the version is in {@code hello}, so that a peer of another
   * version gets a {@code version-mismatch} answer rather than a refused upgrade.
   */
  String SUBPROTOCOL = "replikon.1";
  /** The WebSocket path. */
  String PATH = "/replikon";
  /** The largest frame, in bytes: 16 MiB. */
  int MAX_FRAME_BYTES = 16 << 20;
  /** The largest fetch-reply slice, in bytes: 1 MiB. */
  int MAX_SLICE_BYTES = 1 << 20;
  /**
   * The largest value (commit value or chunk) the protocol carries, in bytes: 16 MiB, the
   * {@code total} a fetch-reply slice may declare at most. A chunk is at most 1 MiB
   * ({@code Chunk.MAX_BYTES}); a receiver bounds each kind of value by its own limit.
   */
  int MAX_VALUE_BYTES = 16 << 20;
  /** The most commit entries in one publish: 2,000 (what a peer sends at most by default). */
  int MAX_COMMITS_PER_PUBLISH = 2_000;
  /**
   * The most hashes in one list of heads (a subscribe interest's, a publish's, a publish-ack's)
   * and the most parents of one commit entry: 1,024. A CDVCS with more heads than this would need
   * more concurrent writers than any deployment has; the bound keeps what a peer holds per
   * message proportional to what it can use, not to the frame size.
   */
  int MAX_HEADS = 1_024;
  /** The longest {@code hello.peer}, in UTF-8 bytes. */
  int MAX_PEER_ID_BYTES = 255;
  /** The most entries in {@code hello.credentials}. */
  int MAX_CREDENTIALS = 16;
  /** The longest credential name or value, in UTF-8 bytes. */
  int MAX_CREDENTIAL_BYTES = 4096;
  /**
   * The longest {@code error.message}, in UTF-8 bytes; {@link ErrorReport} cuts a longer message
   * it is given to {@link #MAX_ERROR_MESSAGE_CHARS} characters.
   */
  int MAX_ERROR_MESSAGE_BYTES = 4096;
  /** The characters an {@link ErrorReport} keeps of its message: at most 4,096 UTF-8 bytes. */
  int MAX_ERROR_MESSAGE_CHARS = MAX_ERROR_MESSAGE_BYTES / 3;

  /** The kinds of message, by their wire name. */
  enum Kind {
    HELLO("hello"),
    SUBSCRIBE("subscribe"),
    SUBSCRIBE_ACK("subscribe-ack"),
    PUBLISH("publish"),
    PUBLISH_ACK("publish-ack"),
    FETCH("fetch"),
    FETCH_REPLY("fetch-reply"),
    AUTH("auth"),
    ERROR("error");

    private final String wireName;

    Kind(String wireName) {
      this.wireName = wireName;
    }

    /** Returns the name of the kind on the wire. */
    public String wireName() {
      return wireName;
    }

    /** Returns the kind with this wire name, or null. */
    public static Kind fromWireName(String name) {
      for (Kind k : values()) {
        if (k.wireName.equals(name)) {
          return k;
        }
      }
      return null;
    }
  }

  /** The role a peer plays. */
  enum Role {
    /** Stores and relays what its peers subscribe to or publish, and extends subscriptions. */
    SERVER,
    /** Subscribes and publishes its own CRDTs only. */
    CLIENT
  }

  /** Returns the kind of this message. */
  Kind kind();

  /** Returns the id of this message, unique among its sender's messages on the connection. */
  long id();

  /**
   * The first message on a connection, sent by both sides.
   *
   * @param id the message id
   * @param peer the sender's peer id
   * @param version the protocol version the sender speaks
   * @param role the sender's role
   * @param credentials optional credentials (empty when none)
   * @param challenge sent by a peer that guards its reads: the other side answers with an
   *     {@link Auth} proving a key on this connection before anything else
   */
  record Hello(long id, String peer, int version, Role role, Map<String, String> credentials,
      Optional<Challenge> challenge) implements Message {
    /** Copies the credentials. */
    public Hello {
      Objects.requireNonNull(peer, "peer");
      Objects.requireNonNull(role, "role");
      credentials = Map.copyOf(credentials);
      Objects.requireNonNull(challenge, "challenge");
    }

    /** A hello without credentials or a challenge. */
    public Hello(long id, String peer, int version, Role role) {
      this(id, peer, version, role, Map.of(), Optional.empty());
    }

    @Override
    public Kind kind() {
      return Kind.HELLO;
    }
  }

  /**
   * One address a subscriber wants, with the heads it holds already (empty if none).
   *
   * @param address the address
   * @param heads the subscriber's heads for it
   */
  record Interest(Address address, Set<Hash> heads) {
    /** Copies the heads. */
    public Interest {
      Objects.requireNonNull(address, "address");
      heads = Collections.unmodifiableSet(new LinkedHashSet<>(heads));
    }
  }

  /**
   * Asks for addresses; the answer is a {@link SubscribeAck}, then a {@link Publish} per address
   * with what the subscriber lacks (nothing if it lacks nothing).
   *
   * @param id the message id
   * @param interests the addresses and the heads the subscriber has
   */
  record Subscribe(long id, List<Interest> interests) implements Message {
    /** Copies the list. */
    public Subscribe {
      interests = List.copyOf(interests);
    }

    @Override
    public Kind kind() {
      return Kind.SUBSCRIBE;
    }
  }

  /**
   * Accepts a subscription.
   *
   * @param id the message id
   * @param re the id of the subscribe
   * @param addresses the addresses subscribed
   */
  record SubscribeAck(long id, long re, List<Address> addresses) implements Message {
    /** Copies the list. */
    public SubscribeAck {
      addresses = List.copyOf(addresses);
    }

    @Override
    public Kind kind() {
      return Kind.SUBSCRIBE_ACK;
    }
  }

  /**
   * Offers commits of an address: those the receiver lacks as far as the sender knows, parents
   * first, and the sender's heads. Small values may come inline; the receiver fetches the others
   * before it accepts. Answered by a {@link PublishAck} once stored.
   *
   * @param id the message id
   * @param address the CDVCS
   * @param commits the commits, parents first
   * @param heads the sender's heads after these commits
   * @param values inline values (commit values and chunks) by hash
   */
  record Publish(long id, Address address, List<Update.Entry> commits, Set<Hash> heads,
      Map<Hash, byte[]> values) implements Message {
    /** Copies the collections. */
    public Publish {
      Objects.requireNonNull(address, "address");
      commits = List.copyOf(commits);
      heads = Collections.unmodifiableSet(new LinkedHashSet<>(heads));
      values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    @Override
    public Kind kind() {
      return Kind.PUBLISH;
    }
  }

  /**
   * Confirms that a publish is stored.
   *
   * @param id the message id
   * @param re the id of the publish
   * @param address the CDVCS
   * @param heads the receiver's heads now
   */
  record PublishAck(long id, long re, Address address, Set<Hash> heads) implements Message {
    /** Copies the heads. */
    public PublishAck {
      Objects.requireNonNull(address, "address");
      heads = Collections.unmodifiableSet(new LinkedHashSet<>(heads));
    }

    @Override
    public Kind kind() {
      return Kind.PUBLISH_ACK;
    }
  }

  /**
   * Asks for values (commit values, chunks, blobs) by hash. Answered by {@link FetchReply} slices,
   * the last one marked.
   *
   * @param id the message id
   * @param hashes what to send
   */
  record Fetch(long id, List<Hash> hashes) implements Message {
    /** Copies the list. */
    public Fetch {
      hashes = List.copyOf(hashes);
    }

    @Override
    public Kind kind() {
      return Kind.FETCH;
    }
  }

  /**
   * A slice of a value: {@code bytes} are the bytes from {@code offset} of the value whose hash is
   * {@code hash} and whose length is {@code total}. A value the sender does not have is a slice
   * with {@code total} -1 and no bytes.
   *
   * @param hash the value's hash
   * @param offset where the bytes start in the value
   * @param total the value's length, or -1 if the sender does not have it
   * @param bytes the bytes
   */
  record Slice(Hash hash, long offset, long total, byte[] bytes) {
    /** Checks the arguments. */
    public Slice {
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(bytes, "bytes");
    }

    /** Returns true if the sender does not have the value. */
    public boolean isMissing() {
      return total < 0;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Slice s && s.hash.equals(hash) && s.offset == offset
          && s.total == total && Arrays.equals(s.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return Objects.hash(hash, offset, total, Arrays.hashCode(bytes));
    }

    @Override
    public String toString() {
      return "Slice[" + hash + " " + offset + "+" + bytes.length + "/" + total + "]";
    }
  }

  /**
   * Part of the answer to a fetch, at most {@link #MAX_SLICE_BYTES} of slice bytes.
   *
   * @param id the message id
   * @param re the id of the fetch
   * @param slices the slices
   * @param last true on the last reply to that fetch
   */
  record FetchReply(long id, long re, List<Slice> slices, boolean last) implements Message {
    /** Copies the list. */
    public FetchReply {
      slices = List.copyOf(slices);
    }

    @Override
    public Kind kind() {
      return Kind.FETCH_REPLY;
    }
  }

  /**
   * Proves a key on this connection, answering the {@link Hello#challenge()} of the other side:
   * the signature of that challenge together with the challenger's and this side's peer ids
   * ({@link io.replikon.trust.SigningKey#prove}). Sent right after this side's own hello is
   * answered, before its subscribe; good for this connection only.
   *
   * @param id the message id
   * @param key the key proven
   * @param signature the key's signature of the challenge and both peer ids
   */
  record Auth(long id, VerifyingKey key, Signature signature) implements Message {
    /** Checks the arguments. */
    public Auth {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(signature, "signature");
    }

    @Override
    public Kind kind() {
      return Kind.AUTH;
    }
  }

  /**
   * Reports a failure (wire kind {@code error}); the sender may close the connection after it.
   * A message longer than {@link #MAX_ERROR_MESSAGE_CHARS} characters is cut to that length, so
   * that it stays within {@link #MAX_ERROR_MESSAGE_BYTES} on the wire.
   *
   * @param id the message id
   * @param re the id of the message it answers, or 0 if none
   * @param code what went wrong
   * @param message a sentence for a person
   */
  record ErrorReport(long id, long re, ErrorCode code, String message) implements Message {
    /** Checks the arguments. */
    public ErrorReport {
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
      if (message.length() > MAX_ERROR_MESSAGE_CHARS) {
        int cut = MAX_ERROR_MESSAGE_CHARS - 3;
        if (Character.isHighSurrogate(message.charAt(cut - 1))) {
          cut--;
        }
        message = message.substring(0, cut) + "...";
      }
    }

    @Override
    public Kind kind() {
      return Kind.ERROR;
    }
  }

  /** The codes of {@link ErrorReport}, by their wire name. */
  enum ErrorCode {
    /** The frame is not a well-formed message. */
    MALFORMED("malformed"),
    /** The message kind is unknown. */
    UNKNOWN_KIND("unknown-kind"),
    /** The frame is larger than the protocol allows. */
    TOO_LARGE("too-large"),
    /** The peer speaks another protocol version. */
    VERSION_MISMATCH("version-mismatch"),
    /** A value does not hash to its id. */
    HASH_MISMATCH("hash-mismatch"),
    /** Something a publish needs was never served. */
    MISSING_CONTENT("missing-content"),
    /** A message came out of turn. */
    PROTOCOL("protocol"),
    /** Too much is outstanding on the connection. */
    OVERLOADED("overloaded"),
    /** Access to the address is refused. */
    FORBIDDEN("forbidden"),
    /** The peer failed while handling the message. */
    INTERNAL("internal");

    private final String wireName;

    ErrorCode(String wireName) {
      this.wireName = wireName;
    }

    /** Returns the name of the code on the wire. */
    public String wireName() {
      return wireName;
    }

    /** Returns the code with this wire name, or {@link #INTERNAL} for a code this peer lacks. */
    public static ErrorCode fromWireName(String name) {
      for (ErrorCode c : values()) {
        if (c.wireName.equals(name)) {
          return c;
        }
      }
      return INTERNAL;
    }
  }
}
