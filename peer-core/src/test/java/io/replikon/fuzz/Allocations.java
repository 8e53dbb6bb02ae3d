package io.replikon.fuzz;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;

/**
 * Measures what a piece of code allocates on the calling thread, for fuzz targets that assert
 * "never an allocation larger than the input justifies": a hostile length field must not make
 * the code allocate by what it declares.
 */
public final class Allocations {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  /** Allowed per input byte: a tree of values costs some tens of bytes per byte of CBOR. */
  public static final long PER_INPUT_BYTE = 256;
  /** Allowed whatever the input: thread-local buffers, caches, exception stack traces. */
  public static final long FIXED = 4L << 20;

  private Allocations() {}

  /**
   * Runs {@code work} and fails if it allocated more than the bound for {@code inputLength}
   * bytes of input; returns what it returned. An exception of {@code work} passes through. The
   * first run of a code path loads (and instruments) classes, which allocates on this thread: a
   * run over the bound is repeated once, and only the repeat counts. So {@code work} must be
   * repeatable (decoding is).
   */
  public static <T> T bounded(int inputLength, Supplier<T> work) {
    long bound = FIXED + PER_INPUT_BYTE * inputLength;
    long first = allocatedBy(work);
    if (first > bound) {
      long again = allocatedBy(work);
      if (again > bound) {
        throw new AssertionError("allocated " + again + " bytes for " + inputLength
            + " bytes of input (bound " + bound + ")");
      }
    }
    return work.get();
  }

  private static long allocatedBy(Supplier<?> work) {
    long thread = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(thread);
    try {
      work.get();
    } catch (RuntimeException e) {
      // the caller sees it from its own run
    }
    return THREADS.getThreadAllocatedBytes(thread) - before;
  }
}
