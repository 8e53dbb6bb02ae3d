package io.replikon.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Canonical CBOR encoding and SHA-256 hashing of realistic tweets (Twitter v1.1 statuses, about
 * 3 KB of JSON each, generated from a seed by {@link Tweets}).
 *
 * <p>The primary score is tweets per second. Each benchmark also reports a {@code bytes} counter:
 * canonical CBOR bytes processed per second ("ops/s" in JMH's table is bytes/s for that row), so
 * MB/s = bytes / 1e6. The setup prints the average JSON and CBOR sizes.
 *
 * <ul>
 *   <li>{@code encodeAndHash}: {@link CanonicalCbor#hash}, what the peer does for every value.
 *   <li>{@code encodeOnly}: {@link CanonicalCbor#encode}, including the copy of the result.
 *   <li>{@code hashOnly}: SHA-256 of the already encoded bytes.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CanonicalHashBench -f 1 -wi 3 -w 2s
 * -i 5 -r 2s}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CanonicalHashBench {

  /** The tweets, and their encodings for the hash-only benchmark. */
  @State(Scope.Benchmark)
  public static class Corpus {
    /** How many distinct tweets to cycle through (enough to defeat branch-history effects). */
    @Param("1024")
    public int count;

    /**
     * {@code api}: every tweet's objects have the key order of the Twitter API, so the encoder's
     * cache of map shapes hits; {@code shuffled}: each object's keys in a random order, so every
     * map is sorted afresh (the worst case for key ordering).
     */
    @Param({"api", "shuffled"})
    public String keyOrder;

    JsonNode[] tweets;
    byte[][] encoded;

    @Setup(Level.Trial)
    public void setUp() throws JsonProcessingException {
      Tweets generator = new Tweets(20240501L);
      Random shuffler = new Random(7);
      tweets = new JsonNode[count];
      encoded = new byte[count][];
      ObjectMapper json = new ObjectMapper();
      long jsonBytes = 0;
      long cborBytes = 0;
      for (int i = 0; i < count; i++) {
        tweets[i] = keyOrder.equals("shuffled") ? shuffled(generator.next(), shuffler)
            : generator.next();
        encoded[i] = CanonicalCbor.encode(tweets[i]);
        jsonBytes += json.writeValueAsBytes(tweets[i]).length;
        cborBytes += encoded[i].length;
      }
      System.out.printf("%n%d tweets: average %d bytes of JSON, %d bytes of canonical CBOR%n",
          count, jsonBytes / count, cborBytes / count);
    }

    private static JsonNode shuffled(JsonNode node, Random random) {
      if (node.isArray()) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        node.forEach(item -> out.add(shuffled(item, random)));
        return out;
      }
      if (!node.isObject()) {
        return node;
      }
      List<String> keys = new ArrayList<>();
      node.fieldNames().forEachRemaining(keys::add);
      Collections.shuffle(keys, random);
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      for (String key : keys) {
        out.set(key, shuffled(node.get(key), random));
      }
      return out;
    }
  }

  /** Which tweet comes next, per thread. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    int advance(int count) {
      int i = next;
      next = i + 1 == count ? 0 : i + 1;
      return i;
    }
  }

  /** Canonical CBOR bytes processed, reported by JMH as a rate (bytes/s). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    public long bytes;

    @Setup(Level.Iteration)
    public void clean() {
      bytes = 0;
    }
  }

  @Benchmark
  public Hash encodeAndHash(Corpus corpus, Cursor cursor, Bytes counter) {
    int i = cursor.advance(corpus.count);
    counter.bytes += corpus.encoded[i].length;
    return CanonicalCbor.hash(corpus.tweets[i]);
  }

  @Benchmark
  public byte[] encodeOnly(Corpus corpus, Cursor cursor, Bytes counter) {
    int i = cursor.advance(corpus.count);
    counter.bytes += corpus.encoded[i].length;
    return CanonicalCbor.encode(corpus.tweets[i]);
  }

  @Benchmark
  public Hash hashOnly(Corpus corpus, Cursor cursor, Bytes counter) {
    int i = cursor.advance(corpus.count);
    counter.bytes += corpus.encoded[i].length;
    return Hash.sha256(corpus.encoded[i]);
  }
}
