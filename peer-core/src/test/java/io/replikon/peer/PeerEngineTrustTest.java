package io.replikon.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.peer.PeerEngineTest.RecordingLink;
import io.replikon.peer.PeerEvents.Forbidden;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.Message.Role;
import io.replikon.storage.Stores;
import io.replikon.testkit.FakeClock;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.Challenge;
import io.replikon.trust.KeyList;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One engine that checks signatures, writers and read proofs, and scripted peers on its links:
 * each test breaks one rule and sees it refused, or keeps to it and gets through.
 */
class PeerEngineTrustTest {
  static final Address ADDRESS = PeerEngineTest.ADDRESS;
  static final Author ALICE = TestKeys.ALICE;
  /** A second key of alice's, listed beside her first. */
  static final Author ALICE_LAPTOP = new Author("alice", TestKeys.key("alice laptop"));
  /** Someone who signs as "alice" with a key of his own. */
  static final Author MALLORY = new Author("alice", TestKeys.key("mallory"));
  static final Author BOB = TestKeys.BOB;

  /** A link with an id of its own, so that one engine can hold several. */
  static final class NumberedLink extends RecordingLink {
    final long number;

    NumberedLink(long number) {
      this.number = number;
    }

    @Override
    public long id() {
      return number;
    }

    List<Message.Kind> kinds() {
      return sent.stream().map(Message::kind).toList();
    }
  }

  final FakeClock clock = new FakeClock(Instant.ofEpochSecond(1_000_000));
  final AtomicReference<AccessPolicy> policy = new AtomicReference<>(AccessPolicy.open());
  final List<String> forbidden = new ArrayList<>();
  final List<String> refusals = new ArrayList<>();
  final List<VerifyingKey> proven = new ArrayList<>();
  final List<Challenge> challenges = new ArrayList<>();
  CdvcsStore store;
  PeerEngine engine;
  long ids;
  long links;

  @BeforeEach
  void setUp() {
    store = new CdvcsStore(Stores.inMemory());
    engine = engine("server", Role.SERVER, TestKeys.key("server"), store, policy::get);
  }

  /** An engine whose events are recorded in this test's lists. */
  PeerEngine engine(String id, Role role, SigningKey key, CdvcsStore on,
      Supplier<AccessPolicy> access) {
    EngineConfig.Trust trust = new EngineConfig.Trust(key, access, () -> {
      Challenge c = Challenge.of(Hash.sha256(("challenge " + challenges.size())
          .getBytes(StandardCharsets.UTF_8)).toBytes());
      challenges.add(c);
      return c;
    });
    return new PeerEngine(EngineConfig.defaults(id, role).withTrust(trust), on, clock,
        new PeerEvents() {
          @Override
          public void forbidden(Link l, Forbidden kind, String reason) {
            forbidden.add(kind + ": " + reason);
          }

          @Override
          public void proven(Link l, VerifyingKey key) {
            proven.add(key);
          }

          @Override
          public void refused(Link l, ErrorCode code, String reason) {
            refusals.add(code + ": " + reason);
          }
        });
  }

  static AccessPolicy writers(String text) {
    return new AccessPolicy(Optional.of(KeyList.parse(text, "writers", false)), Optional.empty());
  }

  static AccessPolicy readers(String text) {
    return new AccessPolicy(Optional.empty(), Optional.of(KeyList.parse(text, "readers", true)));
  }

  static String line(String user, Author author) {
    return user + " " + author.key().verifyingKey() + "\n";
  }

  /** Opens a link to the engine and says hello on it as {@code peer}. */
  NumberedLink connect(String peer, Role role) {
    NumberedLink l = new NumberedLink(++links);
    engine.opened(l);
    engine.received(l, new Message.Hello(++ids, peer, Message.PROTOCOL_VERSION, role));
    return l;
  }

