package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.error.ReplikonException;
import io.replikon.trust.SigningKey;
import io.replikon.value.ByteBuilder;
import io.replikon.value.Hash;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TransactionReaderTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();
  private static final Address ADDRESS = new Address("alice", new UUID(1, 2));
  private static final Commit INFO = new Commit(List.of(), List.of(), "alice", 0, ADDRESS,
      SigningKey.fromSeed(new byte[32]).verifyingKey());
  private static final Hash ID = Hash.sha256(new byte[] {1});

  static List<Transaction> sample() {
    List<Transaction> txs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ObjectNode p = NODES.objectNode();
      p.put("id", 1_100_000_000_000_000_000L + i);
      p.put("text", "tweet " + i + " café 😀 \"quoted\"\n" + "x".repeat(i * 37));
      p.put("big", BigInteger.TEN.pow(30).add(BigInteger.valueOf(i)));
      p.put("float", i / 7.0);
      p.put("bytes", new byte[] {(byte) i, 2, 3});
      p.putArray("list").add(i).add("😀").addNull().add(true);
      txs.add(new Transaction(i % 3 == 0 ? "add-note" : "add-tweet", i % 50 == 7
          ? NODES.textNode("plain " + i) : p));
    }
    return txs;
  }

  private static Chunk chunk(String hex, int count) {
    byte[] bytes = HEX.parseHex(hex);
    return new Chunk(Hash.sha256(bytes), bytes, count);
  }

  @Test
  void next_readsWhatChunkDecodeReads_decodingAndTranscodingOnDemand() throws Exception {
    List<Transaction> txs = sample();
    List<Chunk> chunks = Chunk.split(txs);
    assertThat(chunks).as("several chunks").hasSizeGreaterThan(1);
    List<Transaction> decoded = new ArrayList<>();
    for (Chunk c : chunks) {
      decoded.addAll(Chunk.decode(c.bytes()));
    }
    TransactionReader reader = new TransactionReader(ID, INFO, chunks);
    assertThat(reader.size()).isEqualTo(txs.size());
    for (int i = 0; i < reader.size(); i++) {
      AppliedTransaction t = reader.next();
      assertThat(t.index()).isEqualTo(i);
      assertThat(t.fn()).isEqualTo(decoded.get(i).fn());
      assertThat(t.encoded()).isTrue();
      if (i % 2 == 0) {
        ByteBuilder json = new ByteBuilder(0);
        t.writeParamsJson(json);
        assertThat(new String(json.toByteArray(), StandardCharsets.UTF_8))
            .isEqualTo(new String(JSON.writeValueAsBytes(decoded.get(i).params()),
                StandardCharsets.UTF_8));
      }
      if (i % 3 == 0) {
        assertThat(t.transaction()).isEqualTo(decoded.get(i));
        assertThat(t).isEqualTo(new AppliedTransaction(ID, i, decoded.get(i), INFO));
      }
    }
    reader.finish();
  }

  @Test
  void skip_stepsOverTransactions() {
    List<Transaction> txs = sample();
    TransactionReader reader = new TransactionReader(ID, INFO, Chunk.split(txs));
    for (int i = 0; i < 250; i++) {
      reader.skip();
    }
    assertThat(reader.next().transaction()).isEqualTo(txs.get(250));
  }

  @Test
  void next_otherWellFormedEncodings_areDecodedWhole() {
    // [ [_ "abc", 1], ["a" in chunks, 2], ["ab", [_ 3]] ]
    TransactionReader reader = new TransactionReader(ID, INFO,
        List.of(chunk("839f6361626301ff827f6161ff0282626162" + "9f03ff", 3)));
    AppliedTransaction a = reader.next();
    assertThat(a.fn()).isEqualTo("abc");
    assertThat(a.transaction().params()).isEqualTo(NODES.numberNode(1));
    assertThat(reader.next().transaction())
        .isEqualTo(new Transaction("a", NODES.numberNode(2)));
    AppliedTransaction c = reader.next();
    assertThat(c.encoded()).isTrue();
    assertThat(c.transaction().params()).isEqualTo(NODES.arrayNode().add(3));
    reader.finish();
  }

  @Test
  void malformed_isRejected() {
    assertMalformed(chunk("8182616101" + "00", 1), "trailing byte(s)");
    assertMalformed(chunk("818261" + "61f7", 1), "undefined");
    assertMalformed(chunk("81826001", 1), "non-empty string fn");
    assertMalformed(chunk("81830102", 1), "");
    assertMalformed(chunk("8182016161", 1), "[fn, params]");
    assertMalformed(chunk("818262c32801", 1), "UTF-8");
    assertMalformed(chunk("828261610182", 2), "declares 2 items but only 0 bytes remain");
  }

  @Test
  void transaction_ofMalformedParams_failsAsMalformed() {
    TransactionReader reader =
        new TransactionReader(ID, INFO, List.of(chunk("818261" + "61f7", 1)));
    AppliedTransaction t = reader.next();
    assertThatThrownBy(t::transaction).isInstanceOfSatisfying(ReplikonException.class,
        e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE))
        .hasMessageContaining("undefined");
  }

  private static void assertMalformed(Chunk c, String mentions) {
    assertThatThrownBy(() -> {
      TransactionReader reader = new TransactionReader(ID, INFO, List.of(c));
      for (int i = 0; i < reader.size(); i++) {
        reader.next();
      }
      reader.finish();
    }).isInstanceOfSatisfying(ReplikonException.class,
        e -> assertThat(e.reason()).isEqualTo(ReplikonException.Reason.MALFORMED_VALUE))
        .hasMessageContaining(mentions);
  }

  @Test
  void transaction_isDecodedOnceAndKept() {
    TransactionReader reader = new TransactionReader(ID, INFO, Chunk.split(sample()));
    AppliedTransaction t = reader.next();
    JsonNode params = t.transaction().params();
    assertThat(t.transaction().params()).isSameAs(params);
  }
}
