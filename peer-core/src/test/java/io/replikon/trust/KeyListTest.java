package io.replikon.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.testkit.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trust files: {@code USER ed25519:KEY} a line, comments, {@code *} in reader lists. */
class KeyListTest {
  static final VerifyingKey ALICE = TestKeys.ALICE.key().verifyingKey();
  static final VerifyingKey ALICE_LAPTOP = TestKeys.key("alice laptop").verifyingKey();
  static final VerifyingKey BOB = TestKeys.BOB.key().verifyingKey();
  static final VerifyingKey MALLORY = TestKeys.key("mallory").verifyingKey();

  private static void assertRefused(String text, boolean allowAnyKey, String mentions) {
    assertThatThrownBy(() -> KeyList.parse(text, "writers.txt", allowAnyKey)).as(text)
        .isInstanceOf(ReplikonException.class).hasMessageContaining(mentions)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.INVALID_INPUT);
  }

  @Test
  void parse_commentsBlankLinesAndSeveralKeysPerUser() {
    String text = "# who may write\n"
        + "\n"
        + "alice   " + ALICE + "\n"
        + "  alice\t" + ALICE_LAPTOP + "   # her laptop\n"
        + "bob " + BOB + "\r\n"
        + "   # indented comment\n"
        + "alice " + ALICE; // no newline at the end
    KeyList list = KeyList.parse(text, "writers.txt", false);
    assertThat(list.keysOf("alice")).containsExactly(ALICE, ALICE_LAPTOP);
    assertThat(list.keysOf("bob")).containsExactly(BOB);
    assertThat(list.keysOf("carol")).isEmpty();
    assertThat(list.users()).containsExactly("alice", "bob");
    assertThat(list.size()).isEqualTo(3);
    assertThat(list.allows("alice", ALICE_LAPTOP)).isTrue();
    assertThat(list.allows("bob", ALICE)).isFalse();
    assertThat(list.allows("alice", MALLORY)).isFalse();
    assertThat(list.contains(BOB)).isTrue();
    assertThat(list.contains(MALLORY)).isFalse();
    assertThat(list.userOf(ALICE_LAPTOP)).contains("alice");
    assertThat(list.allowsAnyKey()).isFalse();
  }

  @Test
  void parse_emptyOrOnlyComments_isAnEmptyList() {
    for (String text : new String[] {"", "\n\n", "# nobody\n   \n"}) {
      KeyList list = KeyList.parse(text, "writers.txt", false);
      assertThat(list.size()).isZero();
      assertThat(list.contains(ALICE)).isFalse();
    }
  }

  @Test
  void parse_star_inAReadersList_letsAnyKeyIn() {
    KeyList list = KeyList.parse("# anyone who proves a key\n*\n", "readers.txt", true);
    assertThat(list.allowsAnyKey()).isTrue();
    assertThat(list.contains(MALLORY)).isTrue();
    assertThat(list.allows("alice", MALLORY)).as("* is no writer of anything").isFalse();
    assertThat(KeyList.anyKey().contains(MALLORY)).isTrue();
  }

  @Test
  void parse_star_inAWritersList_isRefusedNamingFileAndLine() {
    assertRefused("alice " + ALICE + "\n*\n", false, "writers.txt:2: ");
    assertRefused("alice " + ALICE + "\n*\n", false, "readers file");
  }

  @Test
  void parse_badLines_areRefusedNamingFileAndLine() {
    String good = "# header\nalice " + ALICE + "\n";
    assertRefused(good + "alice\n", false, "writers.txt:3: ");
    assertRefused(good + "alice\n", false, "expected USER ed25519:KEY, got 1 fields");
    assertRefused(good + "alice " + ALICE + " extra\n", false, "writers.txt:3: ");
    assertRefused(good + "alice ed25519:garbage\n", false, "writers.txt:3: not a public key");
    assertRefused(good + good + "bob " + BOB.toString().substring(8) + "\n", false,
        "writers.txt:5: ");
    assertRefused(good + "alice " + ALICE + "\n* extra\n", true, "writers.txt:4: ");
    assertRefused(good + "alice\n", true, "or *");
  }

  @Test
  void read_aFile_namesItInErrors(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("writers");
    Files.writeString(file, "alice " + ALICE + "\nbob\n");
    assertThatThrownBy(() -> KeyList.read(file, false)).isInstanceOf(ReplikonException.class)
        .hasMessageContaining(file + ":2: ");
    Files.writeString(file, "alice " + ALICE + "\n");
    assertThat(KeyList.read(file, false).allows("alice", ALICE)).isTrue();
    assertThatThrownBy(() -> KeyList.read(dir.resolve("missing"), false))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("missing");
  }
}
