package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.replikon.error.ReplikonException;
import io.replikon.fuzz.Allocations;

/**
 * Fuzz target: JSON text to canonical CBOR ({@link JsonCbor}), the path of every JSON that
 * becomes a value (collector ingest, {@code replikon hash}, {@code replikon transact}).
 * Regression mode over {@code JsonCborFuzzTestInputs/} in every build; {@code docs/FUZZING.md}
 * says how to fuzz it.
 *
 * <p>Contract: any bytes are encoded or refused with an {@code INVALID_INPUT}
 * {@link ReplikonException}, never another exception or an Error, allocating in proportion to
 * the input; what is encoded is canonical CBOR that decodes, and re-encodes to the same bytes;
 * {@link JsonCbor#encodeElements} agrees with {@link JsonCbor#encode} on what it accepts.
 */
class JsonCborFuzzTest {
  @FuzzTest
  void encode(byte[] json) {
    byte[] cbor;
    try {
      cbor = Allocations.bounded(json.length, () -> JsonCbor.encode(json, 0, json.length));
    } catch (ReplikonException e) {
      assertThat(e.reason()).isEqualTo(ReplikonException.Reason.INVALID_INPUT);
      assertThat(e.getMessage()).startsWith("invalid JSON: ").contains(" column ");
      return;
    }
    assertThat(CanonicalCbor.isCanonical(cbor)).isTrue();
    assertThat(CanonicalCbor.encode(CanonicalCbor.decode(cbor))).isEqualTo(cbor);
    byte[] prefix = {(byte) 0x82, 0x61, 'f'}; // ["f", element]: a transaction
    try {
      for (byte[] element : JsonCbor.encodeElements(prefix, json, 0, json.length)) {
        assertThat(element).startsWith(prefix);
        assertThat(CanonicalCbor.isCanonical(element)).isTrue();
      }
    } catch (ReplikonException e) { // one level deeper than encode: the depth limit may refuse
      assertThat(e.getMessage()).contains("nests deeper");
    }
  }
}
