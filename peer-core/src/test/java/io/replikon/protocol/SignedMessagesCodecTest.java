package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.Challenge;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Protocol 2 on the wire: signatures in publish entries, the hello's challenge, auth. */
class SignedMessagesCodecTest {
  static final Address A = new Address("alice", new UUID(1, 2));

  /** A publish of a root and one commit by alice, values inline, as a peer sends it. */
  static Message.Publish publish() {
    Cdvcs c = Cdvcs.empty(A);
    Update root = Cdvcs.create(A, TestKeys.ALICE, 1);
    c.apply(root);
    Update next = c.transact(List.of(new io.replikon.cdvcs.Transaction("add",
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.textNode("x"))),
        TestKeys.ALICE, 2);
    List<Update.Entry> entries = new ArrayList<>(root.commits());
    entries.addAll(next.commits());
    Map<Hash, byte[]> values = new HashMap<>(root.commitValues());
    values.putAll(next.commitValues());
    return new Message.Publish(7, A, entries, Set.of(next.lastCommit()), values);
  }

  /** Refused as malformed by the decoder of arrays and by that of buffers, its fast path too. */
  private static void assertMalformed(byte[] frame, String mentions) {
    assertThat(FrameReader.read(ByteBuffer.wrap(frame))).as("the fast path gives up").isNull();
    for (Runnable decode : List.<Runnable>of(() -> MessageCodec.decode(frame),
        () -> MessageCodec.decode(ByteBuffer.wrap(frame)),
        () -> MessageCodec.decodeVerified(ByteBuffer.wrap(frame)))) {
      assertThatThrownBy(decode::run).isInstanceOf(ReplikonException.class)
          .hasMessageContaining(mentions)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
    }
  }

  /** Encodes a message, changes its tree, and encodes the tree again (canonical). */
  private static byte[] edited(Message m, Consumer<ObjectNode> edit) {
    ObjectNode tree = (ObjectNode) CanonicalCbor.decode(MessageCodec.encode(m));
    edit.accept(tree);
    return CanonicalCbor.encode(tree);
  }

  @Test
  void publish_entriesWithSignatures_roundTripThroughBothDecoders() {
    Message.Publish p = publish();
    byte[] frame = MessageCodec.encode(p);
    assertThat(FrameReader.read(ByteBuffer.wrap(frame))).as("read on the fast path").isNotNull();
    for (Message back : List.of(MessageCodec.decode(frame),
        MessageCodec.decode(ByteBuffer.wrap(frame)),
        MessageCodec.decodeVerified(ByteBuffer.wrap(frame)))) {
      Message.Publish q = (Message.Publish) back;
      assertThat(q.commits()).isEqualTo(p.commits());
      assertThat(q.commits()).extracting(Update.Entry::signature)
          .containsExactlyElementsOf(p.commits().stream().map(Update.Entry::signature).toList());
      for (Update.Entry e : q.commits()) {
        assertThat(TestKeys.ALICE.key().verifyingKey().verifiesCommit(e.id(), e.signature()))
            .isTrue();
      }
      assertThat(MessageCodec.encode(q)).isEqualTo(frame);
    }
  }

  @Test
  void publish_entryWithoutASignature_isMalformed() {
    byte[] frame = edited(publish(), m -> ((ArrayNode) m.get("commits").get(1)).remove(2));
    assertMalformed(frame, "[id, parents, signature (64 bytes)]");
  }

  @Test
  void publish_entryWithASignatureOf63Or65Bytes_isMalformed() {
    for (int n : new int[] {63, 65, 0}) {
      byte[] frame = edited(publish(),
          m -> ((ArrayNode) m.get("commits").get(0)).set(2, m.binaryNode(new byte[n])));
      assertMalformed(frame, "signature (64 bytes)");
    }
  }

  @Test
  void publish_entryWithASignatureThatIsNoByteString_isMalformed() {
    byte[] frame = edited(publish(),
        m -> ((ArrayNode) m.get("commits").get(0)).set(2, m.textNode("0".repeat(64))));
    assertMalformed(frame, "signature (64 bytes)");
    byte[] four = edited(publish(),
        m -> ((ArrayNode) m.get("commits").get(0)).add(m.binaryNode(new byte[64])));
    assertMalformed(four, "[id, parents, signature (64 bytes)]");
  }

  @Test
  void hello_withAChallenge_roundTrips_andOneOfAnotherLengthIsMalformed() {
    byte[] bytes = new byte[Challenge.BYTES];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 7 + 1);
    }
    Message.Hello hello = new Message.Hello(1, "server", Message.PROTOCOL_VERSION,
        Message.Role.SERVER, Map.of(), Optional.of(Challenge.of(bytes)));
    byte[] frame = MessageCodec.encode(hello);
    Message.Hello back = (Message.Hello) MessageCodec.decode(ByteBuffer.wrap(frame));
    assertThat(back.challenge()).contains(Challenge.of(bytes));
    assertThat(back.peer()).isEqualTo("server");
    Message.Hello plain = (Message.Hello) MessageCodec.decode(MessageCodec.encode(
        new Message.Hello(1, "client", Message.PROTOCOL_VERSION, Message.Role.CLIENT)));
    assertThat(plain.challenge()).isEmpty();
    for (int n : new int[] {31, 33, 0}) {
      assertMalformed(edited(hello, m -> m.put("challenge", new byte[n])), "challenge");
    }
  }

  @Test
  void auth_roundTrips_andItsProofStillVerifies() {
    SigningKey key = TestKeys.BOB.key();
    Challenge challenge = Challenge.of(Hash.sha256(new byte[] {5}).toBytes());
    Message.Auth auth = new Message.Auth(3, key.verifyingKey(),
        key.prove(challenge, "server", "client"));
    byte[] frame = MessageCodec.encode(auth);
    assertThat(CanonicalCbor.isCanonical(frame)).isTrue();
    for (Message m : List.of(MessageCodec.decode(frame),
        MessageCodec.decode(ByteBuffer.wrap(frame)))) {
      Message.Auth back = (Message.Auth) m;
      assertThat(back.id()).isEqualTo(3);
      assertThat(back.key()).isEqualTo(key.verifyingKey());
      assertThat(back.signature()).isEqualTo(auth.signature());
      assertThat(back.key().verifiesProof(challenge, "server", "client", back.signature()))
          .isTrue();
      assertThat(back.kind().wireName()).isEqualTo("auth");
    }
  }

  @Test
  void auth_withAKeyOf31Bytes_orASignatureOf63_orAFieldMissing_isMalformed() {
    SigningKey key = TestKeys.BOB.key();
    Message.Auth auth = new Message.Auth(3, key.verifyingKey(),
        key.prove(Challenge.of(new byte[32]), "server", "client"));
    assertMalformed(edited(auth, m -> m.put("key", new byte[31])), "key");
    assertMalformed(edited(auth, m -> m.put("key", new byte[33])), "key");
    assertMalformed(edited(auth, m -> m.put("signature", new byte[63])), "signature");
    assertMalformed(edited(auth, m -> m.remove("signature")), "signature");
    assertMalformed(edited(auth, m -> m.remove("key")), "key");
    assertMalformed(edited(auth, m -> m.put("key", key.verifyingKey().toString())), "key");
    assertThat(Signature.BYTES).isEqualTo(64);
  }
}
