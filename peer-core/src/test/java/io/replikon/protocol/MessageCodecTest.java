package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.Challenge;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  static final Address A = new Address("alice", new UUID(1, 2));
  static final Hash H1 = Hash.sha256(new byte[] {1});
  static final Hash H2 = Hash.sha256(new byte[] {2});

  static List<Message> everyKind() {
    return List.of(
        new Message.Hello(1, "peer-a", 2, Message.Role.SERVER, Map.of("token", "secret"),
            Optional.empty()),
        new Message.Hello(2, "peer-b", 2, Message.Role.CLIENT),
        new Message.Hello(2, "peer-c", 2, Message.Role.SERVER, Map.of(),
            Optional.of(Challenge.of(new byte[32]))),
        new Message.Auth(3, TestKeys.ALICE.key().verifyingKey(),
            TestKeys.ALICE.key().prove(Challenge.of(new byte[32]), "peer-c", "peer-b")),
        new Message.Subscribe(3, List.of(new Message.Interest(A, Set.of(H1, H2)))),
        new Message.SubscribeAck(4, 3, List.of(A)),
        new Message.Publish(5, A, List.of(new Update.Entry(H1, List.of(), TestKeys.UNCHECKED),
            new Update.Entry(H2, List.of(H1), TestKeys.UNCHECKED)), Set.of(H2), Map.of(H1,
                new byte[] {9, 9})),
        new Message.PublishAck(6, 5, A, Set.of(H2)),
        new Message.Fetch(7, List.of(H1, H2)),
        new Message.FetchReply(8, 7, List.of(new Message.Slice(H1, 0, 3, new byte[] {1, 2, 3}),
            new Message.Slice(H2, 0, -1, new byte[0])), true),
        new Message.ErrorReport(9, 8, Message.ErrorCode.HASH_MISMATCH, "chunk does not match"));
  }

  @Test
  void encodeDecode_everyKind_roundTrips() {
    for (Message m : everyKind()) {
      byte[] frame = MessageCodec.encode(m);
      Message back = MessageCodec.decode(frame);
      assertThat(back.kind()).isEqualTo(m.kind());
      assertThat(MessageCodec.encode(back)).as(m.kind().wireName()).isEqualTo(frame);
      assertThat(CanonicalCbor.isCanonical(frame)).isTrue();
    }
  }

  @Test
  void decode_unknownKind_isAProtocolError() {
    byte[] frame = CanonicalCbor.encode(
        JsonNodeFactory.instance.objectNode().put("kind", "bogus").put("id", 1));
    assertThatThrownBy(() -> MessageCodec.decode(frame))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("bogus")
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.PROTOCOL);
  }

  @Test
  void decode_garbage_orMissingField_isMalformed() {
    assertThatThrownBy(() -> MessageCodec.decode(new byte[] {(byte) 0xff, 0x00}))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
    byte[] noHashes = CanonicalCbor.encode(
        JsonNodeFactory.instance.objectNode().put("kind", "fetch").put("id", 1));
    assertThatThrownBy(() -> MessageCodec.decode(noHashes))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("hashes")
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
  }

  @Test
  void decode_frameOverTheLimit_isTooLarge() {
    assertThatThrownBy(() -> MessageCodec.decode(new byte[Message.MAX_FRAME_BYTES + 1]))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.TOO_LARGE);
  }

  @Test
  void decodeVerified_valuesThatHashToTheirIds_areDelivered() {
    byte[] one = chunk(5_000, 1);
    byte[] two = new Commit(List.of(), List.of(Hash.sha256(one)), "alice", 1, A,
        TestKeys.ALICE.key().verifyingKey()).encode();
    Message publish = new Message.Publish(1, A, List.of(new Update.Entry(Hash.sha256(one),
        List.of(), TestKeys.UNCHECKED)), Set.of(Hash.sha256(one)), Map.of(Hash.sha256(one), one,
        Hash.sha256(two), two));
    Message reply = new Message.FetchReply(2, 1, List.of(
        new Message.Slice(Hash.sha256(one), 0, one.length, one),
        new Message.Slice(H1, 0, -1, new byte[0])), true);
    for (Message m : List.of(publish, reply)) {
      byte[] frame = MessageCodec.encode(m);
      assertThat(MessageCodec.encode(MessageCodec.decodeVerified(java.nio.ByteBuffer.wrap(frame))))
          .isEqualTo(frame);
    }
  }

  @Test
  void decodeVerified_aValueThatDoesNotHashToItsId_isAHashMismatch() {
    byte[] forged = bytes(5_000, 3);
    Message publish = new Message.Publish(1, A, List.of(new Update.Entry(H1, List.of(),
        TestKeys.UNCHECKED)),
        Set.of(H1), Map.of(H1, forged));
    Message reply = new Message.FetchReply(2, 1, List.of(
        new Message.Slice(H1, 0, forged.length, forged)), true);
    for (Message m : List.of(publish, reply)) {
      assertThatThrownBy(() -> MessageCodec.decodeVerified(
          java.nio.ByteBuffer.wrap(MessageCodec.encode(m))))
          .isInstanceOf(ReplikonException.class)
          .hasMessageContaining(H1.toString()).hasMessageContaining(Hash.sha256(forged).toString())
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.HASH_MISMATCH);
    }
  }

  @Test
  void decodeVerified_aSliceOfALargerValue_isLeftToWhoeverPutsItTogether() {
    byte[] value = bytes(5_000, 4);
    Message reply = new Message.FetchReply(2, 1, List.of(new Message.Slice(Hash.sha256(value),
        1_000, value.length, java.util.Arrays.copyOfRange(value, 1_000, 2_000))), false);
    assertThat(MessageCodec.decodeVerified(java.nio.ByteBuffer.wrap(MessageCodec.encode(reply))))
        .isEqualTo(reply);
  }

  /** The encoding of a chunk of about {@code n} bytes. */
  static byte[] chunk(int n, int seed) {
    return Chunk.split(List.of(new Transaction("add", JsonNodeFactory.instance.binaryNode(
        bytes(n, seed))))).get(0).bytes();
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** Publishes, acks, fetches and replies with sizes and numbers at every width of a CBOR head. */
  static List<Message> largeKinds() {
    java.util.Random r = new java.util.Random(7);
    List<Message> out = new java.util.ArrayList<>();
    int[] sizes = {0, 1, 23, 24, 255, 256, 2047, 2048, 65535, 65536, 1 << 20};
    long[] ids = {0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffL, 0x100000000L,
        Long.MAX_VALUE};
    for (int i = 0; i < sizes.length; i++) {
      Map<Hash, byte[]> values = new java.util.LinkedHashMap<>();
      List<Update.Entry> commits = new java.util.ArrayList<>();
      List<Message.Slice> slices = new java.util.ArrayList<>();
      for (int j = 0; j <= i % 4; j++) {
        byte[] v = bytes(sizes[(i + j) % sizes.length], i * 10 + j);
        Hash h = Hash.sha256(v);
        values.put(h, v);
        commits.add(new Update.Entry(h, j == 0 ? List.of() : List.of(H1, H2), TestKeys.UNCHECKED));
        int offset = r.nextInt(1 << 20);
        slices.add(j == 1 ? new Message.Slice(h, 0, -1, new byte[0])
            : new Message.Slice(h, offset, offset + v.length, v));
      }
      long id = ids[i % ids.length];
      long re = ids[(i + 3) % ids.length];
      out.add(new Message.Publish(id, A, commits, i % 2 == 0 ? Set.of() : Set.of(H1), values));
      out.add(new Message.PublishAck(id, re, A, Set.of(H1, H2)));
      out.add(new Message.Fetch(id, List.copyOf(values.keySet())));
      out.add(new Message.FetchReply(id, re, slices, i % 2 == 0));
    }
    return out;
  }

  @Test
  void encodePieces_isTheCanonicalEncodingOfTheTree_andDecodesFromABuffer() {
    List<Message> all = new java.util.ArrayList<>(everyKind());
    all.addAll(largeKinds());
    for (Message m : all) {
      byte[] tree = MessageCodec.encodeTree(m);
      java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
      for (java.nio.ByteBuffer b : MessageCodec.encodePieces(m)) {
        byte[] piece = new byte[b.remaining()];
        b.duplicate().get(piece);
        joined.writeBytes(piece);
      }
      assertThat(joined.toByteArray()).as(m.kind().wireName()).isEqualTo(tree);
      assertThat(MessageCodec.encode(m)).isEqualTo(tree);
      // from a buffer that is a window of a larger array, as a transport hands it over
      byte[] padded = new byte[tree.length + 7];
      System.arraycopy(tree, 0, padded, 3, tree.length);
      Message back = MessageCodec.decode(java.nio.ByteBuffer.wrap(padded, 3, tree.length));
      assertThat(MessageCodec.encodeTree(back)).as(m.kind().wireName()).isEqualTo(tree);
      assertThat(MessageCodec.encodeTree(MessageCodec.decode(tree))).isEqualTo(tree);
      boolean direct = m.kind() == Message.Kind.PUBLISH || m.kind() == Message.Kind.FETCH_REPLY;
      assertThat(FrameReader.read(java.nio.ByteBuffer.wrap(tree)) != null)
          .as("read directly: " + m.kind().wireName()).isEqualTo(direct);
    }
  }

  @Test
  void decodeFromABuffer_acceptsWhatTheGeneralDecoderAccepts_andRefusesTheSame() {
    byte[] v = bytes(5_000, 1);
    Hash h = Hash.sha256(v);
    Message.Publish publish = new Message.Publish(9, A,
        List.of(new Update.Entry(h, List.of(H1), TestKeys.UNCHECKED)), Set.of(h), Map.of(h, v));
    // the same fields in another key order, not canonical but well-formed
    FrameWriter w = new FrameWriter();
    w.head(5, 6);
    w.raw(FrameWriter.text("values"));
    w.head(4, 1);
    w.head(4, 2);
    w.hash(h);
    w.bytes(v);
    w.raw(FrameWriter.text("kind"));
    w.raw(FrameWriter.text("publish"));
    w.raw(FrameWriter.text("id"));
    w.integer(9);
    w.raw(FrameWriter.text("commits"));
    w.head(4, 1);
    w.head(4, 3);
    w.hash(h);
    w.hashes(List.of(H1));
    w.bytes(TestKeys.UNCHECKED.bytes());
    w.raw(FrameWriter.text("heads"));
    w.hashes(List.of(h));
    w.raw(FrameWriter.text("address"));
    w.raw(CanonicalCbor.encode(A.toValue()));
    byte[] reordered = join(w.finish());
    assertThat(FrameReader.read(java.nio.ByteBuffer.wrap(reordered))).isNotNull();
    assertThat(MessageCodec.encodeTree(MessageCodec.decode(java.nio.ByteBuffer.wrap(reordered))))
        .isEqualTo(MessageCodec.encode(publish));

    // an indefinite-length heads list: left to the general decoder, same message
    byte[] canonical = MessageCodec.encode(publish);
    byte[] headsKey = FrameWriter.text("heads");
    int at = indexOf(canonical, headsKey) + headsKey.length; // 0x81, then the hash
    java.io.ByteArrayOutputStream indefinite = new java.io.ByteArrayOutputStream();
    indefinite.write(canonical, 0, at);
    indefinite.write(0x9f);
    indefinite.write(canonical, at + 1, 34);
    indefinite.write(0xff);
    indefinite.write(canonical, at + 35, canonical.length - at - 35);
    byte[] other = indefinite.toByteArray();
    assertThat(FrameReader.read(java.nio.ByteBuffer.wrap(other))).isNull();
    assertThat(MessageCodec.encodeTree(MessageCodec.decode(java.nio.ByteBuffer.wrap(other))))
        .isEqualTo(canonical);

    // every truncation is refused the same way by both
    for (int cut : new int[] {1, 10, 40, canonical.length / 2, canonical.length - 1}) {
      byte[] truncated = java.util.Arrays.copyOf(canonical, cut);
      Throwable general = org.assertj.core.api.Assertions.catchThrowable(
          () -> MessageCodec.decode(truncated));
      Throwable buffer = org.assertj.core.api.Assertions.catchThrowable(
          () -> MessageCodec.decode(java.nio.ByteBuffer.wrap(truncated)));
      assertThat(general).isInstanceOf(ReplikonException.class);
      assertThat(buffer).isInstanceOf(ReplikonException.class)
          .hasMessage(general.getMessage());
    }
    // a duplicate key, and an unknown field: both left to the general decoder
    for (String extra : new String[] {"id", "zzz"}) {
      FrameWriter x = new FrameWriter();
      x.head(5, 7);
      x.raw(FrameWriter.text("id"));
      x.integer(9);
      x.raw(FrameWriter.text(extra));
      x.integer(10);
      x.raw(FrameWriter.text("kind"));
      x.raw(FrameWriter.text("publish"));
      x.raw(FrameWriter.text("heads"));
      x.hashes(List.of(h));
      x.raw(FrameWriter.text("values"));
      x.head(4, 0);
      x.raw(FrameWriter.text("address"));
      x.raw(CanonicalCbor.encode(A.toValue()));
      x.raw(FrameWriter.text("commits"));
      x.head(4, 0);
      byte[] frame = join(x.finish());
      Throwable general = org.assertj.core.api.Assertions.catchThrowable(
          () -> MessageCodec.decode(frame));
      Throwable buffer = org.assertj.core.api.Assertions.catchThrowable(
          () -> MessageCodec.decode(java.nio.ByteBuffer.wrap(frame)));
      // an unknown field is refused as a duplicate is (docs/PROTOCOL.md: no other fields)
      assertThat(general).isInstanceOf(ReplikonException.class);
      assertThat(buffer).isInstanceOf(ReplikonException.class)
          .hasMessage(general.getMessage());
    }
  }

  @Test
  void encodePieces_sharesLargeValues_insteadOfCopyingThem() {
    byte[] v = bytes(100_000, 3);
    Hash h = Hash.sha256(v);
    List<java.nio.ByteBuffer> pieces = MessageCodec.encodePieces(new Message.FetchReply(1, 1,
        List.of(new Message.Slice(h, 0, v.length, v)), true));
    assertThat(pieces).anySatisfy(b -> assertThat(b.array()).isSameAs(v));
  }

  @Test
  void encode_overTheFrameLimit_isTooLarge() {
    byte[] v = new byte[Message.MAX_SLICE_BYTES];
    List<Message.Slice> slices = new java.util.ArrayList<>();
    for (int i = 0; i < 17; i++) {
      slices.add(new Message.Slice(H1, 0, v.length, v));
    }
    assertThatThrownBy(() -> MessageCodec.encodePieces(new Message.FetchReply(1, 1, slices, true)))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.TOO_LARGE);
  }

  static byte[] join(List<java.nio.ByteBuffer> pieces) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (java.nio.ByteBuffer b : pieces) {
      byte[] piece = new byte[b.remaining()];
      b.duplicate().get(piece);
      out.writeBytes(piece);
    }
    return out.toByteArray();
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
