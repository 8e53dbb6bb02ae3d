package io.replikon.trust;

import io.replikon.value.Hash;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/*
 * Design note: what is signed.
 *
 * A key signs two kinds of text, and each starts with its own context string, so that no
 * signature of one kind is ever a valid signature of the other: a peer that sends a challenge
 * equal to some commit id gets a proof it cannot pass off as that commit's signature.
 *
 *   commit:  "replikon commit v2" 0x00 || commit id (32 bytes)
 *   proof:   "replikon proof v2" 0x00 || challenge (32 bytes)
 *            || len(challenger id) (1 byte) || challenger id (UTF-8)
 *            || len(prover id) (1 byte) || prover id (UTF-8)
 *
 * Peer ids are at most 255 UTF-8 bytes (the protocol's limit), so one length byte each frames
 * them without ambiguity.
 */

/** The texts a key signs: a commit id, a handshake proof. */
final class SignedText {
  private static final byte[] COMMIT = "replikon commit v2\0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROOF = "replikon proof v2\0".getBytes(StandardCharsets.US_ASCII);

  private SignedText() {}

  static byte[] commit(Hash id) {
    byte[] text = new byte[COMMIT.length + Hash.BYTES];
    System.arraycopy(COMMIT, 0, text, 0, COMMIT.length);
    System.arraycopy(id.toBytes(), 0, text, COMMIT.length, Hash.BYTES);
    return text;
  }

  static byte[] proof(Challenge challenge, String challenger, String prover) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.writeBytes(PROOF);
    out.writeBytes(challenge.unsafeBytes());
    framed(out, challenger);
    framed(out, prover);
    return out.toByteArray();
  }

  private static void framed(ByteArrayOutputStream out, String id) {
    byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > 255) {
      throw new IllegalArgumentException("a peer id has at most 255 UTF-8 bytes, got "
          + bytes.length);
    }
    out.write(bytes.length);
    out.writeBytes(bytes);
  }
}
