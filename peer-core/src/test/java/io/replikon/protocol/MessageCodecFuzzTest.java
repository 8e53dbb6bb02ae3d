package io.replikon.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.replikon.error.ReplikonException;
import io.replikon.fuzz.Allocations;
import java.nio.ByteBuffer;

/**
 * Fuzz targets: the message codec and its fast frame reader, on frames from a peer. Regression
 * mode over {@code MessageCodecFuzzTestInputs/<target>/} in every build; {@code docs/FUZZING.md}
 * says how to fuzz them.
 *
 * <p>Contract: any frame is decoded or refused with a {@link ReplikonException}, never another
 * exception or an Error, allocating in proportion to the frame; both decoders (from an array,
 * from a buffer through {@link FrameReader}) agree on what they accept, what they refuse and the
 * message; a decoded message encodes and decodes back to itself (decode of encode).
 */
class MessageCodecFuzzTest {
  @FuzzTest
  void decode(byte[] frame) {
    Message fromArray;
    try {
      fromArray = Allocations.bounded(frame.length, () -> MessageCodec.decode(frame));
    } catch (ReplikonException e) {
      Throwable fromBuffer = catchThrowable(() -> MessageCodec.decode(ByteBuffer.wrap(frame)));
      assertThat(fromBuffer).isInstanceOf(ReplikonException.class);
      assertThat(((ReplikonException) fromBuffer).reason()).isEqualTo(e.reason());
      return;
    }
    Message fromBuffer = MessageCodec.decode(ByteBuffer.wrap(frame));
    byte[] encoded = MessageCodec.encodeTree(fromArray);
    assertThat(MessageCodec.encodeTree(fromBuffer)).isEqualTo(encoded);
    assertThat(MessageCodec.encode(fromArray)).isEqualTo(encoded);
    assertThat(MessageCodec.encodeTree(MessageCodec.decode(encoded))).isEqualTo(encoded);
    assertThat(MessageCodec.encodeTree(MessageCodec.decode(ByteBuffer.wrap(encoded))))
        .isEqualTo(encoded);
    try {
      MessageCodec.decodeVerified(ByteBuffer.wrap(frame));
    } catch (ReplikonException e) {
      assertThat(e.reason()).isIn(ReplikonException.Reason.HASH_MISMATCH,
          ReplikonException.Reason.MALFORMED_VALUE);
    }
  }

  /**
   * The fast reader alone: it never throws (it gives up with null), and what it reads the
   * general decoder reads too, with the same result.
   */
  @FuzzTest
  void frameReader(byte[] frame) {
    Message direct = Allocations.bounded(frame.length,
        () -> FrameReader.read(ByteBuffer.wrap(frame)));
    if (direct == null) {
      return;
    }
    Throwable refused = catchThrowable(() -> MessageCodec.decode(frame));
    if (refused != null) { // only by the bounds that decode checks after the fast reader
      assertThat(refused).isInstanceOf(ReplikonException.class);
      assertThat(catchThrowable(() -> MessageCodec.check(direct)))
          .isInstanceOf(ReplikonException.class);
      return;
    }
    Message general = MessageCodec.decode(frame);
    assertThat(MessageCodec.encodeTree(general)).isEqualTo(MessageCodec.encodeTree(direct));
  }
}
