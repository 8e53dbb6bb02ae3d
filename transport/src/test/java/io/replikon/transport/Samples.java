package io.replikon.transport;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.Message.Kind;
import io.replikon.trust.Challenge;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/** Messages for tests. */
final class Samples {
  private static final Address ADDRESS =
      new Address("alice@example.org", UUID.fromString("6c8f3f0e-6a3e-4bde-9d62-3f0d4c1a2b3c"));
  /** Values are chunks (or commit values) in canonical CBOR: the transport checks that too. */
  private static final byte[] V1 = chunk("one");
  private static final byte[] V2 = chunk("two");
  /** Ids of V1 and V2: values travel under their hashes (the transport checks them). */
  static final Hash H1 = Hash.sha256(V1);
  static final Hash H2 = Hash.sha256(V2);

  private Samples() {}

  /** The key that signs the sample publish and auth. */
  static final SigningKey KEY = SigningKey.fromSeed(new byte[32]);

  /** Returns a message of each kind (a new kind fails to compile here). */
  static Message of(Kind kind) {
    return switch (kind) {
      case HELLO -> new Message.Hello(1, "peer-a", Message.PROTOCOL_VERSION, Message.Role.SERVER,
          Map.of("token", "s3cret"), Optional.of(Challenge.of(new byte[Challenge.BYTES])));
      case SUBSCRIBE -> new Message.Subscribe(2,
          List.of(new Message.Interest(ADDRESS, Set.of(H1))));
      case SUBSCRIBE_ACK -> new Message.SubscribeAck(3, 2, List.of(ADDRESS));
      case PUBLISH -> new Message.Publish(4, ADDRESS,
          List.of(new Update.Entry(H2, List.of(H1), KEY.signCommit(H2))), Set.of(H2),
          Map.of(H2, V2.clone()));
      case PUBLISH_ACK -> new Message.PublishAck(5, 4, ADDRESS, Set.of(H2));
      case FETCH -> new Message.Fetch(6, List.of(H1, H2));
      case FETCH_REPLY -> new Message.FetchReply(7, 6, List.of(
          new Message.Slice(H1, 0, V1.length, V1.clone()),
          new Message.Slice(H2, 0, -1, new byte[0])), true);
      case AUTH -> new Message.Auth(9, KEY.verifyingKey(),
          KEY.prove(Challenge.of(new byte[Challenge.BYTES]), "peer-a", "peer-b"));
      case ERROR -> new Message.ErrorReport(8, 7, ErrorCode.HASH_MISMATCH, "bad hash");
    };
  }

  /** Returns a small message with this id. */
  static Message ping(long id) {
    return new Message.Fetch(id, List.of(H1));
  }

  private static byte[] chunk(String fn) {
    return Chunk.split(List.of(new Transaction(fn, JsonNodeFactory.instance.numberNode(1))))
        .get(0).bytes();
  }

  /**
   * Returns a fetch reply carrying {@code bytes} random bytes: the first slice of a larger value
   * (a whole value would have to be a canonical chunk or commit value).
   */
  static Message bulky(long id, int bytes, Random random) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    long total = Math.min(bytes + 1L, Math.max(bytes, Message.MAX_VALUE_BYTES));
    return new Message.FetchReply(id, 0, List.of(new Message.Slice(Hash.sha256(b), 0, total, b)),
        false);
  }
}
