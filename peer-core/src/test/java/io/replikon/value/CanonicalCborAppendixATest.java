package io.replikon.value;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every example of RFC 8949 Appendix A, each as its own test named by its hex. */
class CanonicalCborAppendixATest {
  private static final HexFormat HEX = HexFormat.of();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Map<String, Double> FLOAT_DIAGNOSTICS = Map.of(
      "NaN", Double.NaN,
      "Infinity", Double.POSITIVE_INFINITY,
      "-Infinity", Double.NEGATIVE_INFINITY);
  private static final Pattern BYTES = Pattern.compile("h'([0-9a-f]*)'");
  private static final Pattern TAG = Pattern.compile("(\\d+)\\(.*\\)");
  private static final Pattern SIMPLE = Pattern.compile("simple\\((\\d+)\\)");

  static List<JsonNode> entries() throws IOException {
    try (InputStream in =
        CanonicalCborAppendixATest.class.getResourceAsStream("/cbor-appendix-a.json")) {
      assertThat(in).as("test resource cbor-appendix-a.json").isNotNull();
      JsonNode all = new ObjectMapper().readTree(in);
      List<JsonNode> out = new ArrayList<>();
      all.forEach(out::add);
      return out;
    }
  }

  @Test
  void resource_holdsAllAppendixAExamples() throws IOException {
    assertThat(entries()).hasSize(82);
  }

  @Test
  void resource_bigIntegersAndWholeDoublesParseAsTheirNodeTypes() throws IOException {
    List<JsonNode> entries = entries();
    JsonNode twoTo64 = entries.stream()
        .filter(e -> e.get("hex").asText().equals("c249010000000000000000"))
        .findFirst().orElseThrow().get("decoded");
    JsonNode one = entries.stream()
        .filter(e -> e.get("hex").asText().equals("f93c00"))
        .findFirst().orElseThrow().get("decoded");
    assertThat(twoTo64.isBigInteger()).isTrue();
    assertThat(one.isDouble()).isTrue();
  }

  @TestFactory
  List<DynamicTest> appendixA_everyExampleBehavesAsSpecified() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    int index = 0;
    for (JsonNode entry : entries()) {
      String hex = entry.get("hex").asText();
      boolean roundtrip = entry.get("roundtrip").asBoolean();
      String what = entry.has("decoded")
          ? "decoded " + entry.get("decoded")
          : "diagnostic " + entry.get("diagnostic").asText();
      String name = "A[" + index++ + "] " + hex + " (" + what + ", roundtrip " + roundtrip + ")";
      tests.add(DynamicTest.dynamicTest(name, () -> check(entry, hex, roundtrip)));
    }
    return tests;
  }

  private static void check(JsonNode entry, String hex, boolean roundtrip) {
    byte[] bytes = HEX.parseHex(hex);
    JsonNode expected;
    if (entry.has("decoded")) {
      expected = entry.get("decoded");
    } else {
      expected = expectedForDiagnostic(entry.get("diagnostic").asText(), bytes);
      if (expected == null) {
        return; // a rejection, checked by expectedForDiagnostic
      }
    }
    assertThat(CanonicalCbor.decode(bytes)).as("decode(%s)", hex).isEqualTo(expected);
    if (roundtrip) {
      assertThat(HEX.formatHex(CanonicalCbor.encode(expected))).as("encode").isEqualTo(hex);
      assertThat(CanonicalCbor.isCanonical(bytes)).as("isCanonical").isTrue();
    } else {
      byte[] canonical = CanonicalCbor.encode(CanonicalCbor.decode(bytes));
      assertThat(HEX.formatHex(canonical))
          .as("re-encoding of a non-deterministic form")
          .isEqualTo(HEX.formatHex(CanonicalCbor.encode(expected)))
          .isNotEqualTo(hex);
      assertThat(CanonicalCbor.isCanonical(bytes)).as("isCanonical").isFalse();
      assertThat(CanonicalCbor.isCanonical(canonical)).as("isCanonical(re-encoded)").isTrue();
    }
  }

  /** Returns the value a diagnostic denotes, or null after checking that decoding rejects it. */
  private static JsonNode expectedForDiagnostic(String diagnostic, byte[] bytes) {
    if (FLOAT_DIAGNOSTICS.containsKey(diagnostic)) {
      return NODES.numberNode(FLOAT_DIAGNOSTICS.get(diagnostic));
    }
    Matcher m = BYTES.matcher(diagnostic);
    if (m.matches()) {
      return NODES.binaryNode(HEX.parseHex(m.group(1)));
    }
    if (diagnostic.equals("(_ h'0102', h'030405')")) {
      return NODES.binaryNode(HEX.parseHex("0102030405"));
    }
    String mentions;
    if (diagnostic.equals("undefined")) {
      mentions = "undefined";
    } else if (diagnostic.equals("{1: 2, 3: 4}")) {
      mentions = "map key is an unsigned integer";
    } else if ((m = SIMPLE.matcher(diagnostic)).matches()) {
      mentions = "simple(" + m.group(1) + ")";
    } else if ((m = TAG.matcher(diagnostic)).matches()) {
      mentions = "tag " + m.group(1) + " is not supported";
    } else {
      return fail("no expectation for diagnostic " + diagnostic);
    }
    assertThatThrownBy(() -> CanonicalCbor.decode(bytes))
        .isInstanceOfSatisfying(ReplikonException.class,
            e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE))
        .hasMessageContaining(mentions)
        .hasMessageContaining("offset");
    assertThat(CanonicalCbor.isCanonical(bytes)).isFalse();
    return null;
  }
}
