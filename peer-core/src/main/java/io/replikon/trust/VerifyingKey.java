package io.replikon.trust;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.Hash;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * An Ed25519 public key: who signed a commit, who proved itself in a handshake. Named everywhere
 * (trust files, logs, the status page, {@code replikon log}, the user part of a self-certifying
 * address) as {@code ed25519:} followed by the base64url of its 32 bytes, without padding.
 *
 * <p>Immutable and thread-safe; equal when the bytes are. Verifying uses the JDK's own
 * {@code Ed25519} (RFC 8032), which refuses non-canonical encodings and small-order points.
 */
public final class VerifyingKey implements Comparable<VerifyingKey> {
  /** The number of bytes in a key. */
  public static final int BYTES = 32;
  /** What every key's name starts with. */
  public static final String PREFIX = "ed25519:";

  /** The DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes. */
  private static final byte[] X509_HEADER = {
      0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  private static final int NAME_LENGTH = PREFIX.length() + 43;

  private final byte[] bytes;
  private final PublicKey publicKey;

  private VerifyingKey(byte[] bytes, PublicKey publicKey) {
    this.bytes = bytes;
    this.publicKey = publicKey;
  }

  /**
   * Returns the key whose 32 bytes are given.
   *
   * @throws ReplikonException {@code INVALID_INPUT} if they are not 32 bytes or not a key the JDK
   *     takes
   */
  public static VerifyingKey of(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new ReplikonException(Reason.INVALID_INPUT,
          "an Ed25519 public key has 32 bytes, got " + bytes.length);
    }
    byte[] der = Arrays.copyOf(X509_HEADER, X509_HEADER.length + BYTES);
    System.arraycopy(bytes, 0, der, X509_HEADER.length, BYTES);
    try {
      PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
      return new VerifyingKey(bytes.clone(), key);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "not an Ed25519 public key: " + e);
    }
  }

  static VerifyingKey of(PublicKey key) {
    byte[] der = key.getEncoded();
    return new VerifyingKey(Arrays.copyOfRange(der, der.length - BYTES, der.length), key);
  }

  /**
   * Parses a key's name, {@code ed25519:<base64url, no padding>}.
   *
   * @throws ReplikonException {@code INVALID_INPUT}, showing the expected form, if it is not one
   */
  public static VerifyingKey parse(String name) {
    if (!name.startsWith(PREFIX) || name.length() != NAME_LENGTH) {
      throw new ReplikonException(Reason.INVALID_INPUT, "not a public key: '" + cut(name)
          + "' (expected ed25519: and 43 base64url characters, as `replikon keygen` prints)");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(name.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "not a public key: '" + cut(name)
          + "' (" + e.getMessage() + ")");
    }
    VerifyingKey key = of(bytes);
    if (!key.toString().equals(name)) { // the last character may carry unused bits
      throw new ReplikonException(Reason.INVALID_INPUT, "not a public key in canonical form: '"
          + cut(name) + "'");
    }
    return key;
  }

  /**
   * Returns the key a user name stands for, if it is one ({@code ed25519:...}): the user of a
   * self-certifying address, which only that key may write. A user name that starts with
   * {@code ed25519:} but is no key stands for none, and {@link #ownsUser} is false for every key.
   */
  public static Optional<VerifyingKey> ofUser(String user) {
    if (!user.startsWith(PREFIX)) {
      return Optional.empty();
    }
    try {
      return Optional.of(parse(user));
    } catch (ReplikonException e) {
      return Optional.empty();
    }
  }

  /** Returns true if the user name looks like a key ({@code ed25519:...}), valid or not. */
  public static boolean isKeyUser(String user) {
    return user.startsWith(PREFIX);
  }

  /** Returns a copy of the 32 bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /**
   * Returns true if {@code signature} is this key's signature of {@code message}. Thread-safe; a
   * malformed signature is false, not an exception.
   */
  public boolean verifies(byte[] message, Signature signature) {
    try {
      java.security.Signature v = Ed25519.verifier();
      v.initVerify(publicKey);
      v.update(message);
      return v.verify(signature.unsafeBytes());
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Returns true if {@code signature} is this key's signature of the commit {@code id}. A good
   * signature is remembered for a while (a bounded, process-wide set), so checking the same one
   * again, on any thread, costs a lookup rather than an Ed25519 verification (about 0.5 ms).
   */
  public boolean verifiesCommit(Hash id, Signature signature) {
    if (VerifiedSignatures.contains(this, id, signature)) {
      return true;
    }
    boolean good = verifies(SignedText.commit(id), signature);
    if (good) {
      VerifiedSignatures.add(this, id, signature);
    }
    return good;
  }

  /**
   * Returns true if {@code signature} proves this key on the connection where {@code challenger}
   * sent {@code challenge} to {@code prover}.
   */
  public boolean verifiesProof(Challenge challenge, String challenger, String prover,
      Signature signature) {
    return verifies(SignedText.proof(challenge, challenger, prover), signature);
  }

  /** Returns true if this key may write the addresses of {@code user}, a key's name. */
  public boolean ownsUser(String user) {
    return ofUser(user).map(this::equals).orElse(false);
  }

  @Override
  public int compareTo(VerifyingKey o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerifyingKey k && Arrays.equals(bytes, k.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Returns the key's name: {@code ed25519:} and the base64url of its bytes, no padding. */
  @Override
  public String toString() {
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String cut(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
