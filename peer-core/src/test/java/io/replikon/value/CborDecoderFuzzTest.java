package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import io.replikon.fuzz.Allocations;
import java.util.Arrays;

/**
 * Fuzz target: the CBOR decoder ({@link CanonicalCbor#decode}) and the canonical check, on
 * bytes from a peer. Regression mode over {@code CborDecoderFuzzTestInputs/} in every build;
 * {@code docs/FUZZING.md} says how to fuzz it.
 *
 * <p>Contract: any input is decoded or refused with a {@code MALFORMED_VALUE}
 * {@link ReplikonException}, never another exception or an Error, allocating in proportion to
 * the input; a decoded value encodes, and decodes back to itself; the canonical check agrees with
 * its definition (decode, re-encode, compare).
 */
class CborDecoderFuzzTest {
  @FuzzTest
  void decode(byte[] input) {
    JsonNode value;
    try {
      value = Allocations.bounded(input.length, () -> CanonicalCbor.decode(input));
    } catch (ReplikonException e) {
      assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE);
      assertThat(CanonicalCbor.isCanonical(input)).isFalse();
      return;
    }
    byte[] canonical = CanonicalCbor.encode(value);
    // Never much longer than the input: an indefinite-length container (2 bytes of heads) of 256
    // items or more takes a 3- to 5-byte head in canonical form, so at most 2.5 times as long.
    assertThat(canonical.length).isLessThanOrEqualTo(3 * input.length);
    assertThat(CanonicalCbor.decode(canonical)).isEqualTo(value);
    assertThat(CanonicalCbor.encode(CanonicalCbor.decode(canonical))).isEqualTo(canonical);
    assertThat(CanonicalCbor.isCanonical(canonical)).isTrue();
    assertThat(CanonicalCbor.isCanonical(input)).isEqualTo(Arrays.equals(canonical, input));
    assertThat(CanonicalCbor.hash(value)).isEqualTo(Hash.sha256(canonical));
  }
}
