package io.replikon.bench;

import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
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
 * What a signed commit costs (issue 12), per commit, with the JDK's Ed25519:
 *
 * <ul>
 *   <li>{@code signCommit}: {@link SigningKey#signCommit}, once for every commit a peer creates.
 *   <li>{@code verifyCommit}: {@link VerifyingKey#verifiesCommit}, for every commit a peer
 *       receives (whatever its trust settings).
 *   <li>{@code keyFromBytes}: {@link VerifyingKey#of(byte[])}, what decoding a commit value's
 *       signer costs (the JDK's key factory), once per commit decoded.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar SignatureBench -f 1 -wi 3 -w 2s -i 5
 * -r 2s}; or, on a shared machine, {@code java -cp benchmarks/target/benchmarks.jar
 * io.replikon.bench.SignatureBench [n]}, which also gives this thread's CPU time per operation
 * (what the operation costs whatever the neighbours do).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class SignatureBench {
  SigningKey key;
  VerifyingKey verifying;
  byte[] keyBytes;
  Hash id;
  Signature signature;

  /** A fixed key and commit id, and the id's signature. */
  @Setup
  public void setUp() {
    key = SigningKey.fromSeed(Hash.sha256("bench".getBytes(StandardCharsets.UTF_8)).toBytes());
    verifying = key.verifyingKey();
    keyBytes = verifying.bytes();
    id = Hash.sha256("a commit".getBytes(StandardCharsets.UTF_8));
    signature = key.signCommit(id);
    if (!verifying.verifiesCommit(id, signature)) {
      throw new IllegalStateException("the signature does not verify");
    }
  }

  @Benchmark
  public Signature signCommit() {
    return key.signCommit(id);
  }

  @Benchmark
  public boolean verifyCommit() {
    return verifying.verifiesCommit(id, signature);
  }

  @Benchmark
  public VerifyingKey keyFromBytes() {
    return VerifyingKey.of(keyBytes);
  }

  /** Times {@code n} (default 20,000) of each operation after as many to warm up. */
  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    SignatureBench b = new SignatureBench();
    b.setUp();
    for (int round = 0; round < 2; round++) {
      String label = round == 0 ? "warm-up " : "";
      time(label + "signCommit", n, b::signCommit);
      time(label + "verifyCommit", n, b::verifyCommit);
      time(label + "keyFromBytes", n, b::keyFromBytes);
    }
  }

  private static void time(String name, int n, java.util.function.Supplier<?> op) {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpu0 = mx.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    int sink = 0;
    for (int i = 0; i < n; i++) {
      sink += System.identityHashCode(op.get()) & 1;
    }
    double wall = (System.nanoTime() - t0) / 1e3 / n;
    double cpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e3 / n;
    System.out.printf(java.util.Locale.ROOT, "%-24s %8.1f us/op wall %8.1f us/op CPU (%d)%n",
        name, wall, cpu, sink);
  }
}
