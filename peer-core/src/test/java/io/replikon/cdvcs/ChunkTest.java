package io.replikon.cdvcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkTest {

  static List<Transaction> transactions(int n, int textBytes) {
    List<Transaction> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String text = ("tweet " + i + " ").repeat(textBytes / 8 + 1).substring(0, textBytes);
      out.add(new Transaction("add-tweet",
          JsonNodeFactory.instance.objectNode().put("id", i).put("text", text)));
    }
    return out;
  }

  @Test
  void split_manyTransactions_givesChunksOfAtMostOneMebibyteInOrder() {
    List<Transaction> txs = transactions(3000, 1000);
    List<Chunk> chunks = Chunk.split(txs);
    assertThat(chunks.size()).isGreaterThanOrEqualTo(3);
    List<Transaction> back = new ArrayList<>();
    for (Chunk c : chunks) {
      assertThat(c.bytes().length).isLessThanOrEqualTo(Chunk.MAX_BYTES);
      assertThat(c.id()).isEqualTo(Hash.sha256(c.bytes()));
      assertThat(Chunk.countTransactions(c.bytes())).isEqualTo(c.transactionCount());
      back.addAll(Chunk.decode(c.bytes()));
    }
    assertThat(back).isEqualTo(txs);
    // every chunk but the last is full: adding the next transaction would have overflowed it
    assertThat(chunks.get(0).bytes().length).isGreaterThan(Chunk.MAX_BYTES - 1100);
  }

  @Test
  void split_encodingEqualsCanonicalEncodingOfTheList() {
    List<Transaction> txs = transactions(30, 10);
    var list = JsonNodeFactory.instance.arrayNode();
    txs.forEach(t -> list.add(t.toValue()));
    assertThat(Chunk.split(txs).get(0).bytes())
        .isEqualTo(io.replikon.value.CanonicalCbor.encode(list));
  }

  @Test
  void encodeJson_givesTheEncodingOfTheTransactionOfTheParsedValue() throws Exception {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    String json = "{\"user\":{\"name\":\"ä😀\",\"id\":7},\"text\":\"hi\",\"geo\":null,"
        + "\"coordinates\":[1.5,-2e3],\"id\":12345678901234567890}";
    byte[] bytes = ("  " + json + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] direct = Chunk.encodeJson("add-tweet", bytes, 2, bytes.length - 2);
    assertThat(direct).isEqualTo(Chunk.encode(new Transaction("add-tweet", mapper.readTree(json))));
    assertThat(Chunk.splitEncoded(List.of(direct)).get(0).bytes())
        .isEqualTo(Chunk.split(List.of(new Transaction("add-tweet", mapper.readTree(json))))
            .get(0).bytes());
    assertThatThrownBy(() -> Chunk.encodeJson("", bytes, 0, bytes.length))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encodeJsonElements_anArray_givesOneTransactionAnElement() throws Exception {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    byte[] bytes = "[{\"n\":1},{\"n\":2},3]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    List<byte[]> out = Chunk.encodeJsonElements("ev", bytes, 0, bytes.length);
    assertThat(out).hasSize(3);
    var tree = mapper.readTree(bytes);
    for (int i = 0; i < 3; i++) {
      assertThat(out.get(i)).isEqualTo(Chunk.encode(new Transaction("ev", tree.get(i))));
    }
  }

  @Test
  void split_transactionLargerThanAChunk_isRefusedNamingIt() {
    List<Transaction> txs = new ArrayList<>(transactions(2, 10));
    txs.addAll(transactions(1, Chunk.MAX_BYTES));
    assertThatThrownBy(() -> Chunk.split(txs))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("transaction 2");
  }

  @Test
  void splitEncoded_givesTheSameChunksAsSplit() {
    List<Transaction> txs = transactions(2500, 1000);
    List<byte[]> encoded = new ArrayList<>();
    txs.forEach(t -> encoded.add(Chunk.encode(t)));
    assertThat(Chunk.splitEncoded(encoded)).isEqualTo(Chunk.split(txs));
  }

  @Test
  void splitEncoded_valueThatIsNotATransaction_isRefused() {
    byte[] notAnArray = io.replikon.value.CanonicalCbor.encode(JsonNodeFactory.instance.textNode("x"));
    assertThatThrownBy(() -> Chunk.splitEncoded(List.of(notAnArray)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("encoding 0");
  }
}
