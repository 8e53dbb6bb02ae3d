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
    engine.received(link, new Message.Hello(++ids, "other", 1, Role.CLIENT, Map.of()));
  }

  /** A CDVCS of the other side with a root and one commit of 3 transactions. */
  static List<Update> history() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    Update root = Cdvcs.create(ADDRESS, "alice", 1);
    c.apply(root);
    Update first = c.transact(List.of(tx("a"), tx("b"), tx("c")), "alice", 2);
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
  void receive_helloOfAnotherVersion_isRefusedNamingBoth() {
    engine.received(link, new Message.Hello(1, "future", 2, Role.CLIENT, Map.of()));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.VERSION_MISMATCH);
    assertThat(link.closedWith.message()).contains("version 2").contains("speaks 1");
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
    int half = forged.length / 2;
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(chunk, 0, forged.length, java.util.Arrays.copyOf(forged, half))),
        false));
    engine.received(link, new Message.FetchReply(++ids, fetch.id(), List.of(
        new Message.Slice(chunk, half, forged.length,
            java.util.Arrays.copyOfRange(forged, half, forged.length))), true));
    assertThat(link.closedWith.code()).isEqualTo(ErrorCode.HASH_MISMATCH);
    assertThat(store.summary(ADDRESS)).isEmpty();
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
    values.put(root, new Commit(List.of(), List.of(), "mallory", 1, ADDRESS).encode());
    engine.received(link, new Message.Publish(++ids, ADDRESS, honest.commits(), honest.heads(),
        values));
    assertThat(link.closedWith).isNotNull();
    assertThat(link.closedWith.code()).isIn(ErrorCode.HASH_MISMATCH);
    assertThat(store.summary(ADDRESS)).isEmpty();
  }

  @Test
  void subscribe_answersWithOnlyWhatTheSubscriberLacks() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    engine.submit(Cdvcs.create(ADDRESS, "alice", 1));
    c.apply(Cdvcs.create(ADDRESS, "alice", 1));
    Hash old = c.heads().iterator().next();
    for (int i = 0; i < 50; i++) {
      Update u = engine.state(ADDRESS).orElseThrow().transact(List.of(tx("t" + i)), "alice", i);
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
      engine.submit(Cdvcs.create(a, "alice", 1));
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
    engine.submit(engine.state(refused).orElseThrow().transact(List.of(tx("later")), "alice", 2));
    assertThat(link.<Message.Publish>of(Message.Kind.PUBLISH)).isEmpty();
  }

  @Test
  void subscribe_byAPeerThatLacksNothing_isAnsweredWithAnEmptyPublish() {
    engine.submit(Cdvcs.create(ADDRESS, "alice", 1));
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
          .transact(List.of(tx(String.valueOf(i).repeat(1_000))), "alice", 2 + i);
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
    Update u = small.state(ADDRESS).orElseThrow().transact(big, "alice", 2);
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
    small.submit(Cdvcs.create(ADDRESS, "alice", 1));
    return small;
  }

  /** What {@code engine} publishes to a new client that subscribes to ADDRESS with no heads. */
  private List<Message.Publish> publishesToANewSubscriber(PeerEngine engine) {
    RecordingLink other = new RecordingLink();
    engine.opened(other);
    engine.received(other, new Message.Hello(++ids, "other", 1, Role.CLIENT, Map.of()));
    engine.received(other, new Message.Subscribe(++ids,
        List.of(new Message.Interest(ADDRESS, Set.of()))));
    return other.of(Message.Kind.PUBLISH);
  }

  /** Three publishes of a root and three commits, every value inline. */
  List<Message.Publish> threePublishes() {
    Cdvcs c = Cdvcs.empty(ADDRESS);
    List<Update> updates = new ArrayList<>();
    updates.add(Cdvcs.create(ADDRESS, "alice", 1));
    c.apply(updates.get(0));
    for (int i = 0; i < 3; i++) {
      Update u = c.transact(List.of(tx("t" + i)), "alice", 2 + i);
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
    grouped.received(other, new Message.Hello(++ids, "other", 1, Role.CLIENT, Map.of()));
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
    grouped.received(other, new Message.Hello(++ids, "other", 1, Role.CLIENT, Map.of()));
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
    engine.submit(Cdvcs.create(ADDRESS, "alice", 1));
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
}
