package io.replikon.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;

class CborDecoderFuzzTest {
  @FuzzTest
  void decode(byte[] input) {
    try {
      CanonicalCbor.decode(input);
    } catch (ReplikonException e) {
      // expected
    }
  }
}
