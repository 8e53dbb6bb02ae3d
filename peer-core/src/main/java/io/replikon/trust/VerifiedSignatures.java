package io.replikon.trust;

import io.replikon.value.Hash;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The commit signatures verified lately in this process, so that a signature checked on one
 * thread (a transport's I/O thread, as a publish is decoded) is not checked again on another (the
 * engine's, before it stores). Only good signatures are kept, by key, commit id and signature
 * together, so a hit is exactly a verification that succeeded; a miss just verifies.
 *
 * <p>Bounded: past {@link #MAX_ENTRIES} it starts again empty (about 4 MiB at the most).
 * Thread-safe and lock-free.
 */
final class VerifiedSignatures {
  /** The most entries kept: eight windows of publishes of 2,000 commits. */
  static final int MAX_ENTRIES = 16_384;
  private static final Set<Entry> VERIFIED = ConcurrentHashMap.newKeySet();

  private VerifiedSignatures() {}

  private record Entry(VerifyingKey key, Hash id, Signature signature) {}

  static boolean contains(VerifyingKey key, Hash id, Signature signature) {
    return VERIFIED.contains(new Entry(key, id, signature));
  }

  static void add(VerifyingKey key, Hash id, Signature signature) {
    if (VERIFIED.size() >= MAX_ENTRIES) {
      VERIFIED.clear();
    }
    VERIFIED.add(new Entry(key, id, signature));
  }
}
