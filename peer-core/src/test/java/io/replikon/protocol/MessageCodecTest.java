package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  static final Address A = new Address("alice", new UUID(1, 2));
  static final Hash H1 = Hash.sha256(new byte[] {1});
  static final Hash H2 = Hash.sha256(new byte[] {2});

  static List<Message> everyKind() {
    return List.of(
        new Message.Hello(1, "peer-a", 1, Message.Role.SERVER, Map.of("token", "secret")),
        new Message.Hello(2, "peer-b", 1, Message.Role.CLIENT, Map.of()),
        new Message.Subscribe(3, List.of(new Message.Interest(A, Set.of(H1, H2)))),
        new Message.SubscribeAck(4, 3, List.of(A)),
        new Message.Publish(5, A, List.of(new Update.Entry(H1, List.of()),
            new Update.Entry(H2, List.of(H1))), Set.of(H2), Map.of(H1, new byte[] {9, 9})),
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
}
