package io.replikon.trust;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * An Ed25519 private key: it signs the commits a peer makes and its proofs in handshakes. Kept in
 * a file as PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}), the form {@code openssl genpkey
 * -algorithm ed25519} writes and {@code replikon keygen} writes.
 *
 * <p>Immutable and thread-safe. Signing is deterministic (RFC 8032): the same message gives the
 * same signature. {@link #toString()} names the public key only.
 */
public final class SigningKey {
  private static final String PEM_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String PEM_END = "-----END PRIVATE KEY-----";
  /** The DER of an Ed25519 PKCS#8 PrivateKeyInfo (RFC 8410) before its 32-byte seed. */
  private static final byte[] PKCS8_HEADER = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03,
      0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

  private final PrivateKey privateKey;
  private final VerifyingKey verifyingKey;

  private SigningKey(PrivateKey privateKey, VerifyingKey verifyingKey) {
    this.privateKey = privateKey;
    this.verifyingKey = verifyingKey;
  }

  /** Returns a new key from the system's strong random source. */
  public static SigningKey generate() {
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    return fromSeed(seed);
  }

  /**
   * Returns the key of a 32-byte seed (RFC 8032's private key). For tests and fixtures that need
   * the same key every run; a real key comes from {@link #generate()}.
   */
  public static SigningKey fromSeed(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("an Ed25519 seed has 32 bytes, got " + seed.length);
    }
    try {
      // The JDK derives the public key only when it generates a pair: hand it the seed as its
      // randomness (its generator reads exactly 32 bytes).
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
      KeyPair pair = generator.generateKeyPair();
      return new SigningKey(pair.getPrivate(), VerifyingKey.of(pair.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make Ed25519 keys", e);
    }
  }

  /**
   * Reads a key from PKCS#8 PEM text.
   *
   * @param source what to call the text in an error (a file name)
   * @throws ReplikonException {@code INVALID_INPUT}, naming the source, if the text is not one
   *     Ed25519 private key in PKCS#8 PEM
   */
  public static SigningKey fromPem(String pem, String source) {
    int begin = pem.indexOf(PEM_BEGIN);
    int end = pem.indexOf(PEM_END);
    if (begin < 0 || end < begin) {
      throw invalid(source, "no '" + PEM_BEGIN + "' block (a key from `replikon keygen` or "
          + "`openssl genpkey -algorithm ed25519`)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + PEM_BEGIN.length(), end));
    } catch (IllegalArgumentException e) {
      throw invalid(source, "its PEM block is not base64: " + e.getMessage());
    }
    try {
      PrivateKey key = KeyFactory.getInstance("Ed25519")
          .generatePrivate(new PKCS8EncodedKeySpec(der));
      byte[] seed = ((EdECPrivateKey) key).getBytes()
          .orElseThrow(() -> invalid(source, "the key holds no seed"));
      return fromSeed(seed);
    } catch (GeneralSecurityException | ClassCastException e) {
      throw invalid(source, "not an Ed25519 private key in PKCS#8 (" + e.getMessage() + ")");
    }
  }

  /** Returns this key as PKCS#8 PEM text, ending with a newline. */
  public String toPem() {
    byte[] der = Arrays.copyOf(PKCS8_HEADER, PKCS8_HEADER.length + 32);
    byte[] seed = ((EdECPrivateKey) privateKey).getBytes().orElseThrow();
    System.arraycopy(seed, 0, der, PKCS8_HEADER.length, 32);
    Arrays.fill(seed, (byte) 0);
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der);
    return PEM_BEGIN + "\n" + body + "\n" + PEM_END + "\n";
  }

  /** Returns the public key of this key. */
  public VerifyingKey verifyingKey() {
    return verifyingKey;
  }

  /** Signs {@code message}. Thread-safe. */
  public Signature sign(byte[] message) {
    try {
      java.security.Signature s = Ed25519.signer();
      s.initSign(privateKey);
      s.update(message);
      return Signature.of(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with Ed25519 failed", e);
    }
  }

  /** Signs a commit id: the signature that travels and is stored with the commit. */
  public Signature signCommit(Hash id) {
    return sign(SignedText.commit(id));
  }

  /**
   * Proves this key on a connection: signs the challenge the other peer sent together with both
   * peer ids.
   *
   * @param challenger the peer id of the side that sent the challenge
   * @param prover this side's peer id
   */
  public Signature prove(Challenge challenge, String challenger, String prover) {
    return sign(SignedText.proof(challenge, challenger, prover));
  }

  /** Names the public key: the private key never appears in a string. */
  @Override
  public String toString() {
    return "SigningKey[" + verifyingKey + "]";
  }

  private static ReplikonException invalid(String source, String why) {
    return new ReplikonException(Reason.INVALID_INPUT, source + ": " + why);
  }

  /** A "random" source that hands out a fixed seed, once. */
  private static final class SeedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;

    SeedRandom(byte[] seed) {
      this.seed = seed.clone();
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (bytes.length != seed.length) {
        throw new IllegalStateException("the Ed25519 generator asked for " + bytes.length
            + " bytes, not a 32-byte seed");
      }
      System.arraycopy(seed, 0, bytes, 0, bytes.length);
    }
  }
}
