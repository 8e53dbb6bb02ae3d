package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.testkit.TestKeys;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What a peer refuses in a frame that is well-formed CBOR (issue 11: protocol validation). */
class MessageValidationTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final HexFormat HEX = HexFormat.of();
  private static final Address A = new Address("alice", UUID.fromString(
      "12d49511-e733-4007-937b-460c3794fae9"));
  private static final Hash H1 = Hash.sha256(new byte[] {1});

  private static void assertMalformed(Runnable decode, String mentions) {
    assertThatThrownBy(decode::run).isInstanceOf(ReplikonException.class)
        .hasMessageContaining(mentions)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
  }

  /** Refused both by the decoder of arrays and by the one of buffers (and its fast path). */
  private static void assertRefused(byte[] frame, String mentions) {
    assertMalformed(() -> MessageCodec.decode(frame), mentions);
    assertMalformed(() -> MessageCodec.decode(ByteBuffer.wrap(frame)), mentions);
    assertMalformed(() -> MessageCodec.decodeVerified(ByteBuffer.wrap(frame)), mentions);
  }

  private static byte[] publishWith(byte[] value) {
    Hash id = Hash.sha256(value);
    return MessageCodec.encode(new Message.Publish(1, A, List.of(new Update.Entry(id, List.of(),
        TestKeys.UNCHECKED)),
        Set.of(id), Map.of(id, value)));
  }

  private static byte[] fetchReplyWith(byte[] value) {
    return MessageCodec.encode(new Message.FetchReply(2, 1, List.of(
        new Message.Slice(Hash.sha256(value), 0, value.length, value)), true));
  }

  private static void assertValueRefused(byte[] value, String mentions) {
    for (byte[] frame : List.of(publishWith(value), fetchReplyWith(value))) {
      assertMalformed(() -> MessageCodec.decodeVerified(ByteBuffer.wrap(frame)), mentions);
    }
    assertMalformed(() -> MessageCodec.verifyValue(Hash.sha256(value), value), mentions);
  }

  private static Commit commit() {
    return new Commit(List.of(H1), List.of(), "alice", 1_000L, A,
        TestKeys.ALICE.key().verifyingKey());
  }

  @Test
  void verifiedDecode_aCanonicalCommitAndChunk_areDelivered() {
    byte[] commit = commit().encode();
    byte[] chunk = MessageCodecTest.chunk(3_000, 4);
    for (byte[] v : List.of(commit, chunk)) {
      assertThat(MessageCodec.decodeVerified(ByteBuffer.wrap(publishWith(v)))).isNotNull();
      assertThat(MessageCodec.decodeVerified(ByteBuffer.wrap(fetchReplyWith(v)))).isNotNull();
    }
  }

  @Test
  void verifiedDecode_aCommitInNonCanonicalCbor_isRefused_soACommitHasOneId() {
    byte[] canonical = commit().encode();
    // the same map with its ts in a nine-byte head: same value, second id
    ObjectNode value = (ObjectNode) CanonicalCbor.decode(canonical);
    byte[] ts = CanonicalCbor.encode(value.get("ts"));
    String hex = HEX.formatHex(canonical);
    String tsKey = HEX.formatHex(CanonicalCbor.encode(F.textNode("ts")));
    byte[] longTs = HEX.parseHex(hex.replace(tsKey + HEX.formatHex(ts),
        tsKey + "1b" + String.format("%016x", value.get("ts").asLong())));
    assertThat(longTs).isNotEqualTo(canonical);
    assertThat(CanonicalCbor.decode(longTs)).isEqualTo(value);
    assertValueRefused(longTs, "canonical");
    assertMalformed(() -> Commit.decode(longTs), "canonical");
  }

  @Test
  void verifiedDecode_aCommitWithAnExtraField_isRefused() {
    ObjectNode value = (ObjectNode) commit().toValue();
    value.put("extra", 1);
    assertValueRefused(CanonicalCbor.encode(value), "exactly the fields");
  }

  @Test
  void commitDecode_aVersionThatWrapsToOne_isRefused() {
    ObjectNode value = (ObjectNode) commit().toValue();
    value.put("version", (1L << 32) + 1);
    assertMalformed(() -> Commit.decode(CanonicalCbor.encode(value)), "version");
  }

  @Test
  void verifiedDecode_aChunkInNonCanonicalCbor_isRefused() {
    // [["add", 1]] with the outer list's length in a two-byte head
    assertValueRefused(HEX.parseHex("98018263616464" + "01"), "shortest");
    // ... and with params in an indefinite-length list
    assertValueRefused(HEX.parseHex("8182636164649f01ff"), "indefinite");
  }

  @Test
  void verifiedDecode_aChunkThatIsNotAListOfFnAndParams_isRefused() {
    ArrayNode numberFn = F.arrayNode().add(F.arrayNode().add(1).add(2));
    ArrayNode emptyFn = F.arrayNode().add(F.arrayNode().add("").add(2));
    ArrayNode notPair = F.arrayNode().add(F.arrayNode().add("add"));
    ArrayNode notList = F.arrayNode().add("add");
    for (JsonNode bad : List.of(numberFn, emptyFn, notPair, notList)) {
      assertValueRefused(CanonicalCbor.encode(bad), "[fn, params]");
    }
    assertValueRefused(CanonicalCbor.encode(F.textNode("x")), "neither a commit");
  }

  @Test
  void decode_negativeIdsAndRe_areRefused() {
    assertRefused(MessageCodec.encode(new Message.Fetch(-1, List.of(H1))), "negative id");
    assertRefused(MessageCodec.encode(new Message.PublishAck(1, -5, A, Set.of())), "negative re");
    assertRefused(MessageCodec.encode(new Message.FetchReply(1, -5, List.of(), true)),
        "negative re");
    assertRefused(MessageCodec.encode(new Message.Publish(Long.MIN_VALUE, A, List.of(), Set.of(),
        Map.of())), "negative id");
    assertRefused(MessageCodec.encode(new Message.ErrorReport(3, -1,
        Message.ErrorCode.INTERNAL, "x")), "negative re");
  }

  @Test
  void decode_anAddressWhoseUuidIsNotInCanonicalForm_isRefused() {
    for (String id : List.of("12D49511-E733-4007-937B-460C3794FAE9", "1-1-1-1-1",
        "12d49511-e733-4007-937b-0460c3794fae9")) {
      ObjectNode address = F.objectNode().put("user", "alice").put("id", id);
      ObjectNode m = F.objectNode().put("kind", "publish").put("id", 1);
      m.set("address", address);
      m.putArray("commits");
      m.putArray("heads");
      m.putArray("values");
      assertRefused(CanonicalCbor.encode(m), "UUID");
    }
  }

  @Test
  void decode_morePublishedCommitsThanTheProtocolAllows_isRefused() {
    List<Update.Entry> commits = new ArrayList<>();
    for (int i = 0; i <= Message.MAX_COMMITS_PER_PUBLISH; i++) {
      commits.add(new Update.Entry(Hash.sha256(new byte[] {(byte) i, (byte) (i >> 8)}),
          List.of(), TestKeys.UNCHECKED));
    }
    assertRefused(MessageCodec.encode(new Message.Publish(1, A, commits, Set.of(), Map.of())),
        "2001 commits");
    byte[] atTheLimit = MessageCodec.encode(new Message.Publish(1, A,
        commits.subList(0, Message.MAX_COMMITS_PER_PUBLISH), Set.of(), Map.of()));
    assertThat(MessageCodec.decode(ByteBuffer.wrap(atTheLimit))).isNotNull();
  }

  @Test
  void decode_listsOfMoreHeadsOrParentsThanTheLimit_areRefusedInEveryMessageThatHasThem() {
    Set<Hash> many = new java.util.LinkedHashSet<>();
    for (int i = 0; i <= Message.MAX_HEADS; i++) {
      many.add(Hash.sha256(new byte[] {(byte) i, (byte) (i >> 8)}));
    }
    String more = (Message.MAX_HEADS + 1) + " heads";
    assertRefused(MessageCodec.encode(new Message.Subscribe(1,
        List.of(new Message.Interest(A, many)))), more);
    assertRefused(MessageCodec.encode(new Message.PublishAck(1, 0, A, many)), more);
    assertRefused(MessageCodec.encode(new Message.Publish(1, A, List.of(), many, Map.of())),
        more);
    assertRefused(MessageCodec.encode(new Message.Publish(1, A,
        List.of(new Update.Entry(H1, List.copyOf(many), TestKeys.UNCHECKED)), Set.of(H1),
            Map.of())), more);
    Set<Hash> atTheLimit = Set.copyOf(List.copyOf(many).subList(0, Message.MAX_HEADS));
    assertThat(MessageCodec.decode(ByteBuffer.wrap(MessageCodec.encode(
        new Message.PublishAck(1, 0, A, atTheLimit))))).isNotNull();
  }

  @Test
  void decode_anOverLongPeerIdOrCredential_isRefused() {
    String longId = "p".repeat(Message.MAX_PEER_ID_BYTES + 1);
    assertRefused(MessageCodec.encode(new Message.Hello(1, longId, 2, Message.Role.CLIENT)),
        "peer id");
    assertRefused(MessageCodec.encode(new Message.Hello(1, "é".repeat(128), 1,
        Message.Role.CLIENT)), "peer id"); // 256 bytes in 128 characters
    assertRefused(MessageCodec.encode(new Message.Hello(1, "p", 2, Message.Role.CLIENT,
        Map.of("token", "t".repeat(Message.MAX_CREDENTIAL_BYTES + 1)), Optional.empty())),
        "credential");
    assertThat(MessageCodec.decode(MessageCodec.encode(new Message.Hello(1,
        "p".repeat(Message.MAX_PEER_ID_BYTES), 1, Message.Role.CLIENT)))).isNotNull();
  }

  @Test
  void decode_anOverLongUserInAnAddress_isRefused() {
    ObjectNode m = F.objectNode().put("kind", "subscribe").put("id", 1);
    ObjectNode interest = m.putArray("interests").addObject();
    interest.putObject("address").put("user", "u".repeat(256)).put("id", A.id().toString());
    interest.putArray("heads");
    assertRefused(CanonicalCbor.encode(m), "255");
  }

  @Test
  void decode_fetchReplySlicesOutOfRange_areRefusedBeforeAnyoneAllocates() {
    byte[] three = {1, 2, 3};
    List<Message.Slice> bad = List.of(
        new Message.Slice(H1, 0, Message.MAX_VALUE_BYTES + 1L, three), // total over the limit
        new Message.Slice(H1, 0, 1_000_000_000L, three),
        new Message.Slice(H1, 2, 4, three), // offset + length > total
        new Message.Slice(H1, -1, 10, three), // negative offset
        new Message.Slice(H1, Long.MAX_VALUE, 10, three),
        new Message.Slice(H1, 0, -2, new byte[0]), // negative total other than -1
        new Message.Slice(H1, 0, -1, three)); // a missing value with bytes
    for (Message.Slice s : bad) {
      assertRefused(MessageCodec.encode(new Message.FetchReply(1, 1, List.of(s), true)),
          "fetch-reply");
    }
    assertThat(MessageCodec.decode(MessageCodec.encode(new Message.FetchReply(1, 1, List.of(
        new Message.Slice(H1, Message.MAX_VALUE_BYTES - 3L, Message.MAX_VALUE_BYTES, three)),
        false)))).isNotNull();
  }

  @Test
  void decode_unknownFields_areRefused_butAHelloOfAnotherVersionStillReadsForItsAnswer() {
    ObjectNode fetch = F.objectNode().put("kind", "fetch").put("id", 1).put("zzz", 1);
    fetch.putArray("hashes");
    assertRefused(CanonicalCbor.encode(fetch), "no field 'zzz'");
    ObjectNode hello = F.objectNode().put("kind", "hello").put("id", 1).put("peer", "p")
        .put("version", Message.PROTOCOL_VERSION).put("role", "client").put("future", true);
    assertRefused(CanonicalCbor.encode(hello), "no field 'future'");
    hello.put("version", 1); // a peer of protocol 1 is read, to be answered version-mismatch
    assertThat(((Message.Hello) MessageCodec.decode(CanonicalCbor.encode(hello))).version())
        .isEqualTo(1);
    ObjectNode interest = F.objectNode();
    interest.set("address", A.toValue());
    interest.putArray("heads");
    interest.put("extra", 1);
    ObjectNode subscribe = F.objectNode().put("kind", "subscribe").put("id", 1);
    subscribe.putArray("interests").add(interest);
    assertRefused(CanonicalCbor.encode(subscribe), "interest");
  }

  @Test
  void decode_aHelloVersionOutsideAnInt_isRefused_notWrapped() {
    ObjectNode hello = F.objectNode().put("kind", "hello").put("id", 1).put("peer", "p")
        .put("version", (1L << 32) + 1).put("role", "client");
    assertRefused(CanonicalCbor.encode(hello), "version");
  }

  @Test
  void errorReport_anOverLongMessage_isCutWhenMade_andRefusedWhenRead() {
    String longText = "x".repeat(100_000);
    Message.ErrorReport made = new Message.ErrorReport(1, 0, Message.ErrorCode.INTERNAL,
        longText);
    assertThat(made.message().length()).isEqualTo(Message.MAX_ERROR_MESSAGE_CHARS);
    assertThat(MessageCodec.decode(MessageCodec.encode(made))).isEqualTo(made);
    ObjectNode raw = F.objectNode().put("kind", "error").put("id", 1).put("re", 0)
        .put("code", "internal").put("message", longText);
    assertRefused(CanonicalCbor.encode(raw), "longer than 4096");
  }

  @Test
  void chunkCheckEncoding_acceptsWhatChunkSplitMakes() {
    byte[] chunk = MessageCodecTest.chunk(100_000, 9);
    Chunk.checkEncoding(chunk);
    assertThat(Chunk.decode(chunk)).hasSize(1);
  }
}
