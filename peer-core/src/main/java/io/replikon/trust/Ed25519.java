package io.replikon.trust;

import java.security.NoSuchAlgorithmException;
import java.security.Signature;

/** The JDK's Ed25519 engines, one of each per thread (they are not thread-safe). */
final class Ed25519 {
  private static final ThreadLocal<Signature> VERIFIER = ThreadLocal.withInitial(Ed25519::engine);
  private static final ThreadLocal<Signature> SIGNER = ThreadLocal.withInitial(Ed25519::engine);

  private Ed25519() {}

  static Signature verifier() {
    return VERIFIER.get();
  }

  static Signature signer() {
    return SIGNER.get();
  }

  private static Signature engine() {
    try {
      return Signature.getInstance("Ed25519");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no Ed25519 (it came in Java 15)", e);
    }
  }
}