  /** The publish of these updates, every value (commits and chunks) inline. */
  Message.Publish publish(Address address, List<Update> updates) {
    List<Update.Entry> entries = new ArrayList<>();
    Map<Hash, byte[]> values = new HashMap<>();
    for (Update u : updates) {
      entries.addAll(u.commits());
      values.putAll(u.commitValues());
      values.putAll(u.chunkValues());
    }
    return new Message.Publish(++ids, address, entries,
        Set.of(updates.get(updates.size() - 1).lastCommit()), values);
  }

  /** A root and one commit of a transaction, both by {@code author}. */
  static List<Update> history(Address address, Author author) {
    Cdvcs c = Cdvcs.empty(address);
    Update root = Cdvcs.create(address, author, 1);
    c.apply(root);
    return List.of(root, c.transact(List.of(PeerEngineTest.tx("by " + author.key())), author, 2));
  }

  /** A commit by {@code author} on what the engine holds of the address. */
  Update next(Address address, Author author, String payload) {
    return engine.state(address).orElseThrow()
        .transact(List.of(PeerEngineTest.tx(payload)), author, 3);
  }

  static Update.Entry withSignature(Update.Entry e, Signature s) {
    return new Update.Entry(e.id(), e.parents(), s);
  }

  static Message.Publish withEntries(Message.Publish p, List<Update.Entry> entries) {
    return new Message.Publish(p.id(), p.address(), entries, p.heads(), p.values());
  }

  static Message.ErrorReport errorFor(RecordingLink l, Message.Publish p) {
    List<Message.ErrorReport> errors = l.of(Message.Kind.ERROR);
    return errors.stream().filter(e -> e.re() == p.id()).findFirst()
        .orElseThrow(() -> new AssertionError("no error answers publish " + p.id() + ": "
            + l.sent));
  }

  static List<Message.PublishAck> acksFor(RecordingLink l, Message.Publish p) {
    return l.<Message.PublishAck>of(Message.Kind.PUBLISH_ACK).stream()
        .filter(a -> a.re() == p.id()).toList();
  }

  long commits(Address address) {
    return store.summary(address).map(CdvcsStore.Summary::commitCount).orElse(0L);
  }

  // ---- signatures and writers ----

  @Test
  void publish_signedByAListedKey_isStoredAndAcked() {
    policy.set(writers(line("alice", ALICE)));
    NumberedLink l = connect("client", Role.CLIENT);
    Message.Publish p = publish(ADDRESS, history(ADDRESS, ALICE));
    engine.received(l, p);
    assertThat(commits(ADDRESS)).isEqualTo(2);
    assertThat(acksFor(l, p)).hasSize(1);
    assertThat(forbidden).isEmpty();
    assertThat(store.signature(p.commits().get(1).id())).isEqualTo(p.commits().get(1).signature());
  }

