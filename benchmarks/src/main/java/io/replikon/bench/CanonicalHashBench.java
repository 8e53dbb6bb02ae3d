package io.replikon.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
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

    JsonNode[] tweets;
    byte[][] encoded;

    @Setup(Level.Trial)
    public void setUp() throws JsonProcessingException {
      Tweets generator = new Tweets(20240501L);
      tweets = new JsonNode[count];
      encoded = new byte[count][];
      ObjectMapper json = new ObjectMapper();
      long jsonBytes = 0;
      long cborBytes = 0;
      for (int i = 0; i < count; i++) {
        tweets[i] = generator.next();
        encoded[i] = CanonicalCbor.encode(tweets[i]);
        jsonBytes += json.writeValueAsBytes(tweets[i]).length;
        cborBytes += encoded[i].length;
      }
      System.out.printf("%n%d tweets: average %d bytes of JSON, %d bytes of canonical CBOR%n",
          count, jsonBytes / count, cborBytes / count);
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
