package io.replikon.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes HTTP ingest from the bytes of a connection to its answers: the request decoder with its
 * line and header limits, the body limit, routing, the token, the content type, JSON to CBOR and
 * the tweet check, in the real pipeline ({@link HttpIngest#initPipeline}) over an embedded channel,
 * into an intake that takes everything. The contract: every answer is 2xx or 4xx with a JSON
 * object for a body (but the interim 100 Continue), never a 5xx, and nothing escapes the
 * pipeline.
 *
 * <p>{@code mvn verify} runs it in regression mode over the committed inputs in
 * {@code src/test/resources/io/replikon/collector/HttpIngestFuzzTestInputs/request/} (raw HTTP
 * requests, one a file). To fuzz: {@code JAZZER_FUZZ=1 mvn -pl collector -am test
 * -Dtest=HttpIngestFuzzTest -Djazzer.max_duration=1h}; a crash is written into that directory:
 * keep it there once fixed.
 */
class HttpIngestFuzzTest {
  /** Takes every submission at once; what a collector that is not overloaded answers. */
  private static final Intake TAKE_ALL = new Intake() {
    @Override
    public CompletableFuture<Accepted> submit(Submission submission) {
      return CompletableFuture.completedFuture(new Accepted(submission.transactions().size(),
          false));
    }

    @Override
    public void awaitCapacity() {}

    @Override
    public CompletableFuture<Hash> flush() {
      return CompletableFuture.completedFuture(Hash.sha256(new byte[0]));
    }

    @Override
    public Optional<byte[]> cursor() {
      return Optional.empty();
    }
  };

  private static final HttpIngest PLAIN = HttpIngest.unbound(HttpIngestConfig.port(0)
      .withMaxBodyBytes(64 * 1024).withFlushEndpoint().withReadTimeout(Duration.ofHours(1)),
      TAKE_ALL);
  private static final HttpIngest WITH_TOKEN = HttpIngest.unbound(HttpIngestConfig.port(0)
      .withMaxBodyBytes(64 * 1024).withToken("fuzz-token"), TAKE_ALL);

  @AfterAll
  static void close() {
    PLAIN.close();
    WITH_TOKEN.close();
  }

  @FuzzTest
  void request(byte[] data) throws Exception {
    answersAreJsonAndNever5xx(PLAIN, data);
    answersAreJsonAndNever5xx(WITH_TOKEN, data);
  }

  /** The harness sees every answer: a test of the test. */
  @Test
  void harness_readsEachAnswerOfPipelinedRequests() throws Exception {
    byte[] three = ("POST /events HTTP/1.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: 8\r\n\r\n{\"id\":1}POST /events HTTP/1.1\r\nContent-Length: 1\r\n\r\n1"
        + "GET /health HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    // A request refused by its head (415, 401) ends the connection: what follows is not read.
    assertThat(answersAreJsonAndNever5xx(PLAIN, three)).containsExactly(202, 415);
    assertThat(answersAreJsonAndNever5xx(WITH_TOKEN, three)).containsExactly(401);
  }

  private static List<Integer> answersAreJsonAndNever5xx(HttpIngest ingest, byte[] data)
      throws Exception {
    List<Integer> statuses = new ArrayList<>();
    EmbeddedChannel server = new EmbeddedChannel();
    ingest.initPipeline(server.pipeline());
    server.writeInbound(Unpooled.wrappedBuffer(data));
    server.checkException();
    EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(),
        new HttpObjectAggregator(1 << 20));
    for (ByteBuf out = server.readOutbound(); out != null; out = server.readOutbound()) {
      client.writeInbound(out);
    }
    server.finishAndReleaseAll();
    for (FullHttpResponse r = client.readInbound(); r != null; r = client.readInbound()) {
      try {
        assertThat(r.decoderResult().isSuccess()).as("a well-formed answer").isTrue();
        int status = r.status().code();
        if (status == 100) {
          assertThat(r.content().readableBytes()).as("100 Continue has no body").isZero();
          continue; // an interim answer to Expect: 100-continue; the answer follows
        }
        statuses.add(status);
        String body = r.content().toString(StandardCharsets.UTF_8);
        assertThat(status).as("status of %s", body).isBetween(200, 499);
        JsonNode json = SourceSupport.JSON.readTree(body);
        assertThat(json.isObject()).as(body).isTrue();
        assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
      } finally {
        r.release();
      }
    }
    client.finishAndReleaseAll();
    return statuses;
  }
}
