package io.replikon.bench;

import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Transaction;
import io.replikon.protocol.MessageCodec;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What checking an arriving chunk costs on the transport's I/O thread (issue 11: a value is
 * refused unless canonical): a full chunk of tweets (about 1 MiB), each benchmark one chunk.
 *
 * <ul>
 *   <li>{@code hashOnly}: SHA-256, what the I/O thread did before.
 *   <li>{@code canonicalCheck}: {@link Chunk#checkEncoding}, the one-pass check added.
 *   <li>{@code verifyValue}: {@link MessageCodec#verifyValue}, both, as the I/O thread now runs.
 *   <li>{@code decodeAndReencode}: the alternative not taken, decode to a tree, encode, compare.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ValueCheckBench -f 1 -wi 3 -w 2s
 * -i 5 -r 2s}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ValueCheckBench {
  byte[] chunk;
  Hash id;

  /** Fills one chunk with tweets. */
  @Setup
  public void setUp() {
    Tweets tweets = new Tweets(42);
    List<Transaction> txs = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      txs.add(new Transaction("add-tweet", tweets.next()));
    }
    chunk = Chunk.split(txs).get(0).bytes();
    id = Hash.sha256(chunk);
    System.out.println("chunk of " + chunk.length + " bytes");
  }

  @Benchmark
  public Hash hashOnly() {
    return Hash.sha256(chunk);
  }

  @Benchmark
  public byte[] canonicalCheck() {
    Chunk.checkEncoding(chunk);
    return chunk;
  }

  @Benchmark
  public byte[] verifyValue() {
    MessageCodec.verifyValue(id, chunk);
    return chunk;
  }

  @Benchmark
  public boolean decodeAndReencode() {
    return Arrays.equals(CanonicalCbor.encode(CanonicalCbor.decode(chunk)), chunk);
  }
}