  @Test
  void publish_signedByAnUnlistedKey_isRefusedForbidden_andStoresNothing() {
    policy.set(writers(line("alice", ALICE)));
    NumberedLink l = connect("client", Role.CLIENT);
    Message.Publish p = publish(ADDRESS, history(ADDRESS, MALLORY));
    engine.received(l, p);
    Message.ErrorReport error = errorFor(l, p);
    assertThat(error.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(error.message()).contains(MALLORY.key().verifyingKey().toString())
        .contains("'alice'");
    assertThat(store.summary(ADDRESS)).isEmpty();
    assertThat(acksFor(l, p)).isEmpty();
    assertThat(l.closed).as("the link stays open").isFalse();
    assertThat(forbidden).singleElement().asString().startsWith("WRITER: ");
    // and the same link still brings in what alice signed
    Message.Publish honest = publish(ADDRESS, history(ADDRESS, ALICE));
    engine.received(l, honest);
    assertThat(commits(ADDRESS)).isEqualTo(2);
    assertThat(acksFor(l, honest)).hasSize(1);
  }

  @Test
  void publish_whoseEntryCarriesAnotherCommitsSignature_isRefused_andStoresNothing() {
    NumberedLink l = connect("relay", Role.SERVER);
    Message.Publish honest = publish(ADDRESS, history(ADDRESS, ALICE));
    List<Update.Entry> e = honest.commits();
    Message.Publish p = withEntries(honest, List.of(e.get(0),
        withSignature(e.get(1), e.get(0).signature())));
    engine.received(l, p);
    assertThat(errorFor(l, p).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(errorFor(l, p).message()).contains(e.get(1).id().shortHex())
        .contains("signature");
    assertThat(store.summary(ADDRESS)).as("not even the root, whose signature is good")
        .isEmpty();
    assertThat(l.closed).isFalse();
    assertThat(forbidden).singleElement().asString().startsWith("SIGNATURE: ");
  }

  @Test
  void publish_ofTheRestOfARefusedHistory_isAcked_andNotAskedForAgain() {
    NumberedLink l = connect("relay", Role.SERVER);
    List<Update> h = history(ADDRESS, ALICE);
    Message.Publish root = publish(ADDRESS, List.of(h.get(0)));
    Message.Publish first = withEntries(root, List.of(withSignature(root.commits().get(0),
        Signature.of(new byte[Signature.BYTES]))));
    Message.Publish rest = publish(ADDRESS, List.of(h.get(1)));
    engine.received(l, first);
    assertThat(errorFor(l, first).code()).isEqualTo(ErrorCode.FORBIDDEN);
    l.sent.clear();
    engine.received(l, rest);
    assertThat(acksFor(l, rest)).hasSize(1);
    assertThat(l.of(Message.Kind.SUBSCRIBE)).as("a subscribe would bring the refused history"
        + " again, and again").isEmpty();
    assertThat(store.summary(ADDRESS)).isEmpty();
    // a gap on another link is still asked for
    NumberedLink other = connect("honest", Role.SERVER);
    other.sent.clear();
    engine.received(other, rest);
    assertThat(other.<Message.Subscribe>of(Message.Kind.SUBSCRIBE)).isNotEmpty();
    assertThat(acksFor(other, rest)).hasSize(1);
  }

  @Test
  void publish_anonymousUnsigned_withZeroedSignatures_isRefused_andStoresNothing() {
    NumberedLink l = connect("anonymous", Role.CLIENT);
    Message.Publish honest = publish(ADDRESS, history(ADDRESS, ALICE));
    Signature zero = Signature.of(new byte[Signature.BYTES]);
    Message.Publish p = withEntries(honest, honest.commits().stream()
        .map(x -> withSignature(x, zero)).toList());
    engine.received(l, p);
    assertThat(errorFor(l, p).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(store.summary(ADDRESS)).isEmpty();
    assertThat(l.closed).isFalse();
    assertThat(forbidden).singleElement().asString().startsWith("SIGNATURE: ");
  }

  @Test
  void publish_ofACommitSignedByAnotherKeyThanTheSignerItNames_isRefused() {
    NumberedLink l = connect("relay", Role.SERVER);
    Message.Publish honest = publish(ADDRESS, history(ADDRESS, ALICE));
    Message.Publish p = withEntries(honest, honest.commits().stream()
        .map(x -> withSignature(x, MALLORY.key().signCommit(x.id()))).toList());
    engine.received(l, p);
    assertThat(errorFor(l, p).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(store.summary(ADDRESS)).isEmpty();
    assertThat(forbidden).singleElement().asString().startsWith("SIGNATURE: ");
  }

  @Test
  void publish_toASelfCertifyingAddress_takesItsKeysCommitsOnly_withNoWritersList() {
    String user = ALICE.key().verifyingKey().toString();
    Address own = new Address(user, new UUID(1, 1));
    Address squatted = new Address(user, new UUID(1, 2));
    NumberedLink l = connect("client", Role.CLIENT);
    Message.Publish good = publish(own, history(own, ALICE));
    engine.received(l, good);
    assertThat(commits(own)).isEqualTo(2);
    Message.Publish squat = publish(squatted, history(squatted, MALLORY));
    engine.received(l, squat);
    assertThat(errorFor(l, squat).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(errorFor(l, squat).message()).contains("self-certifying")
        .contains(MALLORY.key().verifyingKey().toString());
    assertThat(store.summary(squatted)).isEmpty();
    // nor may another key add to the key's own address
    Update onTop = next(own, MALLORY, "mallory was here");
    Message.Publish p = publish(own, List.of(onTop));
    engine.received(l, p);
    assertThat(errorFor(l, p).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(commits(own)).isEqualTo(2);
    assertThat(forbidden).hasSize(2).allMatch(f -> f.startsWith("WRITER: "));
    assertThat(l.closed).isFalse();
  }

  @Test
  void publish_byTwoKeysListedForOneUser_bothGetIn() {
    policy.set(writers(line("alice", ALICE) + line("alice", ALICE_LAPTOP)));
    NumberedLink desk = connect("desk", Role.CLIENT);
    NumberedLink laptop = connect("laptop", Role.CLIENT);
    engine.received(desk, publish(ADDRESS, history(ADDRESS, ALICE)));
    Message.Publish p = publish(ADDRESS, List.of(next(ADDRESS, ALICE_LAPTOP, "from the laptop")));
    engine.received(laptop, p);
    assertThat(acksFor(laptop, p)).hasSize(1);
    assertThat(commits(ADDRESS)).isEqualTo(3);
    assertThat(forbidden).isEmpty();
  }

  @Test
  void publish_afterThePolicyIsSwapped_isJudgedByTheNewOne() {
    policy.set(writers(line("alice", ALICE)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, publish(ADDRESS, history(ADDRESS, ALICE)));
    Update fromLaptop = next(ADDRESS, ALICE_LAPTOP, "laptop");
    Message.Publish before = publish(ADDRESS, List.of(fromLaptop));
    engine.received(l, before);
    assertThat(errorFor(l, before).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(commits(ADDRESS)).isEqualTo(2);

    policy.set(writers(line("alice", ALICE) + line("alice", ALICE_LAPTOP))); // reload
    Message.Publish after = publish(ADDRESS, List.of(fromLaptop));
    engine.received(l, after);
    assertThat(acksFor(l, after)).hasSize(1);
    assertThat(commits(ADDRESS)).isEqualTo(3);

    policy.set(writers(line("alice", ALICE))); // the laptop's key revoked
    Message.Publish revoked = publish(ADDRESS, List.of(next(ADDRESS, ALICE_LAPTOP, "again")));
    engine.received(l, revoked);
    assertThat(errorFor(l, revoked).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(commits(ADDRESS)).isEqualTo(3);
    assertThat(forbidden).hasSize(2);
  }

  @Test
  void submit_ofACommitThePolicyRefuses_throwsForbidden_andStoresNothing() {
    policy.set(writers(line("alice", ALICE)));
    assertThatThrownBy(() -> engine.submit(Cdvcs.create(ADDRESS, MALLORY, 1)))
        .isInstanceOf(ReplikonException.class)
        .hasMessageContaining(MALLORY.key().verifyingKey().toString())
        .extracting(e -> ((ReplikonException) e).reason()).isEqualTo(Reason.FORBIDDEN);
    assertThat(store.summary(ADDRESS)).isEmpty();
    assertThat(engine.state(ADDRESS).map(Cdvcs::size).orElse(0)).isZero();
    engine.submit(Cdvcs.create(ADDRESS, ALICE, 1));
    assertThat(commits(ADDRESS)).isEqualTo(1);
  }

  // ---- reads ----

  @Test
  void hello_carriesAFreshChallengePerLink_onlyWhenReadsNeedAProof() {
    NumberedLink open = connect("client", Role.CLIENT);
    assertThat(open.<Message.Hello>of(Message.Kind.HELLO).get(0).challenge()).isEmpty();
    policy.set(readers(line("bob", BOB)));
    NumberedLink one = connect("client", Role.CLIENT);
    NumberedLink two = connect("client", Role.CLIENT);
    Challenge c1 = one.<Message.Hello>of(Message.Kind.HELLO).get(0).challenge().orElseThrow();
    Challenge c2 = two.<Message.Hello>of(Message.Kind.HELLO).get(0).challenge().orElseThrow();
    assertThat(c1).isNotEqualTo(c2);
    assertThat(challenges).containsExactly(c1, c2);
  }

  @Test
  void subscribe_beforeAuth_closesTheLinkForbidden() {
    engine.submit(Cdvcs.create(ADDRESS, ALICE, 1));
    policy.set(readers(line("bob", BOB)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    assertThat(l.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(l.closedWith.message()).contains("auth");
    assertThat(l.of(Message.Kind.PUBLISH)).isEmpty();
    assertThat(l.of(Message.Kind.SUBSCRIBE_ACK)).isEmpty();
    assertThat(forbidden).singleElement().asString().startsWith("READER: ");
  }

  @Test
  void publish_beforeAuth_closesTheLinkForbidden_andStoresNothing() {
    policy.set(readers(line("alice", ALICE)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, publish(ADDRESS, history(ADDRESS, ALICE)));
    assertThat(l.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  Message.Auth auth(NumberedLink l, SigningKey claimed, SigningKey signer, String prover) {
    Challenge c = l.<Message.Hello>of(Message.Kind.HELLO).get(0).challenge().orElseThrow();
    return new Message.Auth(++ids, claimed.verifyingKey(), signer.prove(c, "server", prover));
  }

  @Test
  void auth_ofAKeyNotListed_closesTheLinkForbidden() {
    policy.set(readers(line("bob", BOB)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, auth(l, MALLORY.key(), MALLORY.key(), "client"));
    assertThat(l.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(l.closedWith.message()).contains(MALLORY.key().verifyingKey().toString());
    assertThat(proven).isEmpty();
    assertThat(forbidden).singleElement().asString().startsWith("READER: ");
  }

  @Test
  void auth_claimingAListedKey_signedWithAnother_closesTheLinkForbidden() {
    policy.set(readers(line("bob", BOB)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, auth(l, BOB.key(), MALLORY.key(), "client"));
    assertThat(l.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(proven).isEmpty();
  }

  @Test
  void auth_forAnotherPeerId_closesTheLinkForbidden() {
    policy.set(readers(line("bob", BOB)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, auth(l, BOB.key(), BOB.key(), "someone else"));
    assertThat(l.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(proven).isEmpty();
  }

  @Test
  void auth_replayedFromAnotherConnection_closesTheLinkForbidden() {
    policy.set(readers(line("bob", BOB)));
    NumberedLink bobs = connect("client", Role.CLIENT);
    Message.Auth proof = auth(bobs, BOB.key(), BOB.key(), "client");
    engine.received(bobs, proof);
    assertThat(proven).containsExactly(BOB.key().verifyingKey());
    // an eavesdropper with the same peer id sends bob's proof on a connection of its own
    NumberedLink replay = connect("client", Role.CLIENT);
    engine.received(replay, new Message.Auth(++ids, proof.key(), proof.signature()));
    assertThat(replay.closedWith.code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(replay.closedWith.message()).contains("another connection");
    assertThat(proven).hasSize(1);
    assertThat(bobs.closed).isFalse();
  }

  @Test
  void auth_good_thenSubscribe_isAnsweredWithTheHistory() {
    engine.submit(Cdvcs.create(ADDRESS, ALICE, 1));
    policy.set(readers(line("bob", BOB)));
    NumberedLink l = connect("client", Role.CLIENT);
    engine.received(l, auth(l, BOB.key(), BOB.key(), "client"));
    assertThat(l.closed).isFalse();
    assertThat(proven).containsExactly(BOB.key().verifyingKey());
    engine.received(l, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    assertThat(l.of(Message.Kind.SUBSCRIBE_ACK)).hasSize(1);
    assertThat(l.<Message.Publish>of(Message.Kind.PUBLISH)).singleElement()
        .satisfies(p -> assertThat(p.commits()).hasSize(1));
    assertThat(l.closed).isFalse();
    assertThat(forbidden).isEmpty();
  }

  @Test
  void auth_twice_orUnasked_isAProtocolError() {
    NumberedLink unasked = connect("client", Role.CLIENT);
    engine.received(unasked, new Message.Auth(++ids, BOB.key().verifyingKey(),
        BOB.key().prove(Challenge.of(new byte[32]), "server", "client")));
    assertThat(unasked.closedWith.code()).isEqualTo(ErrorCode.PROTOCOL);
    policy.set(readers(line("bob", BOB)));
    NumberedLink twice = connect("client", Role.CLIENT);
    Message.Auth proof = auth(twice, BOB.key(), BOB.key(), "client");
    engine.received(twice, proof);
    engine.received(twice, proof);
    assertThat(twice.closedWith.code()).isEqualTo(ErrorCode.PROTOCOL);
  }

  @Test
  void clientEngine_answersAChallengeWithAuth_beforeItsSubscribe() {
    PeerEngine client = engine("client", Role.CLIENT, BOB.key(),
        new CdvcsStore(Stores.inMemory()), AccessPolicy::open);
    client.subscribe(ADDRESS);
    NumberedLink l = new NumberedLink(99);
    client.opened(l);
    Challenge challenge = Challenge.of(Hash.sha256(new byte[] {42}).toBytes());
    client.received(l, new Message.Hello(++ids, "server", Message.PROTOCOL_VERSION, Role.SERVER,
        Map.of(), Optional.of(challenge)));
    assertThat(l.kinds()).containsExactly(Message.Kind.HELLO, Message.Kind.AUTH,
        Message.Kind.SUBSCRIBE);
    Message.Auth auth = l.<Message.Auth>of(Message.Kind.AUTH).get(0);
    assertThat(auth.key()).isEqualTo(BOB.key().verifyingKey());
    assertThat(auth.key().verifiesProof(challenge, "server", "client", auth.signature()))
        .isTrue();
    // and a hello without a challenge gets no auth
    NumberedLink open = new NumberedLink(100);
    client.opened(open);
    client.received(open, new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION,
        Role.SERVER));
    assertThat(open.kinds()).containsExactly(Message.Kind.HELLO, Message.Kind.SUBSCRIBE);
  }

  @Test
  void twoEngines_oneGuardingReads_replicateOnceTheOtherProvesAListedKey() {
    engine.submit(Cdvcs.create(ADDRESS, ALICE, 1));
    policy.set(readers(line("bob", BOB)));
    CdvcsStore clientStore = new CdvcsStore(Stores.inMemory());
    PeerEngine client = engine("client", Role.CLIENT, BOB.key(), clientStore,
        AccessPolicy::open);
    client.subscribe(ADDRESS);
    NumberedLink toServer = new NumberedLink(200);
    NumberedLink toClient = new NumberedLink(201);
    client.opened(toServer);
    engine.opened(toClient);
    // hand messages over, both ways, until both sides are quiet
    for (int round = 0; !toServer.sent.isEmpty() || !toClient.sent.isEmpty(); round++) {
      assertThat(round).as("the exchange ends").isLessThan(50);
      List<Message> forServer = List.copyOf(toServer.sent);
      List<Message> forClient = List.copyOf(toClient.sent);
      toServer.sent.clear();
      toClient.sent.clear();
      forServer.forEach(m -> engine.received(toClient, m));
      forClient.forEach(m -> client.received(toServer, m));
    }
    assertThat(toClient.closed).isFalse();
    assertThat(proven).containsExactly(BOB.key().verifyingKey());
    assertThat(clientStore.summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(1);
  }
}
