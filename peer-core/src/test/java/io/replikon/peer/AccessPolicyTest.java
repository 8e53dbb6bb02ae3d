package io.replikon.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.KeyList;
import io.replikon.trust.VerifyingKey;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Who may write which addresses, and who may read. */
class AccessPolicyTest {
  static final VerifyingKey ALICE = TestKeys.ALICE.key().verifyingKey();
  static final VerifyingKey ALICE_LAPTOP = TestKeys.key("alice laptop").verifyingKey();
  static final VerifyingKey BOB = TestKeys.BOB.key().verifyingKey();
  static final VerifyingKey MALLORY = TestKeys.key("mallory").verifyingKey();
  static final UUID ID = new UUID(4, 2);

  static final KeyList WRITERS = KeyList.parse("alice " + ALICE + "\nalice " + ALICE_LAPTOP
      + "\nbob " + BOB + "\n", "writers", false);
  static final AccessPolicy WITH_WRITERS = new AccessPolicy(Optional.of(WRITERS),
      Optional.empty());

  @Test
  void writeRefusal_aListedKey_mayWriteItsUsersAddresses() {
    assertThat(WITH_WRITERS.writeRefusal(new Address("alice", ID), ALICE)).isEmpty();
    assertThat(WITH_WRITERS.writeRefusal(new Address("alice", ID), ALICE_LAPTOP)).isEmpty();
    assertThat(WITH_WRITERS.writeRefusal(new Address("bob", ID), BOB)).isEmpty();
  }

  @Test
  void writeRefusal_anUnlistedKey_orAnotherUsersKey_isRefusedNamingKeyAndUser() {
    assertThat(WITH_WRITERS.writeRefusal(new Address("alice", ID), MALLORY)).hasValueSatisfying(
        r -> assertThat(r).contains(MALLORY.toString()).contains("'alice'").contains("writers"));
    assertThat(WITH_WRITERS.writeRefusal(new Address("alice", ID), BOB)).isPresent();
    assertThat(WITH_WRITERS.writeRefusal(new Address("carol", ID), ALICE)).hasValueSatisfying(
        r -> assertThat(r).contains(ALICE.toString()).contains("'carol'"));
  }

  @Test
  void writeRefusal_withoutAWritersList_letsAnyKeyWriteNamedUsers() {
    assertThat(AccessPolicy.open().writeRefusal(new Address("alice", ID), MALLORY)).isEmpty();
  }

  @Test
  void writeRefusal_aSelfCertifyingAddress_isItsOwnKeysOnly_withOrWithoutAList() {
    Address own = new Address(ALICE.toString(), ID);
    for (AccessPolicy p : new AccessPolicy[] {AccessPolicy.open(), WITH_WRITERS}) {
      assertThat(p.writeRefusal(own, ALICE)).isEmpty();
      assertThat(p.writeRefusal(own, MALLORY)).hasValueSatisfying(r -> assertThat(r)
          .contains("self-certifying").contains(ALICE.toString()).contains(MALLORY.toString()));
      // listed for user 'alice' is not the key ALICE_LAPTOP's own address
      assertThat(p.writeRefusal(own, ALICE_LAPTOP)).isPresent();
    }
    // a writers list that names the key as a user gives no other key the address
    KeyList naming = KeyList.parse(ALICE + " " + MALLORY + "\n", "writers", false);
    AccessPolicy p = new AccessPolicy(Optional.of(naming), Optional.empty());
    assertThat(p.writeRefusal(own, MALLORY)).isPresent();
    assertThat(p.writeRefusal(own, ALICE)).isEmpty();
  }

  @Test
  void writeRefusal_aUserThatLooksLikeAKeyButIsNone_refusesEveryKey() {
    Address garbage = new Address("ed25519:garbage", ID);
    for (AccessPolicy p : new AccessPolicy[] {AccessPolicy.open(), WITH_WRITERS}) {
      for (VerifyingKey k : new VerifyingKey[] {ALICE, BOB, MALLORY}) {
        assertThat(p.writeRefusal(garbage, k)).as("%s", k).isPresent();
      }
    }
    String loose = ALICE.toString().substring(0, 50) + (ALICE.toString().endsWith("A") ? "B" : "A");
    assertThat(AccessPolicy.open().writeRefusal(new Address(loose, ID), ALICE)).isPresent();
  }

  @Test
  void readRefusal_withoutAReadersList_noneAndNoProofNeeded() {
    assertThat(AccessPolicy.open().readsNeedProof()).isFalse();
    assertThat(AccessPolicy.open().readRefusal(MALLORY)).isEmpty();
    assertThat(WITH_WRITERS.readsNeedProof()).isFalse();
  }

  @Test
  void readRefusal_withAReadersList_listedKeysOnly_orAnyWithStar() {
    AccessPolicy readers = new AccessPolicy(Optional.empty(),
        Optional.of(KeyList.parse("bob " + BOB + "\n", "readers", true)));
    assertThat(readers.readsNeedProof()).isTrue();
    assertThat(readers.readRefusal(BOB)).isEmpty();
    assertThat(readers.readRefusal(MALLORY)).hasValueSatisfying(
        r -> assertThat(r).contains(MALLORY.toString()).contains("readers"));
    AccessPolicy anyone = new AccessPolicy(Optional.empty(), Optional.of(KeyList.anyKey()));
    assertThat(anyone.readsNeedProof()).isTrue();
    assertThat(anyone.readRefusal(MALLORY)).isEmpty();
  }
}
