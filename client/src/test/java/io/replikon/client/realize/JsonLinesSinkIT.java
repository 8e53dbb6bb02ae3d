package io.replikon.client.realize;

import static io.replikon.client.realize.RealizerIT.TWEETS;
import static io.replikon.client.realize.RealizerIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.value.CanonicalCbor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON lines sink's two ways of writing a line, its large batches, and devices. */
class JsonLinesSinkIT extends PeerFixture {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @TempDir Path dir;

  @Test
  void recordOnlyLines_areTheBytesOfTheTreePath_andOfJacksonOverTheTransaction()
      throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    List<Transaction> txs = TransactionReaderTest.sample();
    for (int from = 0; from < txs.size(); from += 70) {
      get(server.transact(TWEETS, txs.subList(from, Math.min(txs.size(), from + 70))));
    }
    Peer reader = client(server);
    Path fast = dir.resolve("fast.jsonl");
    Path tree = dir.resolve("tree.jsonl");
    try (Sink<ObjectNode> sink = Sinks.jsonLines(fast)) {
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet", "add-note").batchSize(40)
          .build().runUntilSynced();
    }
    try (Sink<ObjectNode> sink = Sinks.jsonLines(tree)) {
      Handler<ObjectNode> nothing = (line, t) -> { };
      Realizer.builder(reader, TWEETS, sink).handle("add-tweet", nothing)
          .handle("add-note", nothing).batchSize(40).build().runUntilSynced();
    }
    byte[] lines = Files.readAllBytes(fast);
    assertThat(lines).isEqualTo(Files.readAllBytes(tree));
    List<String> read = Files.readAllLines(fast);
    assertThat(read).hasSize(txs.size());
    for (int i = 0; i < txs.size(); i++) {
      ObjectNode expected = JSON.readValue(read.get(i), ObjectNode.class).deepCopy();
      expected.put("fn", txs.get(i).fn());
      // as stored: canonical key order
      expected.set("params", CanonicalCbor.decode(CanonicalCbor.encode(txs.get(i).params())));
      assertThat(read.get(i)).isEqualTo(new String(JSON.writeValueAsBytes(expected),
          java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  @Test
  void sqliteOpsParams_areTheTextJacksonWritesAsAString() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    List<Transaction> txs = TransactionReaderTest.sample();
    get(server.transact(TWEETS, txs));
    Peer reader = client(server);
    Path db = dir.resolve("ops.db");
    try (Sink<SqlContext> sink = Sinks.sqlite(db)) {
      Realizer.builder(reader, TWEETS, sink).accept("add-tweet", "add-note").build()
          .runUntilSynced();
    }
    List<String> params = RealizerIT.column(db, "SELECT params FROM ops ORDER BY seq");
    assertThat(params).hasSize(txs.size());
    for (int i = 0; i < txs.size(); i++) {
      assertThat(params.get(i)).isEqualTo(JSON.writeValueAsString(
          CanonicalCbor.decode(CanonicalCbor.encode(txs.get(i).params()))));
    }
  }

  @Test
  void aFailedBatchLargerThanWhatTheSinkHolds_isTruncatedAway() throws Exception {
    Peer server = server();
    get(server.create(TWEETS));
    List<Transaction> txs = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      txs.add(new Transaction("add-blob", NODES.textNode(i + "x".repeat(100_000))));
    }
    get(server.transact(TWEETS, List.of(new Transaction("add-note", NODES.textNode("first")))));
    get(server.transact(TWEETS, txs));
    get(server.transact(TWEETS, List.of(new Transaction("add-note", NODES.textNode("boom")))));
    Peer reader = client(server);
    Path file = dir.resolve("blobs.jsonl");
    try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
      Realizer crashing = Realizer.builder(reader, TWEETS, sink).accept("add-blob")
          .handle("add-note", (line, t) -> {
            if (t.transaction().params().asText().equals("boom")) {
              throw new IllegalStateException("boom");
            }
          }).batchSize(100).build();
      assertThatThrownBy(crashing::runUntilSynced).hasRootCauseMessage("boom");
      assertThat(Files.size(file)).as("the 3 MB written before the failure are cut")
          .isZero();
    }
    try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
      Realizer.builder(reader, TWEETS, sink).accept("add-blob", "add-note").batchSize(100)
          .build().runUntilSynced();
    }
    assertThat(Files.readAllLines(file)).hasSize(32);
    assertThat(Files.size(file)).isGreaterThan(3_000_000);
  }

  @Test
  void devNull_andALinkToIt_takeEveryLine_withTheLogInMemory() throws Exception {
    Path devNull = Path.of("/dev/null");
    Assumptions.assumeTrue(Files.exists(devNull) && !Files.isRegularFile(devNull));
    Peer server = server();
    get(server.create(TWEETS));
    int n = RealizerIT.tweets(server, 3, 7, 1);
    Peer reader = client(server);
    Path link = Files.createSymbolicLink(dir.resolve("null.jsonl"), devNull);
    for (Path file : List.of(devNull, link)) {
      for (int run = 0; run < 2; run++) {
        try (Sink<ObjectNode> sink = Sinks.jsonLines(file)) {
          assertThat(sink.exactlyOnce()).isFalse();
          Progress p = Realizer.builder(reader, TWEETS, sink).accept("add-tweet").batchSize(5)
              .build().runUntilSynced();
          assertThat(p.transactionsApplied()).as("every run starts over").isEqualTo(n);
          sink.reset(TWEETS);
        }
      }
    }
    try (var files = Files.list(dir)) {
      assertThat(files).as("no sidecar beside the link").containsExactly(link);
    }
  }
}
