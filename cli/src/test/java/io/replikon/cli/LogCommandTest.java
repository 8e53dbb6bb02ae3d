package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.storage.Column;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogCommandTest {
  private static final Author ALICE = new Author("alice", SigningKey.fromSeed(new byte[32]));
  private static final Author BOB = new Author("bob", SigningKey.fromSeed(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}));
  static final Address TWEETS =
      new Address("alice", UUID.fromString("12d49511-e733-4007-937b-460c3794fae9"));
  static final Address NOTES =
      new Address("bob", UUID.fromString("00000000-0000-4000-8000-000000000002"));

  @TempDir Path dir;

  static Transaction tweet(String text) {
    return new Transaction("add-tweet", JsonNodeFactory.instance.objectNode().put("text", text));
  }

  /** Two CDVCSs: TWEETS with a root and two commits (3 transactions), NOTES with a root. */
  List<Update> populate() {
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs tweets = Cdvcs.empty(TWEETS);
      Update root = Cdvcs.create(TWEETS, ALICE, 1_700_000_000_000L);
      cs.write(tweets, root);
      Update first = tweets.transact(List.of(tweet("a"), tweet("b")), ALICE, 1_700_000_001_000L);
      cs.write(tweets, first);
      Update second = tweets.transact(List.of(tweet("c")), ALICE, 1_700_000_002_000L);
      cs.write(tweets, second);
      cs.write(Cdvcs.empty(NOTES), Cdvcs.create(NOTES, BOB, 1_700_000_000_000L));
      return List.of(root, first, second);
    }
  }

  @Test
  void log_withoutCrdt_listsEveryCdvcsWithCounts() {
    List<Update> updates = populate();
    Cli.Result r = Cli.run("", "log", "--store", dir.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out().lines()).containsExactlyInAnyOrder(
        TWEETS + " 3 commits 3 transactions heads " + updates.get(2).lastCommit().shortHex(),
        NOTES + " 1 commits 0 transactions heads "
            + Cdvcs.create(NOTES, BOB, 1_700_000_000_000L).lastCommit().shortHex());
  }

  @Test
  void log_withCrdt_listsCommitsNewestFirst() {
    List<Update> u = populate();
    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--crdt", TWEETS.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    String signer = " " + ALICE.key().verifyingKey() + " ";
    assertThat(r.out().lines()).containsExactly(
        u.get(2).lastCommit().shortHex() + " 2023-11-14T22:13:22Z alice" + signer
            + "1 tx parents " + u.get(1).lastCommit().shortHex(),
        u.get(1).lastCommit().shortHex() + " 2023-11-14T22:13:21Z alice" + signer
            + "2 tx parents " + u.get(0).lastCommit().shortHex(),
        u.get(0).lastCommit().shortHex() + " 2023-11-14T22:13:20Z alice" + signer + "0 tx");
    Cli.Result limited =
        Cli.run("", "log", "--store", dir.toString(), "--crdt", TWEETS.toString(), "-n", "1");
    assertThat(limited.out().lines()).hasSize(1);
  }

  @Test
  void log_missingStore_failsClearly() {
    Path missing = dir.resolve("nothing-here");
    Cli.Result r = Cli.run("", "log", "--store", missing.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("replikon: ").contains(missing.toString());
    assertThat(Files.exists(missing)).as("a read-only command creates nothing").isFalse();
  }

  @Test
  void log_foreignDirectory_failsClearly_andLeavesItAlone() throws Exception {
    Files.writeString(dir.resolve("notes.txt"), "mine");
    Cli.Result r = Cli.run("", "log", "--store", dir.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("replikon: ").contains("not a replikon store");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("notes.txt");
    }
  }

  @Test
  void log_unknownAddress_failsNamingIt() {
    populate();
    String unknown = "carol/00000000-0000-4000-8000-000000000009";
    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--crdt", unknown);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(unknown);
  }

  @Test
  void log_badAddress_failsShowingTheForm() {
    populate();
    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--crdt", "alice");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("USER/UUID");
  }

  /** TWEETS with a root and one commit whose chunk is large (so it lives in a chunk file). */
  Update populateLarge() {
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs tweets = Cdvcs.empty(TWEETS);
      cs.write(tweets, Cdvcs.create(TWEETS, ALICE, 1_700_000_000_000L));
      Update big = tweets.transact(List.of(tweet("x".repeat(20_000))), ALICE,
          1_700_000_001_000L);
      cs.write(tweets, big);
      cs.write(Cdvcs.empty(NOTES), Cdvcs.create(NOTES, BOB, 1_700_000_000_000L));
      return big;
    }
  }

  Hash chunkOf(Hash commit) {
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      return new CdvcsStore(store).commit(commit).chunks().get(0);
    }
  }

  @Test
  void verify_soundStore_readsEveryValueBack_andExitsZero() {
    populate();
    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--verify");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out().lines()).containsExactly("verified 4 commits and 2 chunks of 2 CDVCSs in "
        + "rocksdb " + dir + " (durability batch): 0 damaged, 0 missing");
  }

  @Test
  void verify_damagedChunkFile_namesTheValueItsCommitTheFileAndOffset_andExits3()
      throws Exception {
    Update big = populateLarge();
    Hash chunk = chunkOf(big.lastCommit());
    Path segment = dir.resolve("chunks").resolve("00000001.chunks");
    try (FileChannel c = FileChannel.open(segment, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      c.read(b, 100);
      b.put(0, (byte) ~b.get(0)).rewind();
      c.write(b, 100);
    }

    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--verify");

    assertThat(r.exitCode()).as(r.err()).isEqualTo(LogCommand.DAMAGE_FOUND);
    assertThat(r.out().lines()).hasSize(2);
    assertThat(r.out().lines().findFirst().orElseThrow())
        .startsWith("damaged chunk " + chunk.hex() + " of commit " + big.lastCommit().hex() + " in "
            + TWEETS)
        .contains(segment.toString(), "at offset 0", "do not match their CRC");
    assertThat(r.out().lines().skip(1).findFirst().orElseThrow())
        .startsWith("verified 3 commits and 1 chunks of 2 CDVCSs").endsWith("1 damaged, 0 missing");
  }

  @Test
  void verify_missingAndForgedValues_areReported_onlyForTheCrdtAsked() {
    List<Update> u = populate();
    Hash missingChunk = chunkOf(u.get(1).lastCommit());
    Hash forgedChunk = chunkOf(u.get(2).lastCommit());
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.delete(Column.CHUNKS, missingChunk.toBytes());
      store.put(Column.CHUNKS, forgedChunk.toBytes(), new byte[] {1, 2, 3});
    }

    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--verify", "--crdt",
        TWEETS.toString());

    assertThat(r.exitCode()).as(r.err()).isEqualTo(LogCommand.DAMAGE_FOUND);
    assertThat(r.out().lines()).contains(
        "missing chunk " + missingChunk.hex() + " of commit " + u.get(1).lastCommit().hex()
            + " in " + TWEETS + ": not stored",
        "damaged chunk " + forgedChunk.hex() + " of commit " + u.get(2).lastCommit().hex()
            + " in " + TWEETS + ": its 3 stored bytes hash to "
            + Hash.sha256(new byte[] {1, 2, 3}).hex());
    assertThat(r.out().lines().filter(l -> l.startsWith("verified")))
        .containsExactly("verified 3 commits and 2 chunks of 1 CDVCSs in rocksdb " + dir
            + " (durability batch): 1 damaged, 1 missing");
  }

  @Test
  void verify_aStoredSignatureThatDoesNotVerify_orIsMissing_isReported() {
    List<Update> u = populate();
    Hash altered = u.get(1).lastCommit();
    Hash stripped = u.get(2).lastCommit();
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      byte[] signature = store.get(Column.SIGNATURES, altered.toBytes()).orElseThrow();
      signature[5] ^= 1;
      store.put(Column.SIGNATURES, altered.toBytes(), signature);
      store.delete(Column.SIGNATURES, stripped.toBytes());
    }

    Cli.Result r = Cli.run("", "log", "--store", dir.toString(), "--verify", "--crdt",
        TWEETS.toString());

    assertThat(r.exitCode()).as(r.err()).isEqualTo(LogCommand.DAMAGE_FOUND);
    assertThat(r.out().lines()).contains(
        "damaged signature of commit " + altered.hex() + " in " + TWEETS
            + ": it does not verify against its signer " + ALICE.key().verifyingKey(),
        "missing signature of commit " + stripped.hex() + " in " + TWEETS);
  }

  @Test
  void log_storeWhoseSyncedLogWasCutInHalf_refusesToOpen_namingTheStoreAndWhatToDo()
      throws Exception {
    try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.SYNC))) {
      CdvcsStore cs = new CdvcsStore(store);
      for (int i = 0; i < 5; i++) {
        Address a = new Address("user" + i, UUID.fromString("00000000-0000-4000-8000-00000000000"
            + i));
        cs.write(Cdvcs.empty(a), Cdvcs.create(a, new Author("user" + i, ALICE.key()),
            1_700_000_000_000L));
      }
    }
    Path wal;
    try (var files = Files.list(dir)) {
      wal = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted()
          .reduce((a, b) -> b).orElseThrow();
    }
    try (FileChannel c = FileChannel.open(wal, StandardOpenOption.WRITE)) {
      c.truncate(c.size() / 2);
    }

    Cli.Result r = Cli.run("", "log", "--store", dir.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("replikon: store " + dir + " is damaged")
        .contains("synced", "replica");
  }
}
