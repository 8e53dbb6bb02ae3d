package io.replikon.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.Hash;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys, their files and what they sign: RFC 8032 and RFC 8410 test vectors. */
class SigningKeyTest {
  private static final HexFormat HEX = HexFormat.of();
  /** RFC 8032 §7.1, test 1: the secret key, its public key and the signature of nothing. */
  private static final String RFC8032_SECRET =
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  private static final String RFC8032_PUBLIC =
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  private static final String RFC8032_SIGNATURE =
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
  /** RFC 8410 §10.3: a private key; its public key is the one of §10.1. */
  private static final String RFC8410_PEM = """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
      -----END PRIVATE KEY-----
      """;
  private static final String RFC8410_PUBLIC =
      "ed25519:Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE";

  @Test
  void fromSeed_rfc8032Test1_givesItsPublicKeyAndItsSignatureOfTheEmptyMessage() {
    SigningKey key = SigningKey.fromSeed(HEX.parseHex(RFC8032_SECRET));
    assertThat(HEX.formatHex(key.verifyingKey().bytes())).isEqualTo(RFC8032_PUBLIC);
    Signature signature = key.sign(new byte[0]);
    assertThat(HEX.formatHex(signature.bytes())).isEqualTo(RFC8032_SIGNATURE);
    VerifyingKey published = VerifyingKey.of(HEX.parseHex(RFC8032_PUBLIC));
    assertThat(published.verifies(new byte[0], signature)).isTrue();
  }

  @Test
  void verifies_aSignatureWithAnyBitFlipped_orOfAnotherMessage_isFalse() {
    SigningKey key = SigningKey.fromSeed(HEX.parseHex(RFC8032_SECRET));
    byte[] good = HEX.parseHex(RFC8032_SIGNATURE);
    for (int bit : new int[] {0, 7, 255, 256, 300, 511}) {
      byte[] flipped = good.clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThat(key.verifyingKey().verifies(new byte[0], Signature.of(flipped)))
          .as("bit %d flipped", bit).isFalse();
    }
    assertThat(key.verifyingKey().verifies(new byte[] {0}, Signature.of(good))).isFalse();
    assertThat(key.verifyingKey().verifies(new byte[0], Signature.of(new byte[64]))).isFalse();
    VerifyingKey other = SigningKey.fromSeed(new byte[32]).verifyingKey();
    assertThat(other.verifies(new byte[0], Signature.of(good))).isFalse();
  }

  @Test
  void signCommit_verifiesForItsIdOnly() {
    SigningKey key = SigningKey.generate();
    Hash id = Hash.sha256(new byte[] {1});
    Signature signature = key.signCommit(id);
    assertThat(key.verifyingKey().verifiesCommit(id, signature)).isTrue();
    assertThat(key.verifyingKey().verifiesCommit(Hash.sha256(new byte[] {2}), signature))
        .isFalse();
    assertThat(SigningKey.generate().verifyingKey().verifiesCommit(id, signature)).isFalse();
    assertThat(key.verifyingKey().verifies(id.toBytes(), signature))
        .as("the raw id is not what a commit signature signs").isFalse();
  }

  @Test
  void prove_overAChallengeEqualToACommitId_isNoSignatureOfThatCommit() {
    SigningKey key = SigningKey.generate();
    Hash id = Hash.sha256("a commit".getBytes(StandardCharsets.UTF_8));
    Challenge challenge = Challenge.of(id.toBytes());
    Signature proof = key.prove(challenge, "", "");
    assertThat(key.verifyingKey().verifiesProof(challenge, "", "", proof)).isTrue();
    assertThat(key.verifyingKey().verifiesCommit(id, proof)).isFalse();
    for (String[] ids : new String[][] {{"a", ""}, {"", "a"}, {"ab", "c"}, {"a", "bc"}}) {
      assertThat(key.verifyingKey().verifiesProof(challenge, ids[0], ids[1], proof))
          .as("peer ids %s / %s", ids[0], ids[1]).isFalse();
    }
    Signature commit = key.signCommit(id);
    assertThat(key.verifyingKey().verifiesProof(challenge, "", "", commit)).isFalse();
  }

