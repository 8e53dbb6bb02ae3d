package io.replikon.cdvcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CdvcsTest {
  static final Address ADDRESS =
      new Address("alice@example.org", UUID.fromString("12d49511-e733-4007-937b-460c3794fae9"));
  static final Address OTHER =
      new Address("bob", UUID.fromString("00000000-0000-4000-8000-000000000001"));

  static Transaction tx(String fn, String text) {
    return new Transaction(fn, JsonNodeFactory.instance.textNode(text));
  }

  static Cdvcs created(Address address) {
    Cdvcs c = Cdvcs.empty(address);
    c.apply(Cdvcs.create(address, TestKeys.ALICE, 1000));
    return c;
  }

  @Test
  void create_givesOneRootCommit() {
    Cdvcs c = created(ADDRESS);
    assertThat(c.size()).isEqualTo(1);
    Hash root = c.heads().iterator().next();
    assertThat(c.graph().parents(root)).isEmpty();
    assertThat(c.graph().generation(root)).isEqualTo(1);
  }

  @Test
  void create_rootsOfTwoAddresses_differ() {
    assertThat(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1).lastCommit())
        .isNotEqualTo(Cdvcs.create(OTHER, TestKeys.ALICE, 1).lastCommit());
  }

  @Test
  void transact_addsOneCommitOnTheHead_andLeavesStateAloneUntilApplied() {
    Cdvcs c = created(ADDRESS);
    Hash root = c.heads().iterator().next();
    Update u = c.transact(List.of(tx("add-tweet", "a"), tx("add-tweet", "b")), TestKeys.ALICE,
        2000);
    assertThat(c.size()).isEqualTo(1);
    assertThat(u.commits()).hasSize(1);
    assertThat(u.commits().get(0).parents()).containsExactly(root);
    c.apply(u);
    assertThat(c.heads()).containsExactly(u.lastCommit());
    Commit commit = Commit.decode(u.commitValues().get(u.lastCommit()));
    assertThat(commit.chunks()).hasSize(1);
    assertThat(Chunk.decode(u.chunkValues().get(commit.chunks().get(0))))
        .containsExactly(tx("add-tweet", "a"), tx("add-tweet", "b"));
  }

  @Test
  void transact_withoutTransactions_isRefused() {
    Cdvcs c = created(ADDRESS);
    assertThatThrownBy(() -> c.transact(List.of(), TestKeys.ALICE, 1))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.INVALID_INPUT);
  }

  @Test
  void transact_onEmptyCdvcs_isRefused() {
    assertThatThrownBy(() -> Cdvcs.empty(ADDRESS).transact(List.of(tx("f", "x")),
        TestKeys.author("a"), 1))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.UNKNOWN_ADDRESS);
  }

  /** Two replicas that committed concurrently, joined: two heads. */
  static Cdvcs conflicted() {
    Cdvcs a = created(ADDRESS);
    Cdvcs b = created(ADDRESS);
    Update ua = a.transact(List.of(tx("f", "from a")), TestKeys.ALICE, 2000);
    Update ub = b.transact(List.of(tx("f", "from b")), TestKeys.ALICE, 2001);
    a.apply(ua);
    a.apply(ub);
    return a;
  }

  @Test
  void transact_onConflictedCdvcs_isRefusedWithAdviceToMerge() {
    Cdvcs c = conflicted();
    assertThat(c.isConflicted()).isTrue();
    assertThatThrownBy(() -> c.transact(List.of(tx("f", "x")), TestKeys.ALICE, 3000))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("2 heads")
        .hasMessageContaining("merge")
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.CONFLICTED);
  }

  @Test
  void merge_ordersParentsAsGiven_andResolvesConflict() {
    Cdvcs c = conflicted();
    List<Hash> order = new ArrayList<>(c.heads());
    java.util.Collections.reverse(order);
    Update m = c.merge(order, List.of(), TestKeys.ALICE, 3000);
    c.apply(m);
    assertThat(c.isConflicted()).isFalse();
    assertThat(c.graph().parents(m.lastCommit())).containsExactlyElementsOf(order);
    c.apply(c.transact(List.of(tx("f", "after merge")), TestKeys.ALICE, 4000));
    assertThat(c.heads()).hasSize(1);
  }

  @Test
  void merge_withHeadsThatAreNotTheHeads_isRefused() {
    Cdvcs c = conflicted();
    Hash one = c.heads().iterator().next();
    assertThatThrownBy(() -> c.merge(List.of(one, one), List.of(), TestKeys.ALICE, 1))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.STALE_HEADS);
    assertThatThrownBy(() -> c.merge(List.of(one), List.of(), TestKeys.ALICE, 1))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.STALE_HEADS);
  }

  @Test
  void merge_withOneHead_isRefused() {
    Cdvcs c = created(ADDRESS);
    assertThatThrownBy(() -> c.merge(List.copyOf(c.heads()), List.of(), TestKeys.ALICE, 1))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.INVALID_INPUT);
  }

  @Test
  void pull_fastForward_bringsTheOtherHead() {
    Cdvcs mine = created(ADDRESS);
    Update forked = mine.fork(OTHER, h -> TestKeys.UNCHECKED);
    Cdvcs theirs = Cdvcs.empty(OTHER);
    theirs.apply(forked);
    theirs.apply(theirs.transact(List.of(tx("f", "1")), TestKeys.BOB, 2));
    theirs.apply(theirs.transact(List.of(tx("f", "2")), TestKeys.BOB, 3));
    Update pull = mine.pull(theirs, false, h -> TestKeys.UNCHECKED);
    assertThat(pull.commits()).hasSize(2);
    mine.apply(pull);
    assertThat(mine.heads()).isEqualTo(theirs.heads());
    assertThat(mine.pull(theirs, false, h -> TestKeys.UNCHECKED).isEmpty()).isTrue();
  }

  @Test
  void pull_notFastForward_isRefusedUnlessAnInducedConflictIsAllowed() {
    Cdvcs mine = created(ADDRESS);
    Cdvcs theirs = Cdvcs.empty(OTHER);
    theirs.apply(mine.fork(OTHER, h -> TestKeys.UNCHECKED));
    theirs.apply(theirs.transact(List.of(tx("f", "theirs")), TestKeys.BOB, 2));
    mine.apply(mine.transact(List.of(tx("f", "mine")), TestKeys.ALICE, 2));
    assertThatThrownBy(() -> mine.pull(theirs, false, h -> TestKeys.UNCHECKED))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining("not a fast-forward")
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.NOT_FAST_FORWARD);
    mine.apply(mine.pull(theirs, true, h -> TestKeys.UNCHECKED));
    assertThat(mine.heads()).hasSize(2);
  }

  @Test
  void fork_holdsEveryCommitAtTheNewAddress() {
    Cdvcs c = created(ADDRESS);
    c.apply(c.transact(List.of(tx("f", "1")), TestKeys.ALICE, 2));
    Cdvcs fork = Cdvcs.empty(OTHER);
    fork.apply(c.fork(OTHER, h -> TestKeys.UNCHECKED));
    assertThat(fork.graph().commits()).containsExactlyElementsOf(c.graph().commits());
    assertThat(fork.heads()).isEqualTo(c.heads());
    assertThatThrownBy(() -> c.fork(ADDRESS,
        h -> TestKeys.UNCHECKED)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void commitId_coversAuthorTimeAndAddress() {
    VerifyingKey alice = TestKeys.ALICE.key().verifyingKey();
    Commit base = new Commit(List.of(), List.of(), "alice", 1, ADDRESS, alice);
    assertThat(base.id())
        .isNotEqualTo(new Commit(List.of(), List.of(), "bob", 1, ADDRESS, alice).id());
    assertThat(base.id())
        .isNotEqualTo(new Commit(List.of(), List.of(), "alice", 2, ADDRESS, alice).id());
    assertThat(base.id())
        .isNotEqualTo(new Commit(List.of(), List.of(), "alice", 1, OTHER, alice).id());
    assertThat(base.id()).isNotEqualTo(new Commit(List.of(), List.of(), "alice", 1, ADDRESS,
        TestKeys.BOB.key().verifyingKey()).id());
    assertThat(Commit.decode(base.encode())).isEqualTo(base);
  }

  @Test
  void commitDecode_ofSomethingElse_isMalformed() {
    byte[] notCommit = io.replikon.value.CanonicalCbor.encode(
        JsonNodeFactory.instance.objectNode().put("crdt", "cdvcs"));
    assertThatThrownBy(() -> Commit.decode(notCommit))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.MALFORMED_VALUE);
  }

  @Test
  void address_parsesAndPrints() {
    Address a = Address.parse("alice@example.org/12d49511-e733-4007-937b-460c3794fae9");
    assertThat(a).isEqualTo(ADDRESS);
    assertThat(a.toString()).isEqualTo("alice@example.org/12d49511-e733-4007-937b-460c3794fae9");
    assertThat(Address.fromKey(a.key())).isEqualTo(a);
    assertThatThrownBy(() -> Address.parse("no-slash"))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("USER/UUID");
    assertThatThrownBy(() -> Address.parse("alice/not-a-uuid"))
        .isInstanceOf(ReplikonException.class).hasMessageContaining("not a UUID");
  }
}
