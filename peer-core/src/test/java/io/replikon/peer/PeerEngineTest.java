package io.replikon.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.Message.Role;
import io.replikon.storage.Stores;
import io.replikon.testkit.FakeClock;
import io.replikon.testkit.TestKeys;
import io.replikon.value.Hash;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One engine and a scripted peer on the other end of a link: the protocol step by step. */
class PeerEngineTest {
  static final Address ADDRESS = new Address("alice", new UUID(7, 7));

  /** A link that records what the engine sends. */
  static class RecordingLink implements Link {
    final List<Message> sent = new ArrayList<>();
    Message.ErrorReport closedWith;
    boolean closed;
    boolean writable = true;
    boolean verifiesValues;

    @Override
    public boolean isWritable() {
      return writable;
    }

    @Override
    public boolean verifiesValues() {
      return verifiesValues;
    }

    @Override
    public long id() {
      return 1;
    }

    @Override
    public String describe() {
      return "scripted";
    }

    @Override
    public void send(Message message) {
      if (!closed) {
        sent.add(message);
      }
    }

    @Override
    public void close(Message.ErrorReport reason) {
      closedWith = reason;
      closed = true;
    }

    @Override
    public void suspendReading() {}

    @Override
    public void resumeReading() {}

    @SuppressWarnings("unchecked")
    <T extends Message> List<T> of(Message.Kind kind) {
      return (List<T>) sent.stream().filter(m -> m.kind() == kind).toList();
    }
  }

  final FakeClock clock = new FakeClock(Instant.ofEpochSecond(1_000_000));
  CdvcsStore store;
  PeerEngine engine;
  RecordingLink link;
  List<String> refusals;
  long ids;

  @BeforeEach
  void setUp() {
    store = new CdvcsStore(Stores.inMemory());
    refusals = new ArrayList<>();
    engine = new PeerEngine(EngineConfig.defaults("server", Role.SERVER)
        .withFetchTimeout(Duration.ofSeconds(5)), store, clock, new PeerEvents() {
          @Override
          public void refused(Link l, ErrorCode code, String reason) {
            refusals.add(code + ": " + reason);
          }
        });
    link = new RecordingLink();
    engine.opened(link);
  }