  @Test
  void prove_isBoundToTheChallengeAndBothPeerIds_inTheirOrder() {
    SigningKey key = SigningKey.generate();
    Challenge challenge = Challenge.of(new byte[32]);
    Signature proof = key.prove(challenge, "server", "client");
    VerifyingKey v = key.verifyingKey();
    assertThat(v.verifiesProof(challenge, "server", "client", proof)).isTrue();
    assertThat(v.verifiesProof(challenge, "client", "server", proof)).isFalse();
    assertThat(v.verifiesProof(challenge, "server", "client2", proof)).isFalse();
    byte[] other = new byte[32];
    other[31] = 1;
    assertThat(v.verifiesProof(Challenge.of(other), "server", "client", proof)).isFalse();
  }

  @Test
  void toPem_fromPem_roundTrips_andSignsTheSame() {
    SigningKey key = SigningKey.generate();
    String pem = key.toPem();
    assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n")
        .endsWith("-----END PRIVATE KEY-----\n").doesNotContain("\r");
    SigningKey back = SigningKey.fromPem(pem, "key.pem");
    assertThat(back.verifyingKey()).isEqualTo(key.verifyingKey());
    byte[] message = {1, 2, 3};
    assertThat(back.sign(message)).isEqualTo(key.sign(message));
    assertThat(back.toPem()).isEqualTo(pem);
    assertThat(key.toString()).contains(key.verifyingKey().toString())
        .doesNotContain(pem.lines().skip(1).findFirst().orElseThrow());
  }

  @Test
  void fromPem_rfc8410Example_givesItsPublicKey_andWritesBackTheSamePem() {
    SigningKey key = SigningKey.fromPem(RFC8410_PEM, "rfc8410.pem");
    assertThat(key.verifyingKey().toString()).isEqualTo(RFC8410_PUBLIC);
    assertThat(key.toPem()).isEqualTo(RFC8410_PEM);
  }

  @Test
  void fromPem_ofAKeyMadeByOpenssl_givesTheKeyOpensslDerives(@TempDir Path dir)
      throws IOException, InterruptedException {
    Path pem = dir.resolve("key.pem");
    assumeThat(run("openssl", "genpkey", "-algorithm", "ed25519", "-out", pem.toString()))
        .as("openssl genpkey ed25519").isTrue();
    Path der = dir.resolve("pub.der");
    assertThat(run("openssl", "pkey", "-in", pem.toString(), "-pubout", "-outform", "DER",
        "-out", der.toString())).isTrue();
    byte[] spki = Files.readAllBytes(der);
    byte[] raw = java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    SigningKey key = SigningKey.fromPem(Files.readString(pem), pem.toString());
    assertThat(key.verifyingKey().bytes()).isEqualTo(raw);
  }

  @Test
  void fromPem_ofSomethingElse_isInvalidInput_namingTheSource() {
    String notBase64 = "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n";
    // a P-256 key in PKCS#8: a private key, but not an Ed25519 one
    String ecKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgo5Rp/L4X0pqGwUiR
        NkObGw8ncZMIE33NM4hiob2YARahRANCAAQkMsL9t3yX6xYg6MPcPnbfqhzuG73M
        hGis2+Ft7lfGfzu3374xVb5l78Jcd/V9XbNqBKPWXN6FFb8Eahq4j9Nr
        -----END PRIVATE KEY-----
        """;
    for (String text : new String[] {"", "ed25519:abc", notBase64, ecKey,
        RFC8410_PEM.replace("PRIVATE", "PUBLIC")}) {
      assertThatThrownBy(() -> SigningKey.fromPem(text, "my.key"))
          .as(text).isInstanceOf(ReplikonException.class).hasMessageStartingWith("my.key: ")
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.INVALID_INPUT);
    }
  }

  @Test
  void fromSeed_isDeterministic_andGenerateIsNot() {
    byte[] seed = HEX.parseHex(RFC8032_SECRET);
    assertThat(SigningKey.fromSeed(seed).verifyingKey())
        .isEqualTo(SigningKey.fromSeed(seed).verifyingKey());
    assertThat(SigningKey.generate().verifyingKey())
        .isNotEqualTo(SigningKey.generate().verifyingKey());
    assertThatThrownBy(() -> SigningKey.fromSeed(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return false; // not installed
    }
    return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
  }
}
