package io.replikon.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.Update;
import io.replikon.protocol.Message;
import io.replikon.protocol.MessageCodec;
import io.replikon.testkit.TestKeys;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class VerifiedSignaturesTest {
  static final Address ADDRESS = new Address("alice", new UUID(41, 41));

  @Test
  void verifiesCommit_remembersAGoodSignature_neverABadOne() {
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 7);
    Update.Entry e = root.commits().get(0);
    VerifyingKey alice = TestKeys.ALICE.key().verifyingKey();
    Signature zero = Signature.of(new byte[Signature.BYTES]);

    assertThat(alice.verifiesCommit(e.id(), zero)).isFalse();
    assertThat(VerifiedSignatures.contains(alice, e.id(), zero)).isFalse();
    assertThat(alice.verifiesCommit(e.id(), e.signature())).isTrue();
    assertThat(VerifiedSignatures.contains(alice, e.id(), e.signature())).isTrue();
    VerifyingKey bob = TestKeys.BOB.key().verifyingKey();
    assertThat(bob.verifiesCommit(e.id(), e.signature())).as("the same signature, another key")
        .isFalse();
  }

  @Test
  void decodeVerified_ofAPublish_checksTheSignaturesOfItsInlineCommits_onTheCallersThread() {
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 8);
    Update.Entry e = root.commits().get(0);
    VerifyingKey alice = TestKeys.ALICE.key().verifyingKey();
    byte[] frame = MessageCodec.encode(new Message.Publish(1, ADDRESS, List.of(e),
        Set.of(e.id()), root.commitValues()));
    assertThat(VerifiedSignatures.contains(alice, e.id(), e.signature())).isFalse();

    MessageCodec.decodeVerified(ByteBuffer.wrap(frame));

    assertThat(VerifiedSignatures.contains(alice, e.id(), e.signature())).isTrue();
  }

  @Test
  void decodeVerified_ofAPublishWithABadSignature_leavesItToTheEngine() {
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 9);
    Update.Entry e = root.commits().get(0);
    Signature zero = Signature.of(new byte[Signature.BYTES]);
    byte[] frame = MessageCodec.encode(new Message.Publish(1, ADDRESS,
        List.of(new Update.Entry(e.id(), e.parents(), zero)), Set.of(e.id()),
        root.commitValues()));

    Message decoded = MessageCodec.decodeVerified(ByteBuffer.wrap(frame));

    assertThat(decoded).isInstanceOf(Message.Publish.class);
    assertThat(VerifiedSignatures.contains(TestKeys.ALICE.key().verifyingKey(), e.id(), zero))
        .isFalse();
  }
}
