package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.KeyFiles;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.value.Hash;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransactCommandTest {
  static final String CRDT = "alice/12d49511-e733-4007-937b-460c3794fae9";

  @TempDir Path dir;

  Cli.Result transact(String stdin, String... extra) {
    String[] args = new String[4 + extra.length];
    args[0] = "transact";
    args[1] = "--store";
    args[2] = dir.toString();
    args[3] = "--crdt=" + CRDT;
    System.arraycopy(extra, 0, args, 4, extra.length);
    return Cli.run(stdin, args);
  }

  @Test
  void transact_withCreate_commitsEachLineAsOneTransactionOfOneCommit() {
    Cli.Result r = transact("{\"text\":\"hello\"}\n\n{\"text\":\"world\"}\n", "--create");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Hash id = Hash.parse(r.out().strip());
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = cs.load(Address.parse(CRDT));
      assertThat(c.heads()).containsExactly(id);
      Commit commit = cs.commit(id);
      assertThat(commit.author()).isEqualTo("alice");
      assertThat(commit.signer()) // the store's own key, made on first use
          .isEqualTo(KeyFiles.read(dir.resolve(KeyFiles.STORE_KEY)).verifyingKey());
      List<Transaction> txs = cs.transactions(commit);
      assertThat(txs).extracting(Transaction::fn).containsExactly("add-tweet", "add-tweet");
      assertThat(txs.get(1).params().get("text").asText()).isEqualTo("world");
    }
    Cli.Result again = transact("1\n", "--fn", "count", "--author", "bob");
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(Cli.run("", "log", "--store", dir.toString(), "--crdt", CRDT).out().lines())
        .hasSize(3)
        .first().asString().contains(" bob "
            + KeyFiles.read(dir.resolve(KeyFiles.STORE_KEY)).verifyingKey() + " 1 tx parents "
            + id.shortHex());
  }

  @Test
  void transact_toASelfCertifyingAddress_signsWithItsKey_andRefusesAnother() throws Exception {
    Path mine = dir.resolveSibling(dir.getFileName() + "-mine.key");
    Cli.Result made = Cli.run("", "keygen", "--out", mine.toString());
    assertThat(made.exitCode()).as(made.err()).isZero();
    String crdt = made.out().strip() + "/12d49511-e733-4007-937b-460c3794fae9";
    Cli.Result in = Cli.run("{\"text\":\"mine\"}\n", "transact", "--store", dir.toString(),
        "--create", "--crdt", crdt, "--key", mine.toString());
    assertThat(in.exitCode()).as(in.err()).isZero();
    assertThat(in.err()).contains("signed by " + made.out().strip());
    Cli.Result refused = Cli.run("{\"text\":\"not mine\"}\n", "transact", "--store",
        dir.toString(), "--crdt", crdt);
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err()).contains("forbidden").contains("self-certifying");
  }

  @Test
  void transact_badLine_commitsNothingAndNamesTheLine() {
    assertThat(transact("{\"a\":1}\n", "--create").exitCode()).isZero();
    Cli.Result r = transact("{\"a\":2}\n{oops\n{\"a\":3}\n");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("line 2").contains("nothing committed");
    assertThat(Cli.run("", "log", "--store", dir.toString()).out())
        .contains(" 2 commits 1 transactions ");
  }

  @Test
  void transact_withoutCreate_onUnknownCdvcs_failsAndSaysHow() {
    Cli.Result other = Cli.run("{\"a\":1}\n", "transact", "--store", dir.toString(), "--create",
        "--crdt", "bob/00000000-0000-4000-8000-000000000001");
    assertThat(other.exitCode()).as(other.err()).isZero();
    Cli.Result r = transact("{\"a\":1}\n");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(CRDT).contains("--create");
  }

  @Test
  void transact_emptyInput_commitsNothing() {
    Cli.Result r = transact("\n", "--create");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("no values");
  }
}
