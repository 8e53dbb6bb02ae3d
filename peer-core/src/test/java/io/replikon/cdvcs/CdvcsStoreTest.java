package io.replikon.cdvcs;

import static io.replikon.cdvcs.CdvcsTest.ADDRESS;
import static io.replikon.cdvcs.CdvcsTest.OTHER;
import static io.replikon.cdvcs.CdvcsTest.tx;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.Column;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.testkit.TestKeys;
import io.replikon.value.Hash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CdvcsStoreTest {
  @TempDir Path dir;

  Store open() {
    return Stores.open(StoreConfig.at(dir).withDurability(Durability.SYNC));
  }

  static Cdvcs create(CdvcsStore cs, Address address) {
    Cdvcs c = Cdvcs.empty(address);
    cs.write(c, Cdvcs.create(address, TestKeys.ALICE, 1000));
    return c;
  }

  @Test
  void write_thenReopen_loadsSameGraphHeadsAndCounts() {
    List<Hash> commits;
    try (Store store = open()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      for (int i = 0; i < 20; i++) {
        cs.write(c, c.transact(List.of(tx("add-tweet", "t" + i), tx("add-tweet", "u" + i)),
            TestKeys.ALICE, 2000 + i));
      }
      commits = c.graph().commits();
    }
    try (Store store = open()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs loaded = cs.load(ADDRESS);
      assertThat(loaded.graph().commits()).containsExactlyElementsOf(commits);
      assertThat(loaded.heads()).containsExactly(commits.get(commits.size() - 1));
      CdvcsStore.Summary summary = cs.summary(ADDRESS).orElseThrow();
      assertThat(summary.commitCount()).isEqualTo(21);
      assertThat(summary.transactionCount()).isEqualTo(40);
      Commit last = cs.commit(commits.get(commits.size() - 1));
      assertThat(cs.transactions(last))
          .containsExactly(tx("add-tweet", "t19"), tx("add-tweet", "u19"));
      assertThat(cs.transactionCount(last)).isEqualTo(2);
      // and the reloaded state goes on where it stopped
      cs.write(loaded, loaded.transact(List.of(tx("add-tweet", "more")), TestKeys.ALICE, 5000));
      assertThat(cs.load(ADDRESS).size()).isEqualTo(22);
    }
  }

  @Test
  void write_conflictAndMerge_survivesReopen() {
    try (Store store = open()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Cdvcs other = Cdvcs.of(ADDRESS, c.graph().copy());
      Update mine = c.transact(List.of(tx("f", "mine")), TestKeys.ALICE, 2);
      Update theirs = other.transact(List.of(tx("f", "theirs")), TestKeys.ALICE, 3);
      cs.write(c, mine);
      cs.write(c, theirs);
      assertThat(cs.load(ADDRESS).heads()).hasSize(2);
      cs.write(c, c.merge(List.of(mine.lastCommit(), theirs.lastCommit()), List.of(),
          TestKeys.ALICE, 4));
    }
    try (Store store = open()) {
      Cdvcs loaded = new CdvcsStore(store).load(ADDRESS);
      assertThat(loaded.heads()).hasSize(1);
      assertThat(loaded.size()).isEqualTo(4);
    }
  }

  @Test
  void write_sameUpdateTwice_isHarmless() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Update u = c.transact(List.of(tx("f", "x")), TestKeys.ALICE, 2);
      cs.write(c, u);
      assertThat(cs.write(c, u).newCommits()).isEmpty();
      assertThat(cs.summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(2);
      assertThat(cs.summary(ADDRESS).orElseThrow().transactionCount()).isEqualTo(1);
    }
  }

  @Test
  void write_chunkThatDoesNotMatchItsHash_isRefused_andNothingIsStored() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Update u = c.transact(List.of(tx("f", "x")), TestKeys.ALICE, 2);
      Map<Hash, byte[]> forged = new HashMap<>();
      u.chunkValues().forEach((k, v) -> {
        byte[] copy = v.clone();
        copy[copy.length - 1] ^= 1;
        forged.put(k, copy);
      });
      Update bad = new Update(ADDRESS, u.commits(), u.commitValues(), forged);
      assertThatThrownBy(() -> cs.write(c, bad))
          .isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.HASH_MISMATCH);
      assertThat(c.size()).isEqualTo(1);
      assertThat(cs.load(ADDRESS).size()).isEqualTo(1);
      assertThat(store.contains(Column.COMMITS, u.lastCommit().toBytes())).isFalse();
    }
  }

  @Test
  void writeVerified_storesWhatWriteStores_andStillRefusesMissingChunks() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Update u = c.transact(List.of(tx("f", "x"), tx("f", "y")), TestKeys.ALICE, 2);
      Update noChunks = new Update(ADDRESS, u.commits(), u.commitValues(), Map.of());
      assertThatThrownBy(() -> cs.writeVerified(c, noChunks))
          .isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MISSING_CONTENT);
      assertThat(cs.writeVerified(c, u).newCommits()).hasSize(1);
      assertThat(cs.load(ADDRESS).heads()).containsExactly(u.lastCommit());
      assertThat(cs.summary(ADDRESS).orElseThrow().transactionCount()).isEqualTo(2);
      u.chunkValues().forEach((k, v) -> assertThat(cs.chunk(k)).contains(v));
    }
  }

  @Test
  void write_commitWhoseChunkIsNeitherSentNorStored_isRefused() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Update u = c.transact(List.of(tx("f", "x")), TestKeys.ALICE, 2);
      Update noChunks = new Update(ADDRESS, u.commits(), u.commitValues(), Map.of());
      assertThatThrownBy(() -> cs.write(c, noChunks))
          .isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MISSING_CONTENT);
      assertThat(cs.load(ADDRESS).size()).isEqualTo(1);
    }
  }

  @Test
  void write_commitAnnouncedWithOtherParents_isRefused() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      Hash root = c.heads().iterator().next();
      Update first = c.transact(List.of(tx("f", "1")), TestKeys.ALICE, 2);
      cs.write(c, first);
      Update second = c.transact(List.of(tx("f", "2")), TestKeys.ALICE, 3);
      Update lying = new Update(ADDRESS,
          List.of(new Update.Entry(second.lastCommit(), List.of(root),
              second.commits().get(0).signature())),
          second.commitValues(), second.chunkValues());
      assertThatThrownBy(() -> cs.write(c, lying))
          .isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
    }
  }

  @Test
  void load_unknownAddress_isRefusedNamingIt() {
    try (Store store = Stores.inMemory()) {
      assertThatThrownBy(() -> new CdvcsStore(store).load(ADDRESS))
          .isInstanceOf(ReplikonException.class)
          .hasMessageContaining(ADDRESS.toString())
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.UNKNOWN_ADDRESS);
    }
  }

  @Test
  void write_rootOverExistingCdvcs_isRefused() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      create(cs, ADDRESS);
      assertThatThrownBy(() -> create(cs, ADDRESS))
          .isInstanceOf(ReplikonException.class)
          .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.ADDRESS_EXISTS);
    }
  }

  @Test
  void list_givesEveryCdvcsWithCounts_andForkSharesValues() {
    try (Store store = Stores.inMemory()) {
      CdvcsStore cs = new CdvcsStore(store);
      Cdvcs c = create(cs, ADDRESS);
      cs.write(c, c.transact(List.of(tx("f", "1"), tx("f", "2"), tx("f", "3")), TestKeys.ALICE, 2));
      Cdvcs fork = Cdvcs.empty(OTHER);
      cs.write(fork, c.fork(OTHER, cs::signature));
      cs.write(fork, fork.transact(List.of(tx("g", "4")), TestKeys.BOB, 3));
      List<CdvcsStore.Summary> all = new ArrayList<>(cs.list());
      assertThat(all).extracting(CdvcsStore.Summary::address)
          .containsExactlyInAnyOrder(ADDRESS, OTHER);
      CdvcsStore.Summary forkSummary = cs.summary(OTHER).orElseThrow();
      assertThat(forkSummary.commitCount()).isEqualTo(3);
      assertThat(forkSummary.transactionCount()).isEqualTo(4);
      assertThat(forkSummary.heads()).isEqualTo(fork.heads());
    }
  }
}