  void hello() {
    engine.received(link,
        new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION, Role.CLIENT));
  }

  /** A CDVCS of the other side with a root and one commit of 3 transactions. */
  static List<Update> history() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 1);
    c.apply(root);
    Update first = c.transact(List.of(tx("a"), tx("b"), tx("c")), TestKeys.ALICE, 2);
    return List.of(root, first);
  }

  static Transaction tx(String s) {
    return new Transaction("add", JsonNodeFactory.instance.textNode(s));
  }

  /** The publish of the whole history with commit values inline and chunks left to fetch. */
  Message.Publish publishWithoutChunks(List<Update> h) {
    List<Update.Entry> entries = new ArrayList<>();
    Map<Hash, byte[]> values = new HashMap<>();
    for (Update u : h) {
      entries.addAll(u.commits());
      values.putAll(u.commitValues());
    }
    return new Message.Publish(++ids, ADDRESS, entries, Set.of(h.get(1).lastCommit()), values);
  }

  @Test
  void opened_saysHelloFirst() {
    assertThat(link.sent).hasSize(1);
    assertThat(link.sent.get(0)).isInstanceOf(Message.Hello.class);
  }

  @Test
  void receive_messageBeforeHello_isRefused() {
    engine.received(link, new Message.Fetch(1, List.of()));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.PROTOCOL);
    assertThat(link.closedWith.message()).contains("before hello");
  }

  @Test
  void receive_helloOfProtocolOne_isRefusedNamingBoth() {
    engine.received(link, new Message.Hello(1, "unsigned", 1, Role.CLIENT));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.VERSION_MISMATCH);
    assertThat(link.closedWith.message()).contains("version 1").contains("speaks 2");
  }

  @Test
  void publish_fetchesChunksVerifiesStoresAcksAndReportsSync() {
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    List<Message.Fetch> fetches = link.of(Message.Kind.FETCH);
    assertThat(fetches).hasSize(1);
    Hash chunk = h.get(1).chunkValues().keySet().iterator().next();
    assertThat(fetches.get(0).hashes()).containsExactly(chunk);
    assertThat(store.summary(ADDRESS)).as("nothing stored before the values are in").isEmpty();
    byte[] bytes = h.get(1).chunkValues().get(chunk);
    engine.received(link, new Message.FetchReply(++ids, fetches.get(0).id(),
        List.of(new Message.Slice(chunk, 0, bytes.length, bytes)), true));
    assertThat(store.summary(ADDRESS).orElseThrow().transactionCount()).isEqualTo(3);
    List<Message.PublishAck> acks = link.of(Message.Kind.PUBLISH_ACK);
    assertThat(acks).hasSize(1);
    assertThat(acks.get(0).heads()).containsExactly(h.get(1).lastCommit());
    assertThat(link.closed).isFalse();
  }

  @Test
  void publish_slicedFetchReply_isAssembled() {
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    Hash chunk = fetch.hashes().get(0);
    byte[] bytes = h.get(1).chunkValues().get(chunk);
    int half = bytes.length / 2;
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(chunk, half, bytes.length,
            java.util.Arrays.copyOfRange(bytes, half, bytes.length))), false));
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(chunk, 0, bytes.length, java.util.Arrays.copyOf(bytes, half))), true));
    assertThat(store.summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(2);
  }

  @Test
  void publish_whoseFetchedChunkDoesNotMatchItsHash_closesTheLink_andStoresNothing() {
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    byte[] forged = "not the chunk".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    engine.received(link, new Message.FetchReply(++ids, fetch.id(),
        List.of(new Message.Slice(fetch.hashes().get(0), 0, forged.length, forged)), true));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.HASH_MISMATCH);
    assertThat(store.summary(ADDRESS)).isEmpty();
    assertThat(refusals).hasSize(1);
  }

  @Test
  void publish_onALinkThatVerifiesValues_stillHashesAValuePutTogetherFromSlices() {
    link.verifiesValues = true; // it checks whole values only: halves cannot be checked alone
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    Hash chunk = fetch.hashes().get(0);
    byte[] forged = h.get(1).chunkValues().get(chunk).clone();
    forged[forged.length - 1] ^= 1;
    answerInTwoSlices(fetch, chunk, forged);
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.HASH_MISMATCH);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void publish_ofAChunkInANonCanonicalEncoding_putTogetherFromSlices_isRefused() {
    hello();
    byte[] canonical = history().get(1).chunkValues().values().iterator().next();
    int ai = canonical[0] & 0x1f; // a list head; the same items under an indefinite-length head
    int head = 1 + (ai < 24 ? 0 : 1 << (ai - 24));
    byte[] other = new byte[canonical.length - head + 2];
    other[0] = (byte) 0x9f;
    System.arraycopy(canonical, head, other, 1, canonical.length - head);
    other[other.length - 1] = (byte) 0xff;
    Hash chunk = Hash.sha256(other);
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 1);
    Commit commit = new Commit(List.of(root.lastCommit()), List.of(chunk), "alice", 2, ADDRESS,
        TestKeys.ALICE.key().verifyingKey());
    byte[] value = commit.encode();
    Hash id = Hash.sha256(value);
    List<Update.Entry> entries = new ArrayList<>(root.commits());
    entries.add(new Update.Entry(id, List.of(root.lastCommit()),
        TestKeys.ALICE.key().signCommit(id)));
    Map<Hash, byte[]> values = new HashMap<>(root.commitValues());
    values.put(id, value);
    engine.received(link, new Message.Publish(++ids, ADDRESS, entries, Set.of(id), values));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    assertThat(fetch.hashes()).containsExactly(chunk);
    answerInTwoSlices(fetch, chunk, other);
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(link.closedWith.message()).contains(chunk.shortHex());
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  /** Answers {@code fetch} with {@code bytes} as the value of {@code hash}, in two slices. */
  private void answerInTwoSlices(Message.Fetch fetch, Hash hash, byte[] bytes) {
    int half = bytes.length / 2;
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(hash, 0, bytes.length, java.util.Arrays.copyOf(bytes, half))), false));
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(hash, half, bytes.length,
            java.util.Arrays.copyOfRange(bytes, half, bytes.length))), true));
  }

  @Test
  void failure_startingAnotherLinksQueuedPublish_closesThatLink_andFreesTheAddress() {
    hello();
    List<Update> h = history();
    RecordingLink broken = new RecordingLink() {
      @Override
      public long id() {
        return 2;
      }

      @Override
      public void send(Message message) {
        if (message.kind() == Message.Kind.FETCH) {
          throw new IllegalStateException("simulated: a bug while asking this link for values");
        }
        super.send(message);
      }
    };
    engine.opened(broken);
    engine.received(broken,
        new Message.Hello(++ids, "broken", Message.PROTOCOL_VERSION, Role.CLIENT));
    Cdvcs theirs = Cdvcs.empty(ADDRESS);
    h.forEach(theirs::apply);
    Update next = theirs.transact(List.of(tx("d")), TestKeys.ALICE, 3);
    engine.received(link, publishWithoutChunks(h)); // active: waits for its chunk
    Message.Publish longer = publishWithoutChunks(h);
    List<Update.Entry> entries = new ArrayList<>(longer.commits());
    entries.addAll(next.commits());
    Map<Hash, byte[]> commitValues = new HashMap<>(longer.values());
    commitValues.putAll(next.commitValues());
    engine.received(broken, new Message.Publish(++ids, ADDRESS, entries,
        Set.of(next.lastCommit()), commitValues)); // queued; will need the new commit's chunk
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    Hash chunk = fetch.hashes().get(0);

    // The first publish ends here, and the broken link's publish starts (and fails) in its wake.
    answerInTwoSlices(fetch, chunk, h.get(1).chunkValues().get(chunk));

    assertThat(broken.closedWith.code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(link.closed).isFalse();
    assertThat(store.summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(2);
    Map<Hash, byte[]> values = new HashMap<>(next.commitValues());
    values.putAll(next.chunkValues());
    engine.received(link, new Message.Publish(++ids, ADDRESS, next.commits(),
        Set.of(next.lastCommit()), values));
    assertThat(store.summary(ADDRESS).orElseThrow().commitCount())
        .as("the address takes publishes again").isEqualTo(3);
  }

  @Test
  void publish_whoseValuesTheSenderDoesNotServe_closesTheLink() {
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    engine.received(link, new Message.FetchReply(++ids, fetch.id(),
        List.of(new Message.Slice(fetch.hashes().get(0), 0, -1, new byte[0])), true));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.MISSING_CONTENT);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void publish_whoseFetchIsNeverAnswered_timesOutOnTick() {
    hello();
    engine.received(link, publishWithoutChunks(history()));
    engine.tick();
    assertThat(link.closed).isFalse();
    clock.advance(Duration.ofSeconds(6));
    engine.tick();
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.MISSING_CONTENT);
    assertThat(link.closedWith.message()).contains("unanswered");
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void publish_withForgedInlineCommitValue_closesTheLink() {
    hello();
    List<Update> h = history();
    Message.Publish honest = publishWithoutChunks(h);
    Map<Hash, byte[]> values = new HashMap<>(honest.values());
    Hash root = h.get(0).lastCommit();
    values.put(root, new Commit(List.of(), List.of(), "mallory", 1, ADDRESS,
        TestKeys.key("mallory").verifyingKey()).encode());
    engine.received(link, new Message.Publish(++ids, ADDRESS, honest.commits(), honest.heads(),
        values));
    assertThat(link.closedWith).isNotNull();
    assertThat(link.closedWith.code()).isIn(ErrorCode.HASH_MISMATCH);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void subscribe_answersWithOnlyWhatTheSubscriberLacks() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    c.apply(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    Hash old = c.heads().iterator().next();
    for (int i = 0; i < 50; i++) {
      Update u = engine.state(ADDRESS).orElseThrow().transact(List.of(tx("t" + i)),
          TestKeys.ALICE, i);
      engine.submit(u);
      if (i == 44) {
        old = u.lastCommit();
      }
    }
    hello();
    link.sent.clear();
    engine.received(link, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of(old)))));
    List<Message.Publish> publishes = link.of(Message.Kind.PUBLISH);
    assertThat(publishes).hasSize(1);
    assertThat(publishes.get(0).commits()).hasSize(5);
  }

  @Test
  void publish_answeredForbidden_freesItsPlaceInTheWindow_andTheAddressIsNoLongerOffered() {
    int window = EngineConfig.defaults("x", Role.SERVER).maxUnackedPublishes();
    List<Message.Interest> interests = new ArrayList<>();
    for (int i = 0; i <= window; i++) {
      Address a = new Address("alice", new UUID(9, i));
      engine.submit(Cdvcs.create(a, TestKeys.ALICE, 1));
      interests.add(new Message.Interest(a, Set.of()));
    }
    hello();
    link.sent.clear();
    engine.received(link, new Message.Subscribe(++ids, interests));
    List<Message.Publish> first = link.of(Message.Kind.PUBLISH);
    assertThat(first).as("a full window").hasSize(window);
    link.sent.clear();
    for (Message.Publish p : first) {
      engine.received(link, new Message.ErrorReport(++ids, p.id(), ErrorCode.FORBIDDEN,
          "this client does not replicate " + p.address()));
    }
    List<Message.Publish> next = link.of(Message.Kind.PUBLISH);
    assertThat(next).as("the last address, once the refusals freed the window").hasSize(1);
    assertThat(next.get(0).address()).isEqualTo(interests.get(window).address());
    // a refused address is not offered again when it changes
    Address refused = first.get(0).address();
    link.sent.clear();
    engine.submit(engine.state(refused).orElseThrow().transact(List.of(tx("later")),
        TestKeys.ALICE, 2));
    assertThat(link.<Message.Publish>of(Message.Kind.PUBLISH)).isEmpty();
  }

  @Test
  void subscribe_byAPeerThatLacksNothing_isAnsweredWithAnEmptyPublish() {
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    Set<Hash> heads = engine.state(ADDRESS).orElseThrow().heads();
    hello();
    link.sent.clear();
    engine.received(link, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, heads))));
    List<Message.Publish> publishes = link.of(Message.Kind.PUBLISH);
    assertThat(publishes).hasSize(1);
    assertThat(publishes.get(0).commits()).isEmpty();
    assertThat(publishes.get(0).heads()).isEqualTo(heads);
  }

  @Test
  void publish_endsBeforeACommitWhoseValuesDoNotFit_soTheReceiverNeedNotFetch() {
    PeerEngine small = smallPublishes();
    List<Hash> commits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Update u = small.state(ADDRESS).orElseThrow()
          .transact(List.of(tx(String.valueOf(i).repeat(1_000))), TestKeys.ALICE, 2 + i);
      small.submit(u);
      commits.add(u.lastCommit());
    }
    List<Message.Publish> publishes = publishesToANewSubscriber(small);
    assertThat(publishes).hasSize(3);
    List<Hash> sent = new ArrayList<>();
    for (Message.Publish p : publishes) {
      for (Update.Entry e : p.commits()) {
        sent.add(e.id());
        assertThat(p.values()).containsKey(e.id());
        assertThat(p.values().keySet())
            .containsAll(Commit.decode(p.values().get(e.id())).chunks());
      }
    }
    assertThat(sent).hasSize(4).endsWith(commits.toArray(Hash[]::new));
  }

  @Test
  void publish_ofACommitLargerThanAPublish_carriesWhatFits_andTheRestIsFetched() {
    PeerEngine small = smallPublishes();
    List<Transaction> big = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      big.add(tx(String.valueOf(i).repeat(1_000)));
    }
    Update u = small.state(ADDRESS).orElseThrow().transact(big, TestKeys.ALICE, 2);
    small.submit(u);
    List<Message.Publish> publishes = publishesToANewSubscriber(small);
    assertThat(publishes).hasSize(2);
    assertThat(publishes.get(0).commits()).hasSize(1); // the root; then the big commit alone
    Message.Publish second = publishes.get(1);
    assertThat(second.commits()).extracting(Update.Entry::id).containsExactly(u.lastCommit());
    assertThat(second.values()).containsOnlyKeys(u.lastCommit());
  }

  /** A server engine whose publishes hold at most 1,500 bytes of values, with ADDRESS created. */
  private PeerEngine smallPublishes() {
    PeerEngine small = new PeerEngine(EngineConfig.defaults("server", Role.SERVER)
        .withPublishLimits(100, 1_500), store, clock, new PeerEvents() {});
    small.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    return small;
  }

  /** What {@code engine} publishes to a new client that subscribes to ADDRESS with no heads. */
  private List<Message.Publish> publishesToANewSubscriber(PeerEngine engine) {
    RecordingLink other = new RecordingLink();
    engine.opened(other);
    engine.received(other,
        new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION, Role.CLIENT));
    engine.received(other, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    return other.of(Message.Kind.PUBLISH);
  }

  /** Three publishes of a root and three commits, every value inline. */
  List<Message.Publish> threePublishes() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    List<Update> updates = new ArrayList<>();
    updates.add(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    c.apply(updates.get(0));
    for (int i = 0; i < 3; i++) {
      Update u = c.transact(List.of(tx("t" + i)), TestKeys.ALICE, 2 + i);
      c.apply(u);
      updates.add(u);
    }
    List<Message.Publish> out = new ArrayList<>();
    for (List<Update> part : List.of(updates.subList(0, 2), updates.subList(2, 3),
        updates.subList(3, 4))) {
      List<Update.Entry> entries = new ArrayList<>();
      Map<Hash, byte[]> values = new java.util.LinkedHashMap<>();
      for (Update u : part) {
        entries.addAll(u.commits());
        values.putAll(u.commitValues());
        values.putAll(u.chunkValues());
      }
      out.add(new Message.Publish(++ids, ADDRESS, entries,
          Set.of(part.get(part.size() - 1).lastCommit()), values));
    }
    return out;
  }

  @Test
  void receivedAll_writesEachPublish_syncsOnce_thenAcksEach_withDurableHeadsOnly() {
    io.replikon.testkit.LossyStore lossy = new io.replikon.testkit.LossyStore();
    int[] syncs = {0};
    lossy.failSync(() -> {
      syncs[0]++;
      return false;
    });
    List<String> order = new ArrayList<>();
    PeerEngine grouped = new PeerEngine(EngineConfig.defaults("server", Role.SERVER),
        new CdvcsStore(lossy), clock, new PeerEvents() {
          @Override
          public void stored(Address address, Link from, Cdvcs.Preview change) {
            order.add("stored " + change.newCommits().size() + " synced " + lossy.allSynced());
          }
        });
    RecordingLink other = new RecordingLink() {
      @Override
      public void send(Message message) {
        if (message instanceof Message.PublishAck ack) {
          order.add("ack " + ack.re() + " synced " + lossy.allSynced());
          ack.heads().forEach(h -> assertThat(
              lossy.containsDurably(io.replikon.storage.Column.COMMITS, h.toBytes())).isTrue());
        }
        super.send(message);
      }
    };
    grouped.opened(other);
    grouped.received(other, new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION,
        Role.CLIENT));
    List<Message.Publish> publishes = threePublishes();
    syncs[0] = 0;
    grouped.receivedAll(other, List.copyOf(publishes));
    assertThat(syncs[0]).isEqualTo(1);
    assertThat(order).containsExactly(
        "ack " + publishes.get(0).id() + " synced true", "stored 2 synced true",
        "ack " + publishes.get(1).id() + " synced true", "stored 1 synced true",
        "ack " + publishes.get(2).id() + " synced true", "stored 1 synced true");
    assertThat(new CdvcsStore(lossy).summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(4);
    List<Message.PublishAck> acks = other.of(Message.Kind.PUBLISH_ACK);
    assertThat(acks.get(2).heads()).containsExactly(
        publishes.get(2).commits().get(0).id());
  }

  @Test
  void receivedAll_whoseSyncFails_acksNothing_andACrashThenLosesTheGroup() {
    io.replikon.testkit.LossyStore lossy = new io.replikon.testkit.LossyStore();
    List<Cdvcs.Preview> stored = new ArrayList<>();
    PeerEngine grouped = new PeerEngine(EngineConfig.defaults("server", Role.SERVER),
        new CdvcsStore(lossy), clock, new PeerEvents() {
          @Override
          public void stored(Address address, Link from, Cdvcs.Preview change) {
            stored.add(change);
          }
        });
    RecordingLink other = new RecordingLink();
    grouped.opened(other);
    grouped.received(other, new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION,
        Role.CLIENT));
    lossy.failSync(() -> true);
    assertThatThrownBy(() -> grouped.receivedAll(other, List.copyOf(threePublishes())))
        .isInstanceOf(io.replikon.error.ReplikonException.class)
        .extracting(e -> ((io.replikon.error.ReplikonException) e).reason())
        .isEqualTo(io.replikon.error.ReplikonException.Reason.STORE_IO);
    assertThat(other.of(Message.Kind.PUBLISH_ACK)).isEmpty();
    assertThat(stored).isEmpty();
    lossy.crash();
    assertThat(new CdvcsStore(lossy).summary(ADDRESS)).isEmpty();
  }

  @Test
  void fetch_whileTheLinkDoesNotDrain_isDeferred_thenServed_andAFloodIsRefused() {
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    Hash root = engine.state(ADDRESS).orElseThrow().heads().iterator().next();
    hello();
    link.sent.clear();
    link.writable = false;
    engine.received(link, new Message.Fetch(++ids, List.of(root)));
    assertThat(link.of(Message.Kind.FETCH_REPLY)).as("held while not writable").isEmpty();
    link.writable = true;
    engine.writable(link);
    assertThat(link.<Message.FetchReply>of(Message.Kind.FETCH_REPLY)).hasSize(1)
        .first().satisfies(r -> assertThat(r.slices().get(0).total()).isPositive());
    link.writable = false;
    for (int i = 0; i < engine.config().limits().maxFetchesInFlight(); i++) {
      engine.received(link, new Message.Fetch(++ids, List.of(root)));
    }
    assertThat(link.closed).isFalse();
    engine.received(link, new Message.Fetch(++ids, List.of(root)));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.OVERLOADED);
  }

  // ---------------------------------------------------------------- hostile links

  /**
   * A link that counts the encoded bytes queued toward it and is writable while they stay under
   * a budget, as the transport's is; it drains only when the test says so.
   */
  static final class BudgetLink extends RecordingLink {
    final long budget;
    final long linkId;
    long queued;
    long maxQueued;

    BudgetLink(long linkId, long budget) {
      this.linkId = linkId;
      this.budget = budget;
    }

    @Override
    public long id() {
      return linkId;
    }

    @Override
    public void send(Message message) {
      if (!closed) {
        queued += io.replikon.protocol.MessageCodec.encode(message).length;
        maxQueued = Math.max(maxQueued, queued);
      }
      super.send(message);
    }

    @Override
    public boolean isWritable() {
      return queued < budget;
    }

    /** The other side read everything. */
    void drain() {
      queued = 0;
    }
  }

  /** Stores {@code n} commits at ADDRESS, each with one chunk of about {@code bytes}. */
  List<Hash> storeChunks(int n, int bytes) {
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    List<Hash> chunks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Update u = engine.state(ADDRESS).orElseThrow()
          .transact(List.of(tx((char) ('a' + i % 26) + "x".repeat(bytes) + i)), TestKeys.ALICE,
              2 + i);
      engine.submit(u);
      chunks.addAll(u.chunkValues().keySet());
    }
    return chunks;
  }

  BudgetLink helloOn(BudgetLink l) {
    engine.opened(l);
    engine.received(l,
        new Message.Hello(++ids, "reader", Message.PROTOCOL_VERSION, Role.CLIENT));
    l.sent.clear();
    l.drain();
    return l;
  }

  @Test
  void fetch_ofOneChunkRepeated_isServedOnce() {
    Hash chunk = storeChunks(1, 1_000_000).get(0);
    hello();
    link.sent.clear();
    List<Hash> repeated = java.util.Collections.nCopies(60, chunk);
    engine.received(link, new Message.Fetch(++ids, repeated));
    List<Message.FetchReply> replies = link.of(Message.Kind.FETCH_REPLY);
    assertThat(replies).hasSize(1);
    assertThat(replies.get(0).slices()).hasSize(1);
    assertThat(replies.get(0).last()).isTrue();
    assertThat(link.closed).isFalse();
  }

  @Test
  void fetch_ofMoreHashesThanTheLimit_isRefused_andNothingIsQueued() {
    Hash chunk = storeChunks(1, 1_000).get(0);
    hello();
    link.sent.clear();
    int max = engine.config().limits().maxHashesPerFetch();
    engine.received(link, new Message.Fetch(++ids, java.util.Collections.nCopies(max + 1, chunk)));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(link.<Message.FetchReply>of(Message.Kind.FETCH_REPLY)).isEmpty();
    assertThat(refusals).hasSize(1);
  }

  @Test
  void fetch_ofManyValues_byALinkThatDoesNotRead_queuesNoMoreThanItsBudgetAndAReply() {
    List<Hash> chunks = storeChunks(40, 200_000); // 8 MB in all
    BudgetLink slow = helloOn(new BudgetLink(2, 1 << 20));
    engine.received(slow, new Message.Fetch(++ids, chunks));
    long bound = slow.budget + Message.MAX_SLICE_BYTES + 4_096;
    assertThat(slow.maxQueued).isLessThanOrEqualTo(bound);
    assertThat(slow.<Message.FetchReply>of(Message.Kind.FETCH_REPLY)).noneMatch(r -> r.last());
    // As the other side reads, the rest follows, each value once, within the same bound.
    for (int i = 0; i < 100 && slow.of(Message.Kind.FETCH_REPLY).stream()
        .noneMatch(r -> ((Message.FetchReply) r).last()); i++) {
      slow.drain();
      engine.writable(slow);
    }
    List<Hash> served = new ArrayList<>();
    slow.<Message.FetchReply>of(Message.Kind.FETCH_REPLY)
        .forEach(r -> r.slices().forEach(x -> served.add(x.hash())));
    assertThat(served).containsExactlyElementsOf(chunks);
    assertThat(slow.maxQueued).isLessThanOrEqualTo(bound);
    assertThat(slow.closed).isFalse();
  }

  @Test
  void fetches_byALinkThatDoesNotRead_pastTheLimitInFlight_closeIt_withBoundedBytesQueued() {
    Hash chunk = storeChunks(1, 1_000_000).get(0);
    BudgetLink slow = helloOn(new BudgetLink(2, 2 << 20));
    for (int i = 0; i < 1_500 && !slow.closed; i++) {
      engine.received(slow, new Message.Fetch(++ids, List.of(chunk)));
    }
    assertThat(slow.closedWith.code()).isEqualTo(ErrorCode.OVERLOADED);
    assertThat(slow.maxQueued).isLessThanOrEqualTo(slow.budget + Message.MAX_SLICE_BYTES + 4_096);
  }

  @Test
  void fetchReply_declaringAGigabyteForAChunk_closesTheLink_beforeAllocatingIt() {
    hello();
    engine.received(link, publishWithoutChunks(history()));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    engine.received(link, new Message.FetchReply(++ids, fetch.id(),
        List.of(new Message.Slice(fetch.hashes().get(0), 0, 1_000_000_000L, new byte[1])), false));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(link.closedWith.message()).contains("1000000000").contains("chunk");
    assertThat(refusals).hasSize(1);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void fetchReply_declaringMoreThanACommitValueMayHold_closesTheLink() {
    hello();
    List<Update> h = history();
    List<Update.Entry> entries = new ArrayList<>();
    h.forEach(u -> entries.addAll(u.commits()));
    engine.received(link, new Message.Publish(++ids, ADDRESS, entries,
        Set.of(h.get(1).lastCommit()), Map.of())); // no values inline: commit values are fetched
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(new Message.Slice(
        fetch.hashes().get(0), 0, PeerEngine.MAX_COMMIT_VALUE_BYTES + 1, new byte[10])), false));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(link.closedWith.message()).contains("commit value");
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void fetchReply_withASliceOfAValueNotAskedFor_closesTheLink() {
    hello();
    engine.received(link, publishWithoutChunks(history()));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    byte[] other = "not asked for".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(Hash.sha256(other), 0, other.length, other)), false));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.PROTOCOL);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void fetchReply_withSlicesThatOverrunTheirTotal_closesTheLink() {
    hello();
    List<Update> h = history();
    engine.received(link, publishWithoutChunks(h));
    Message.Fetch fetch = link.<Message.Fetch>of(Message.Kind.FETCH).get(0);
    Hash chunk = fetch.hashes().get(0);
    byte[] bytes = h.get(1).chunkValues().get(chunk);
    int half = bytes.length / 2;
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(chunk, 0, bytes.length, java.util.Arrays.copyOf(bytes, half)),
        new Message.Slice(chunk, 0, bytes.length,
            java.util.Arrays.copyOf(bytes, bytes.length - 1))), true));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(link.closedWith.message()).contains("overrun");
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void publishes_holdingMoreInlineBytesThanTheLinkMay_closeIt() {
    hello();
    // A valid chunk of almost 1 MiB ([["t", "xx...x"]]), which no commit of the publish names.
    int length = (1 << 20) - 4_096;
    byte[] junk = new byte[length + 9];
    byte[] head = {(byte) 0x81, (byte) 0x82, 0x61, 't', 0x7a,
        (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    System.arraycopy(head, 0, junk, 0, head.length);
    java.util.Arrays.fill(junk, head.length, junk.length, (byte) 'x');
    Hash junkHash = Hash.sha256(junk);
    int perLink = (int) (PeerEngine.MAX_HELD_BYTES_PER_LINK / junk.length);
    for (int i = 0; i <= perLink && !link.closed; i++) {
      // Each publish waits for a fetch of its chunk, and holds its inline values meanwhile.
      Address address = new Address("mallory", new UUID(5, i));
      Cdvcs c = Cdvcs.empty(address);
      Update root = Cdvcs.create(address, TestKeys.author("mallory"), 1);
      c.apply(root);
      Update first = c.transact(List.of(tx("t")), TestKeys.author("mallory"), 2);
      List<Update.Entry> entries = new ArrayList<>(root.commits());
      entries.addAll(first.commits());
      Map<Hash, byte[]> values = new HashMap<>(root.commitValues());
      values.putAll(first.commitValues());
      values.put(junkHash, junk);
      engine.received(link, new Message.Publish(++ids, address, entries,
          Set.of(first.lastCommit()), values));
    }
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.OVERLOADED);
    assertThat(link.<Message.Fetch>of(Message.Kind.FETCH)).hasSize(perLink);
  }

  @Test
  void subscribe_toMoreAddressesThanTheLimit_isRefusedWhole() {
    hello();
    int max = engine.config().limits().maxSubscriptions();
    List<Message.Interest> interests = new ArrayList<>();
    for (int i = 0; i <= max; i++) {
      interests.add(new Message.Interest(new Address("mallory", new UUID(3, i)), Set.of()));
    }
    engine.received(link, new Message.Subscribe(++ids, interests));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.OVERLOADED);
    assertThat(link.<Message.SubscribeAck>of(Message.Kind.SUBSCRIBE_ACK)).isEmpty();
    assertThat(engine.interests()).isEmpty();
    assertThat(refusals).hasSize(1);
  }

  @Test
  void subscribe_byAClient_isExtendedToServerLinksAndTheAskingLink_neverToOtherClients() {
    RecordingLink upstream = new BudgetLink(2, Long.MAX_VALUE);
    RecordingLink bystander = new BudgetLink(3, Long.MAX_VALUE);
    engine.opened(upstream);
    engine.received(upstream,
        new Message.Hello(++ids, "upstream", Message.PROTOCOL_VERSION, Role.SERVER));
    engine.opened(bystander);
    engine.received(bystander,
        new Message.Hello(++ids, "bystander", Message.PROTOCOL_VERSION, Role.CLIENT));
    hello();
    upstream.sent.clear();
    bystander.sent.clear();
    link.sent.clear();
    engine.received(link, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    assertThat(upstream.<Message.Subscribe>of(Message.Kind.SUBSCRIBE)).hasSize(1)
        .first().satisfies(s -> assertThat(s.interests()).extracting(Message.Interest::address)
            .containsExactly(ADDRESS));
    assertThat(link.<Message.Subscribe>of(Message.Kind.SUBSCRIBE)).hasSize(1);
    assertThat(bystander.sent).isEmpty();
  }

  @Test
  void hello_ofAClient_isNotAnsweredWithTheServersInterests() {
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    hello();
    assertThat(link.<Message.Subscribe>of(Message.Kind.SUBSCRIBE)).isEmpty();
    RecordingLink server = new BudgetLink(2, Long.MAX_VALUE);
    engine.opened(server);
    engine.received(server,
        new Message.Hello(++ids, "mesh", Message.PROTOCOL_VERSION, Role.SERVER));
    assertThat(server.<Message.Subscribe>of(Message.Kind.SUBSCRIBE)).hasSize(1);
  }

  @Test
  void hello_neverSent_closesTheLinkAfterTheHelloTimeout() {
    Duration timeout = engine.config().limits().helloTimeout();
    clock.advance(timeout.minusSeconds(1));
    engine.tick();
    assertThat(link.closed).isFalse();
    clock.advance(Duration.ofSeconds(2));
    engine.tick();
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.PROTOCOL);
    assertThat(link.closedWith.message()).contains("no hello");
    assertThat(refusals).hasSize(1);
  }

  @Test
  void hello_withAPeerIdLongerThanTheLimit_isRefused() {
    String name = "m".repeat(engine.config().limits().maxPeerIdChars() + 1);
    engine.received(link, new Message.Hello(++ids, name, Message.PROTOCOL_VERSION, Role.CLIENT));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.MALFORMED);
    assertThat(link.closedWith.message()).doesNotContain(name);
  }

  @Test
  void helloOfAnotherVersion_withANewlineInThePeerId_isRefusedWithoutTheNewline() {
    engine.received(link, new Message.Hello(++ids, "evil\n2026 INFO forged",
        Message.PROTOCOL_VERSION + 1,
        Role.CLIENT));
    assertThat(link.closedWith.message()).doesNotContain("\n").contains("evil\\u000a");
  }

  @Test
  void publish_ofACommitNamingAnotherAddress_isRefused_andStoresNothing() {
    hello();
    Address other = new Address("mallory", new UUID(8, 8));
    Cdvcs c = Cdvcs.empty(ADDRESS);
    Update root = Cdvcs.create(ADDRESS, TestKeys.ALICE, 1);
    c.apply(root);
    Commit foreign = new Commit(List.of(root.lastCommit()), List.of(), "mallory", 2, other,
        TestKeys.key("mallory").verifyingKey());
    byte[] value = foreign.encode();
    Hash id = Hash.sha256(value);
    List<Update.Entry> entries = new ArrayList<>(root.commits());
    entries.add(new Update.Entry(id, List.of(root.lastCommit()),
        TestKeys.key("mallory").signCommit(id)));
    Map<Hash, byte[]> values = new HashMap<>(root.commitValues());
    values.put(id, value);
    engine.received(link, new Message.Publish(++ids, ADDRESS, entries, Set.of(id), values));
    assertThat(link.closedWith).isNull();
    assertThat(link.sent).filteredOn(m -> m instanceof Message.ErrorReport)
        .singleElement()
        .satisfies(m -> {
          Message.ErrorReport error = (Message.ErrorReport) m;
          assertThat(error.code()).isEqualTo(ErrorCode.FORBIDDEN);
          assertThat(error.message()).contains("names address");
        });
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  /** An engine on a store that can fail, with its refusals and store failures recorded. */
  final class OnFailingStore {
    final FailingStore disk = new FailingStore();
    final List<String> storeFailures = new ArrayList<>();
    final CdvcsStore cdvcs = new CdvcsStore(disk);
    PeerEngine engine = start();

    PeerEngine start() {
      return new PeerEngine(EngineConfig.defaults("server", Role.SERVER), cdvcs, clock,
          new PeerEvents() {
            @Override
            public void storeFailed(Link l, io.replikon.error.ReplikonException failure) {
              storeFailures.add(failure.getMessage());
            }

            @Override
            public void refused(Link l, ErrorCode code, String reason) {
              refusals.add(code + ": " + reason);
            }
          });
    }

    RecordingLink connect(Role role) {
      RecordingLink l = new RecordingLink();
      engine.opened(l);
      engine.received(l, new Message.Hello(++ids, "other", Message.PROTOCOL_VERSION, role));
      l.sent.clear();
      return l;
    }
  }

  @Test
  void publish_whoseWriteFails_isAnsweredInternal_theLinkStaysOpen_andTheNextIsStored() {
    OnFailingStore f = new OnFailingStore();
    RecordingLink other = f.connect(Role.CLIENT);
    List<Message.Publish> publishes = threePublishes();
    f.disk.diskFull(true);
    f.engine.receivedAll(other, List.of(publishes.get(0)));
    List<Message.ErrorReport> errors = other.of(Message.Kind.ERROR);
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(errors.get(0).re()).isEqualTo(publishes.get(0).id());
    assertThat(errors.get(0).message()).contains("no space left on device")
        .doesNotContain("/var/lib");
    assertThat(other.closed).isFalse();
    assertThat(f.storeFailures).hasSize(1);
    assertThat(other.of(Message.Kind.PUBLISH_ACK)).isEmpty();
    f.disk.diskFull(false);
    f.engine.receivedAll(other, List.of(publishes.get(0)));
    assertThat(other.<Message.PublishAck>of(Message.Kind.PUBLISH_ACK)).hasSize(1);
    assertThat(f.cdvcs.summary(ADDRESS).orElseThrow().commitCount()).isEqualTo(2);
  }

  @Test
  void publish_answeredInternal_isOfferedAgainAfterABackOff() {
    engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    hello();
    link.sent.clear();
    engine.received(link, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    Message.Publish first = link.<Message.Publish>of(Message.Kind.PUBLISH).get(0);
    assertThat(first.commits()).hasSize(1);
    link.sent.clear();
    engine.received(link, new Message.ErrorReport(++ids, first.id(), ErrorCode.INTERNAL,
        "this peer could not store the publish: no space left on device"));
    engine.submit(engine.state(ADDRESS).orElseThrow().transact(List.of(tx("x")), TestKeys.ALICE,
        2));
    engine.tick();
    assertThat(link.of(Message.Kind.PUBLISH)).as("backing off").isEmpty();
    clock.advance(PeerEngine.FIRST_RETRY.plusMillis(1));
    engine.tick();
    List<Message.Publish> again = link.of(Message.Kind.PUBLISH);
    assertThat(again).hasSize(1);
    assertThat(again.get(0).commits()).as("from the heads it confirmed: none").hasSize(2);
  }

  @Test
  void subscribe_toAnAddressWithADamagedValue_isAnsweredWithAnErrorNamingIt() {
    OnFailingStore f = new OnFailingStore();
    f.engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    Update u = f.engine.state(ADDRESS).orElseThrow().transact(List.of(tx("x")), TestKeys.ALICE, 2);
    f.engine.submit(u);
    Hash chunk = u.chunkValues().keySet().iterator().next();
    f.disk.damage(chunk);
    f.engine = f.start(); // nothing at hand: every value is read from the store
    RecordingLink other = f.connect(Role.CLIENT);
    Message.Subscribe subscribe = new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of())));
    f.engine.received(other, subscribe);
    assertThat(other.of(Message.Kind.SUBSCRIBE_ACK)).hasSize(1);
    List<Message.ErrorReport> errors = other.of(Message.Kind.ERROR);
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(errors.get(0).re()).isEqualTo(subscribe.id());
    assertThat(errors.get(0).message()).contains(chunk.shortHex()).contains("damaged")
        .doesNotContain("/var/lib");
    assertThat(f.storeFailures).hasSize(1);
    assertThat(other.closed).isFalse();
  }

  @Test
  void fetch_ofADamagedValue_isAnsweredWithAnErrorNamingIt() {
    OnFailingStore f = new OnFailingStore();
    f.engine.submit(Cdvcs.create(ADDRESS, TestKeys.ALICE, 1));
    Update u = f.engine.state(ADDRESS).orElseThrow().transact(List.of(tx("x")), TestKeys.ALICE, 2);
    f.engine.submit(u);
    Hash chunk = u.chunkValues().keySet().iterator().next();
    f.disk.damage(chunk);
    f.engine = f.start();
    RecordingLink other = f.connect(Role.CLIENT);
    Message.Fetch fetch = new Message.Fetch(++ids, List.of(chunk));
    f.engine.received(other, fetch);
    List<Message.ErrorReport> errors = other.of(Message.Kind.ERROR);
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).re()).isEqualTo(fetch.id());
    assertThat(errors.get(0).message()).contains(chunk.shortHex());
    assertThat(other.closed).isFalse();
  }
}
