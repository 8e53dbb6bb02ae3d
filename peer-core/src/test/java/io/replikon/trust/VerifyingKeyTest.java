package io.replikon.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** A public key's name, {@code ed25519:<base64url>}, and the users it stands for. */
class VerifyingKeyTest {
  /** RFC 8032 §7.1, test 1: the public key. */
  private static final byte[] RFC8032_PUBLIC = HexFormat.of().parseHex(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  private static final String NAME = "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

  private static void assertNotAKey(String name, String mentions) {
    assertThatThrownBy(() -> VerifyingKey.parse(name)).as(name)
        .isInstanceOf(ReplikonException.class).hasMessageContaining(mentions)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.INVALID_INPUT);
  }

  @Test
  void toString_isTheBase64urlName_andParseGivesTheKeyBack() {
    VerifyingKey key = VerifyingKey.of(RFC8032_PUBLIC);
    assertThat(key.toString()).isEqualTo(NAME);
    assertThat(VerifyingKey.parse(NAME)).isEqualTo(key);
    for (int i = 0; i < 20; i++) {
      VerifyingKey k = SigningKey.generate().verifyingKey();
      assertThat(k.toString()).startsWith("ed25519:").hasSize(8 + 43).doesNotContain("=");
      assertThat(VerifyingKey.parse(k.toString())).isEqualTo(k);
    }
  }

  @Test
  void parse_ofAnotherPrefix_isRefused_showingTheExpectedForm() {
    String body = NAME.substring("ed25519:".length());
    for (String name : new String[] {"ed448:" + body, "ED25519:" + body, body, "ed25519 " + body,
        "ssh-ed25519:" + body}) {
      assertNotAKey(name, "expected ed25519:");
    }
  }

  @Test
  void parse_ofAnotherLength_isRefused() {
    assertNotAKey(NAME.substring(0, NAME.length() - 1), "43 base64url");
    assertNotAKey(NAME + "A", "43 base64url");
    assertNotAKey(NAME + "=", "43 base64url");
    assertNotAKey("ed25519:", "43 base64url");
    assertNotAKey("ed25519:" + "A".repeat(500), "43 base64url");
  }

  @Test
  void parse_ofStandardBase64Characters_isRefused() {
    String plus = NAME.replace('_', '/');
    assertThat(plus).isNotEqualTo(NAME);
    assertNotAKey(plus, "not a public key");
  }

  @Test
  void parse_withUnusedBitsSetInTheLastCharacter_isRefusedAsNotCanonical() {
    // 43 characters carry 258 bits: the last one's two low bits are unused ('o' = 40 -> 'p' = 41)
    assertThat(NAME).endsWith("o");
    String loose = NAME.substring(0, NAME.length() - 1) + "p";
    assertNotAKey(loose, "canonical");
    assertThat(VerifyingKey.ofUser(loose)).isEmpty();
  }

  @Test
  void of_anotherNumberOfBytes_isRefused() {
    for (int n : new int[] {0, 31, 33, 64}) {
      assertThatThrownBy(() -> VerifyingKey.of(new byte[n])).isInstanceOf(ReplikonException.class)
          .hasMessageContaining("32 bytes");
    }
  }

  @Test
  void ownsUser_onlyForItsOwnName() {
    VerifyingKey key = VerifyingKey.of(RFC8032_PUBLIC);
    VerifyingKey other = SigningKey.generate().verifyingKey();
    assertThat(key.ownsUser(NAME)).isTrue();
    assertThat(other.ownsUser(NAME)).isFalse();
    assertThat(key.ownsUser("alice")).isFalse();
    assertThat(key.ownsUser("ed25519:garbage")).isFalse();
    assertThat(VerifyingKey.isKeyUser("ed25519:garbage")).isTrue();
    assertThat(VerifyingKey.isKeyUser("alice")).isFalse();
    assertThat(VerifyingKey.ofUser(NAME)).contains(key);
    assertThat(VerifyingKey.ofUser("alice")).isEmpty();
  }
}
