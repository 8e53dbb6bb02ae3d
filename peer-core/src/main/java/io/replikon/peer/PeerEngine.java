package io.replikon.peer;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.CommitWalk;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.storage.Batch;
import io.replikon.value.Hash;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/*
 * Design note: the replication engine.
 *
 * State. The engine holds the CDVCSs it has loaded (one Cdvcs per address, written through the
 * CdvcsStore), the addresses it is interested in, and per link: whether hello came, what the other
 * peer subscribed to, what this peer subscribed to there, and for each address the heads the other
 * peer is known to have ("known": from its subscribe, its publish-acks, and what was sent to it).
 *
 * Handshake. Both sides send hello first; anything else first is a protocol error. After hello,
 * each side subscribes to its interests with its heads. The answer to a subscribe is a publish of
 * missing(our heads, their heads): only what the subscriber lacks, so a reconnect costs bytes for
 * the new commits, not for the history (the differential handshake). An answer is sent even when
 * nothing is missing, so the subscriber learns that it is in sync.
 *
 * Publish out. What a link lacks is computed once into an outbox (a list of commits, parents
 * first) and sent in publishes of at most maxCommitsPerPublish entries, with the values of whole
 * commits inline up to maxInlineBytes (a commit that does not fit waits for the next publish, so
 * the receiver need not fetch; only a commit larger than a publish is sent with part of its
 * chunks); at most maxUnackedPublishes are in flight per link, the rest go out as acks come back
 * (backpressure at the sender). Values just stored are kept at hand (RecentValues), so a publish
 * that follows a write does not read them back from the store.
 *
 * Publish in. Publishes of one address are handled one at a time, in arrival order. For each: the
 * new commits are found (a commit whose parent is neither stored nor earlier in the publish is a
 * gap: the engine acks, then subscribes again with its heads so the sender fills the gap); the
 * values they need that are neither inline nor stored are fetched from the sender (commit values
 * first, then the chunks they name), each re-hashed on arrival; then everything is written in one
 * batch, the publish is acked, and the new commits are offered to every other link subscribed to
 * the address, never back to the sender. A wrong hash, a value the sender says it lacks, a fetch
 * left unanswered past fetchTimeout (checked on tick): an error, the link closed, nothing stored.
 * A link may hash values itself as it decodes them (Link.verifiesValues: the transport does, on
 * its I/O thread); the engine then hashes only the values it puts together from slices, and the
 * engine's thread, which also writes and syncs the store, is spared the hashing.
 *
 * Grouped syncs. A host that finds several messages of a link waiting hands them over together
 * (receivedAll): each publish they complete is written as above, but the store is synced once at
 * the end, and only then are those publishes acked, reported and relayed (afterSync). An ack
 * never names a commit that is not durable; a burst of publishes costs one sync.
 *
 * Server peers extend subscriptions: an address a link subscribes to or publishes becomes an
 * interest, and the engine subscribes to it on every link, the asking one included, so a client's
 * own commits flow back in and a relay's clients get what its upstream has.
 *
 * Threads. None: the engine is confined to one thread (the caller's), and every call runs to
 * completion. Time comes from the injected clock.
 */

/**
 * The replication engine of a peer: the protocol as logic over a {@link CdvcsStore} and abstract
 * {@link Link}s, with no sockets and no threads.
 *
 * <p><b>Thread safety.</b> Not thread-safe: confine every call to one thread. Calls block on the
 * store; run them on a thread that may block, not on a network event loop.
 *
 * <p><b>Failures.</b> Bad input from a link closes that link with an error and leaves the store as
 * it was; other links are not affected. Store failures propagate to the caller.
 */
public final class PeerEngine {
  /** Values asked for in one fetch, at most. */
  static final int FETCH_GROUP = 8;
  /** Fetches a link may have waiting while it does not read its replies; one more closes it. */
  static final int MAX_DEFERRED_FETCHES = 16;
  /** Bytes of recently stored values kept to serve publishes and fetches without a read. */
  static final long RECENT_VALUE_BYTES = 32L << 20;
  private final EngineConfig config;
  private final CdvcsStore store;
  private final Clock clock;
  private final PeerEvents events;
  private final Map<Long, LinkState> links = new LinkedHashMap<>();
  private final Map<Address, AddressState> addresses = new HashMap<>();
  private final Set<Address> interests = new LinkedHashSet<>();
  private final RecentValues recent = new RecentValues(RECENT_VALUE_BYTES);
  /** True inside {@link #receivedAll}: publishes are written without a sync each. */
  private boolean grouping;
  /** A write was made since the last sync (grouping only). */
  private boolean unsynced;
  /** What waits for the sync: the acks, reports and relays of what was written, in order. */
  private final List<Runnable> afterSync = new ArrayList<>();

  /**
   * Creates an engine. A server engine takes every CDVCS in the store as an interest.
   *
   * @param config limits and identity
   * @param store where CDVCSs are kept
   * @param clock the time source (for fetch timeouts)
   * @param events receives what happens
   */
  public PeerEngine(EngineConfig config, CdvcsStore store, Clock clock, PeerEvents events) {
    this.config = Objects.requireNonNull(config, "config");
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.events = Objects.requireNonNull(events, "events");
    if (config.role() == Message.Role.SERVER) {
      for (CdvcsStore.Summary s : store.list()) {
        interests.add(s.address());
      }
    }
  }

  /** Returns the configuration. */
  public EngineConfig config() {
    return config;
  }

  /** Returns the addresses this peer replicates. */
  public Set<Address> interests() {
    return java.util.Collections.unmodifiableSet(interests);
  }

  /** Returns the CDVCS at {@code address} if this peer holds one. */
  public Optional<Cdvcs> state(Address address) {
    AddressState a = address(address);
    return a.cdvcs.size() == 0 ? Optional.empty() : Optional.of(a.cdvcs);
  }

  /** Returns the number of open links. */
  public int linkCount() {
    return links.size();
  }

  // ---------------------------------------------------------------- local operations

  /**
   * Adds {@code address} to this peer's interests and subscribes to it on every ready link, with
   * the heads held already. Idempotent.
   */
  public void subscribe(Address address) {
    if (interests.add(address)) {
      for (LinkState l : links.values()) {
        if (l.ready()) {
          subscribeOn(l, List.of(address));
        }
      }
    }
  }

  /**
   * Stores a local update (from create, transact, merge, pull or fork), makes the address an
   * interest, and offers the new commits to every link subscribed to the address. The update's
   * values must hash to their ids, as those of updates built by {@link Cdvcs} and
   * {@link io.replikon.cdvcs.Chunk#split} do: they are not hashed again.
   *
   * @return what changed
   */
  public Cdvcs.Preview submit(Update update) {
    return submit(update, new Batch());
  }

  /**
   * Stores a local update as {@link #submit(Update)} does, with {@code alongside} written in the
   * same atomic batch (see {@link CdvcsStore#write(Cdvcs, Update, Batch)}).
   *
   * @return what changed
   */
  public Cdvcs.Preview submit(Update update, Batch alongside) {
    Address address = update.address();
    AddressState a = address(address);
    Cdvcs.Preview change = store.writeVerified(a.cdvcs, update, alongside);
    store.store().sync();
    remember(update);
    subscribe(address);
    if (!change.newCommits().isEmpty()) {
      events.stored(address, null, change);
      offer(address, null);
    }
    return change;
  }

  // ---------------------------------------------------------------- links

  /** A link opened: says hello. */
  public void opened(Link link) {
    LinkState l = new LinkState(link);
    if (links.putIfAbsent(link.id(), l) != null) {
      throw new IllegalStateException("link " + link.id() + " opened twice");
    }
    link.send(new Message.Hello(l.nextId(), config.peerId(), Message.PROTOCOL_VERSION,
        config.role(), Map.of()));
  }

  /** A link closed: forgets it, and drops what it had in flight. */
  public void closed(Link link) {
    LinkState l = links.remove(link.id());
    if (l == null) {
      return;
    }
    for (AddressState a : addresses.values()) {
      a.queue.removeIf(p -> p.from == l);
      if (a.active != null && a.active.from == l) {
        a.active = null;
        drain(a);
      }
    }
    events.disconnected(link);
  }

  /** Checks fetch timeouts; call it about once a second. */
  public void tick() {
    Instant now = clock.instant();
    for (AddressState a : List.copyOf(addresses.values())) {
      Inbound p = a.active;
      if (p != null && p.fetchSentAt != null
          && now.isAfter(p.fetchSentAt.plus(config.fetchTimeout()))) {
        refuse(p.from, ErrorCode.MISSING_CONTENT, "fetch of " + p.fetching.size()
            + " values for a publish of " + a.address + " unanswered for "
            + config.fetchTimeout().toSeconds() + " s");
      }
    }
  }

  /** Handles a message from a link. */
  public void received(Link link, Message message) {
    LinkState l = links.get(link.id());
    if (l == null) {
      return; // closed already; late messages are dropped
    }
    if (l.hello == null && message.kind() != Message.Kind.HELLO) {
      refuse(l, ErrorCode.PROTOCOL, message.kind().wireName() + " before hello");
      return;
    }
    try {
      switch (message.kind()) {
        case HELLO -> onHello(l, (Message.Hello) message);
        case SUBSCRIBE -> onSubscribe(l, (Message.Subscribe) message);
        case SUBSCRIBE_ACK -> { } // the publish that follows carries what matters
        case PUBLISH -> onPublish(l, (Message.Publish) message);
        case PUBLISH_ACK -> onPublishAck(l, (Message.PublishAck) message);
        case FETCH -> onFetch(l, (Message.Fetch) message);
        case FETCH_REPLY -> onFetchReply(l, (Message.FetchReply) message);
        case ERROR -> onError(l, (Message.ErrorReport) message);
      }
    } catch (ReplikonException e) {
      switch (e.reason()) {
        case HASH_MISMATCH -> refuse(l, ErrorCode.HASH_MISMATCH, e.getMessage());
        case MALFORMED_VALUE, INVALID_INPUT -> refuse(l, ErrorCode.MALFORMED, e.getMessage());
        case MISSING_CONTENT -> refuse(l, ErrorCode.MISSING_CONTENT, e.getMessage());
        default -> throw e;
      }
    }
  }

  /**
   * Handles messages from one link in order, as {@link #received} does one by one, but makes
   * durable once for all of them what they store: each publish they complete is written when it
   * completes (so the next sees it), and the store is synced at the end; only then are those
   * publishes acknowledged, reported to {@link PeerEvents#stored} and relayed to other links. A
   * host calls this with the messages that queued up while the engine was busy, so that a burst
   * of publishes costs one sync instead of one each. Nothing is acknowledged before it is durable:
   * if the sync fails, no ack of the group is sent.
   *
   * <p>A failure of one message (a store failure; bad input closes the link as usual) does not
   * stop the others; the first is thrown at the end, after the sync.
   */
  public void receivedAll(Link link, List<Message> messages) {
    if (grouping) {
      throw new IllegalStateException("receivedAll called from inside receivedAll");
    }
    grouping = true;
    RuntimeException failure = null;
    try {
      for (Message m : messages) {
        try {
          received(link, m);
        } catch (RuntimeException e) {
          failure = add(failure, e);
        }
      }
    } finally {
      grouping = false;
      try {
        flushWrites();
      } catch (RuntimeException e) {
        failure = add(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException add(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /**
   * Syncs what was written without a sync, then sends what waited for it: every ack of the group
   * is sent even if reporting one of them fails (the first failure is thrown after).
   */
  private void flushWrites() {
    List<Runnable> due = List.copyOf(afterSync);
    afterSync.clear();
    if (unsynced) {
      unsynced = false;
      store.store().sync(); // if this fails, nothing of the group is acknowledged
    }
    RuntimeException failure = null;
    for (Runnable r : due) {
      try {
        r.run();
      } catch (RuntimeException e) {
        failure = add(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void onHello(LinkState l, Message.Hello hello) {
    if (l.hello != null) {
      refuse(l, ErrorCode.PROTOCOL, "hello twice");
      return;
    }
    if (hello.version() != Message.PROTOCOL_VERSION) {
      refuse(l, ErrorCode.VERSION_MISMATCH, "peer " + hello.peer() + " speaks protocol version "
          + hello.version() + "; this peer speaks " + Message.PROTOCOL_VERSION);
      return;
    }
    l.hello = hello;
    events.connected(l.link, hello);
    if (!interests.isEmpty()) {
      subscribeOn(l, interests);
    }
  }

  private void onSubscribe(LinkState l, Message.Subscribe subscribe) {
    List<Address> accepted = new ArrayList<>();
    for (Message.Interest i : subscribe.interests()) {
      accepted.add(i.address());
      l.theySubscribed.add(i.address());
      // The subscriber's heads are the truth: forget what was assumed it had (a publish in flight
      // may have been lost), and recompute what it lacks from them.
      l.known.put(i.address(), new LinkedHashSet<>(i.heads()));
      l.outbox.remove(i.address());
      l.answerDue.add(i.address());
    }
    l.link.send(new Message.SubscribeAck(l.nextId(), subscribe.id(), accepted));
    if (config.role() == Message.Role.SERVER) {
      for (Address a : accepted) {
        extend(a);
      }
    }
    for (Address a : accepted) {
      sendTo(l, a);
    }
  }

  /**
   * Reports an error the other peer sent. A {@code forbidden} answer to one of our publishes (a
   * client that does not replicate the address) ends that publish as an ack would, and the address
   * is no longer offered on the link: otherwise each such publish would hold a place of the
   * unacknowledged window for good, and the link would stall.
   */
  private void onError(LinkState l, Message.ErrorReport error) {
    events.errorReceived(l.link, error);
    Address refused = error.code() == ErrorCode.FORBIDDEN ? l.sentPublishes.remove(error.re())
        : null;
    if (refused != null) {
      l.unacked--;
      l.theySubscribed.remove(refused);
      l.outbox.remove(refused);
      l.answerDue.remove(refused);
      for (Address a : new ArrayList<>(l.theySubscribed)) {
        sendTo(l, a);
      }
    }
  }

  private void onPublishAck(LinkState l, Message.PublishAck ack) {
    if (l.sentPublishes.remove(ack.re()) != null) {
      l.unacked--;
    }
    l.known.computeIfAbsent(ack.address(), k -> new LinkedHashSet<>()).addAll(ack.heads());
    events.acknowledged(ack.address(), l.link, ack.heads());
    for (Address a : new ArrayList<>(l.theySubscribed)) {
      sendTo(l, a);
    }
  }

  private void onPublish(LinkState l, Message.Publish publish) {
    Address address = publish.address();
    if (!interests.contains(address) && !l.weSubscribed.contains(address)) {
      if (config.role() == Message.Role.CLIENT) {
        l.link.send(new Message.ErrorReport(l.nextId(), publish.id(), ErrorCode.FORBIDDEN,
            "this client does not replicate " + address));
        return;
      }
      extend(address);
    }
    AddressState a = address(address);
    a.queue.add(new Inbound(l, publish));
    l.queued++;
    if (l.queued > 2 * config.maxQueuedPublishes()) {
      refuse(l, ErrorCode.OVERLOADED, l.queued + " publishes waiting from one peer");
      return;
    }
    if (l.queued > config.maxQueuedPublishes() && !l.suspended) {
      l.suspended = true;
      l.link.suspendReading();
    }
    drain(a);
  }

  private void onFetch(LinkState l, Message.Fetch fetch) {
    if (!l.link.isWritable() || !l.deferredFetches.isEmpty()) {
      // The peer is not reading what it asked for: hold its requests, then give up on it.
      if (l.deferredFetches.size() >= MAX_DEFERRED_FETCHES) {
        refuse(l, ErrorCode.OVERLOADED, "more than " + MAX_DEFERRED_FETCHES
            + " fetches waiting while the replies to earlier ones are not read");
        return;
      }
      l.deferredFetches.add(fetch);
      return;
    }
    serveFetch(l, fetch);
  }

  /**
   * The host reports that a link drained what was sent to it: serves the fetches it deferred,
   * while the link stays writable.
   */
  public void writable(Link link) {
    LinkState l = links.get(link.id());
    while (l != null && !l.deferredFetches.isEmpty() && link.isWritable()) {
      serveFetch(l, l.deferredFetches.poll());
    }
  }

  private void serveFetch(LinkState l, Message.Fetch fetch) {
    List<Message.Slice> slices = new ArrayList<>();
    long bytes = 0;
    for (Hash h : fetch.hashes()) {
      byte[] v = value(h);
      if (v == null) {
        slices.add(new Message.Slice(h, 0, -1, new byte[0]));
        continue;
      }
      int offset = 0;
      do {
        int n = Math.min(v.length - offset, Message.MAX_SLICE_BYTES);
        if (bytes + n > Message.MAX_SLICE_BYTES && !slices.isEmpty()) {
          l.link.send(new Message.FetchReply(l.nextId(), fetch.id(), slices, false));
          slices = new ArrayList<>();
          bytes = 0;
        }
        byte[] part = offset == 0 && n == v.length ? v : java.util.Arrays.copyOfRange(v, offset,
            offset + n);
        slices.add(new Message.Slice(h, offset, v.length, part));
        bytes += n;
        offset += n;
      } while (offset < v.length);
    }
    l.link.send(new Message.FetchReply(l.nextId(), fetch.id(), slices, true));
  }

  private void onFetchReply(LinkState l, Message.FetchReply reply) {
    for (AddressState a : addresses.values()) {
      Inbound p = a.active;
      if (p != null && p.from == l && p.fetchId == reply.re()) {
        events.fetched(l.link, reply.slices());
        try {
          onSlices(a, p, reply);
        } catch (ReplikonException e) {
          fail(p, e);
        }
        return;
      }
    }
    // an answer to a publish that was dropped (its link closed, or a duplicate): nothing to do
  }

  private void onSlices(AddressState a, Inbound p, Message.FetchReply reply) {
    LinkState l = p.from;
    for (Message.Slice s : reply.slices()) {
      p.accept(s);
    }
    if (reply.last()) {
      p.fetchSentAt = null;
      p.fetchId = -1;
      List<Hash> lacking = new ArrayList<>();
      for (Hash h : p.fetching) {
        if (!p.values.containsKey(h)) {
          lacking.add(h);
        }
      }
      if (!lacking.isEmpty()) {
        refuse(l, ErrorCode.MISSING_CONTENT, "publish of " + a.address + " references "
            + lacking.size() + " values the sender does not serve, e.g. " + lacking.get(0));
        return;
      }
      p.fetching.clear();
      if (!p.toFetch.isEmpty()) {
        fetchNextGroup(p);
        return;
      }
      advance(a);
    }
  }

  // ---------------------------------------------------------------- inbound publishes

  /** Starts the next queued publish of an address if none is active. */
  private void drain(AddressState a) {
    while (a.active == null && !a.queue.isEmpty()) {
      Inbound p = a.queue.poll();
      LinkState from = p.from;
      from.queued--;
      if (from.suspended && from.queued <= config.maxQueuedPublishes() / 2) {
        from.suspended = false;
        from.link.resumeReading();
      }
      if (!links.containsKey(from.link.id())) {
        continue;
      }
      a.active = p;
      try {
        start(a, p);
      } catch (ReplikonException e) {
        fail(p, e);
      }
    }
  }

  /** Closes the link a bad publish came from: its values did not hash, decode or arrive. */
  private void fail(Inbound p, ReplikonException e) {
    ErrorCode code = switch (e.reason()) {
      case HASH_MISMATCH -> ErrorCode.HASH_MISMATCH;
      case MISSING_CONTENT -> ErrorCode.MISSING_CONTENT;
      case MALFORMED_VALUE, INVALID_INPUT -> ErrorCode.MALFORMED;
      default -> throw e;
    };
    if (links.containsKey(p.from.link.id())) {
      refuse(p.from, code, e.getMessage());
    }
  }

  private void start(AddressState a, Inbound p) {
    Update offered = new Update(a.address, p.publish.commits(), Map.of(), Map.of());
    Cdvcs.Preview preview;
    try {
      preview = a.cdvcs.preview(offered);
    } catch (IllegalArgumentException gap) {
      // A parent is neither stored nor in the publish: something went missing on the way. Ask
      // again with what this peer has; the sender answers with the difference.
      finish(a, p, false);
      subscribeOn(p.from, List.of(a.address));
      return;
    }
    p.fresh = preview.newCommits();
    // Inline values are checked on arrival, as fetched ones are: a forgery ends the link at once.
    boolean verified = p.from.link.verifiesValues();
    p.publish.values().forEach((h, v) -> p.keep(h, v, verified));
    if (p.fresh.isEmpty()) {
      finish(a, p, true);
      return;
    }
    List<Hash> need = new ArrayList<>();
    for (Update.Entry e : p.fresh) {
      if (!p.values.containsKey(e.id()) && !store.hasValue(e.id())) {
        need.add(e.id());
      }
    }
    p.phase = need.isEmpty() ? Phase.CHUNKS : Phase.COMMITS;
    if (!need.isEmpty()) {
      fetch(p, need);
      return;
    }
    advance(a);
  }

  /** Moves a publish on once the values of its phase are in. */
  private void advance(AddressState a) {
    Inbound p = a.active;
    if (p.phase == Phase.COMMITS) {
      p.phase = Phase.CHUNKS;
    }
    if (p.phase == Phase.CHUNKS) {
      List<Hash> need = new ArrayList<>();
      Set<Hash> seen = new HashSet<>();
      for (Update.Entry e : p.fresh) {
        byte[] value = p.values.get(e.id());
        Commit commit = Commit.decode(value != null ? value : store.value(e.id()).orElseThrow());
        for (Hash chunk : commit.chunks()) {
          if (seen.add(chunk) && !p.values.containsKey(chunk) && !store.hasValue(chunk)) {
            need.add(chunk);
          }
        }
      }
      p.phase = Phase.WRITE;
      if (!need.isEmpty()) {
        fetch(p, need);
        return;
      }
    }
    write(a, p);
  }

  /** Queues values to fetch and asks for the first group of them. */
  private void fetch(Inbound p, List<Hash> hashes) {
    p.toFetch.addAll(hashes);
    fetchNextGroup(p);
  }

  /**
   * Asks for the next {@link #FETCH_GROUP} queued values: a sender never has to read more than a
   * few MiB at once for one fetch, whatever the size of the commit.
   */
  private void fetchNextGroup(Inbound p) {
    List<Hash> group = new ArrayList<>();
    while (!p.toFetch.isEmpty() && group.size() < FETCH_GROUP) {
      group.add(p.toFetch.poll());
    }
    p.fetching.clear();
    p.fetching.addAll(group);
    p.fetchId = p.from.nextId();
    p.fetchSentAt = clock.instant();
    p.from.link.send(new Message.Fetch(p.fetchId, group));
  }

  private void write(AddressState a, Inbound p) {
    Map<Hash, byte[]> commitValues = new HashMap<>();
    Map<Hash, byte[]> chunkValues = new HashMap<>();
    Set<Hash> freshIds = new HashSet<>();
    p.fresh.forEach(e -> freshIds.add(e.id()));
    p.values.forEach((h, v) -> (freshIds.contains(h) ? commitValues : chunkValues).put(h, v));
    Update update = new Update(a.address, p.fresh, commitValues, chunkValues);
    // Every value of p was hashed as it arrived (Inbound.keep): no second hashing.
    Cdvcs.Preview change = store.writeVerified(a.cdvcs, update);
    remember(update);
    Set<Hash> known = p.from.known.computeIfAbsent(a.address, k -> new LinkedHashSet<>());
    for (Update.Entry e : change.newCommits()) {
      advanceKnown(known, e);
    }
    a.active = null;
    Runnable stored = () -> {
      acknowledge(a, p, true);
      if (!change.newCommits().isEmpty()) {
        events.stored(a.address, p.from.link, change);
        offer(a.address, p.from);
      }
    };
    if (grouping) {
      unsynced = true;
      afterSync.add(stored);
    } else {
      store.store().sync();
      stored.run();
    }
    drain(a);
  }

  /** Acks a publish that stores nothing new, once what it acks is durable, and starts the next. */
  private void finish(AddressState a, Inbound p, boolean complete) {
    a.active = null;
    if (grouping && unsynced) {
      afterSync.add(() -> acknowledge(a, p, complete)); // its ack names heads not yet synced
    } else {
      acknowledge(a, p, complete);
    }
    drain(a);
  }

  /** Acks a publish with this peer's heads, and reports a completed sync. */
  private void acknowledge(AddressState a, Inbound p, boolean complete) {
    LinkState from = p.from;
    if (links.containsKey(from.link.id())) {
      from.link.send(new Message.PublishAck(from.nextId(), p.publish.id(), a.address,
          a.cdvcs.heads()));
      boolean synced = complete
          && a.cdvcs.graph().heads().isEmpty() == p.publish.heads().isEmpty()
          && p.publish.heads().stream().allMatch(a.cdvcs.graph()::contains);
      if (synced) {
        events.synced(a.address, from.link);
        if (from.awaitingAnswer.remove(a.address) && from.theySubscribed.contains(a.address)) {
          sendTo(from, a.address); // an answer held back for heads this peer now knows
        }
      }
    }
  }

  // ---------------------------------------------------------------- outbound publishes

  /** Offers an address's new commits to every subscribed link but {@code except}. */
  private void offer(Address address, LinkState except) {
    for (LinkState l : links.values()) {
      if (l != except && l.ready() && l.theySubscribed.contains(address)) {
        sendTo(l, address);
      }
    }
  }

  /** Sends a link what it lacks of an address, within its window of unacked publishes. */
  private void sendTo(LinkState l, Address address) {
    AddressState a = address(address);
    while (l.unacked < config.maxUnackedPublishes()) {
      Deque<Hash> outbox = l.outbox.get(address);
      if (outbox == null || outbox.isEmpty()) {
        Set<Hash> known = l.known.getOrDefault(address, Set.of());
        if (l.awaitingAnswer.contains(address) && defersTo(l)
            && !known.stream().allMatch(a.cdvcs.graph()::contains)) {
          // The other peer holds heads this one does not know, so missing() would ignore them
          // and send it the whole history. Its answer to our subscribe brings them: wait for it
          // (finish() comes back here). One side of a link only, so two never wait on each other.
          return;
        }
        List<Hash> missing = a.cdvcs.size() == 0 ? List.of()
            : CommitWalk.missing(a.cdvcs.graph(), a.cdvcs.heads(), known);
        if (missing.isEmpty()) {
          if (l.answerDue.remove(address)) {
            send(l, new Message.Publish(l.nextId(), address, List.of(), a.cdvcs.heads(),
                Map.of()));
          }
          return;
        }
        outbox = new ArrayDeque<>(missing);
        l.outbox.put(address, outbox);
      }
      l.answerDue.remove(address);
      publishBatch(l, a, outbox);
    }
  }

  /** Sends a publish and counts it unacknowledged until its ack (or a forbidden answer). */
  private static void send(LinkState l, Message.Publish publish) {
    l.unacked++;
    l.sentPublishes.put(publish.id(), publish.address());
    l.link.send(publish);
  }

  /**
   * Sends the next publish of an outbox: its commits with their values inline, up to
   * maxInlineBytes. A commit whose values do not all fit waits for the next publish, so that the
   * receiver need not fetch; only the first commit of a publish may be sent with part of its
   * chunks (a commit larger than a publish), and the receiver fetches the rest.
   */
  private void publishBatch(LinkState l, AddressState a, Deque<Hash> outbox) {
    List<Update.Entry> entries = new ArrayList<>();
    Map<Hash, byte[]> values = new LinkedHashMap<>();
    long inline = 0;
    Set<Hash> known = l.known.computeIfAbsent(a.address, k -> new LinkedHashSet<>());
    while (!outbox.isEmpty() && entries.size() < config.maxCommitsPerPublish()) {
      Hash id = outbox.peek();
      if (!a.cdvcs.graph().contains(id)) {
        outbox.poll();
        continue;
      }
      byte[] commitValue = value(id);
      if (commitValue == null) {
        throw new IllegalStateException("commit " + id + " of " + a.address + " is in the graph"
            + " but its value is not stored");
      }
      List<Hash> chunks = Commit.decode(commitValue).chunks();
      // Read the chunks that fit; stop at the first that does not (or is not stored).
      List<byte[]> fitting = new ArrayList<>(chunks.size());
      long size = inline + commitValue.length;
      for (Hash chunk : chunks) {
        byte[] bytes = value(chunk);
        if (bytes == null || size + bytes.length > config.maxInlineBytes()) {
          if (bytes != null && !entries.isEmpty()) {
            recent.put(chunk, bytes); // read once: the next publish starts with this commit
          }
          break;
        }
        fitting.add(bytes);
        size += bytes.length;
      }
      boolean full = fitting.size() < chunks.size();
      if (full && !entries.isEmpty()) {
        for (int i = 0; i < fitting.size(); i++) {
          recent.put(chunks.get(i), fitting.get(i));
        }
        break; // this commit goes first in the next publish
      }
      outbox.poll();
      Update.Entry entry = new Update.Entry(id, a.cdvcs.graph().parents(id));
      entries.add(entry);
      values.put(id, commitValue);
      for (int i = 0; i < fitting.size(); i++) {
        values.put(chunks.get(i), fitting.get(i));
      }
      inline = size;
      advanceKnown(known, entry);
      if (full || inline >= config.maxInlineBytes()) {
        break; // the receiver fetches the chunks that did not fit
      }
    }
    if (entries.isEmpty()) {
      return;
    }
    send(l, new Message.Publish(l.nextId(), a.address, entries, a.cdvcs.heads(), values));
  }

  /** Returns a stored value, from the recently stored ones if it is there, or null. */
  private byte[] value(Hash hash) {
    byte[] v = recent.get(hash);
    return v != null ? v : store.value(hash).orElse(null);
  }

  /** Keeps the values of a stored update at hand for the publishes that follow. */
  private void remember(Update update) {
    recent.putAll(update.commitValues());
    recent.putAll(update.chunkValues());
  }

  /**
   * Records that a peer has a commit: it replaces its parents among the heads known to be there
   * (they are implied), so the set stays about as small as the peer's heads.
   */
  private static void advanceKnown(Set<Hash> known, Update.Entry e) {
    e.parents().forEach(known::remove);
    known.add(e.id());
  }

  // ---------------------------------------------------------------- subscriptions

  private void subscribeOn(LinkState l, Collection<Address> wanted) {
    List<Message.Interest> list = new ArrayList<>();
    for (Address address : wanted) {
      l.weSubscribed.add(address);
      l.awaitingAnswer.add(address);
      list.add(new Message.Interest(address, address(address).cdvcs.heads()));
    }
    l.link.send(new Message.Subscribe(l.nextId(), list));
  }

  /** A server's new interest: subscribe to it on every ready link that lacks the subscription. */
  private void extend(Address address) {
    interests.add(address);
    for (LinkState l : links.values()) {
      if (l.ready() && !l.weSubscribed.contains(address)) {
        subscribeOn(l, List.of(address));
      }
    }
  }

  /**
   * Whether this peer holds back its answer to a subscribe with unknown heads until the other
   * peer's answer arrives: a client towards a server; between equals, the smaller peer id.
   */
  private boolean defersTo(LinkState l) {
    if (config.role() != l.hello.role()) {
      return config.role() == Message.Role.CLIENT;
    }
    return config.peerId().compareTo(l.hello.peer()) < 0;
  }

  private void refuse(LinkState l, ErrorCode code, String reason) {
    events.refused(l.link, code, reason);
    l.link.close(new Message.ErrorReport(l.nextId(), 0, code, reason));
    closed(l.link);
  }

  private AddressState address(Address address) {
    return addresses.computeIfAbsent(address, k -> new AddressState(k,
        store.summary(k).isPresent() ? store.load(k) : Cdvcs.empty(k)));
  }

  // ---------------------------------------------------------------- state records

  private enum Phase { COMMITS, CHUNKS, WRITE }

  /** One publish being handled: the values it brought or that were fetched for it. */
  private static final class Inbound {
    final LinkState from;
    final Message.Publish publish;
    final Map<Hash, byte[]> values = new HashMap<>();
    final Map<Hash, Partial> partial = new HashMap<>();
    final Set<Hash> fetching = new LinkedHashSet<>();
    final Deque<Hash> toFetch = new ArrayDeque<>();
    List<Update.Entry> fresh = List.of();
    Phase phase = Phase.COMMITS;
    long fetchId = -1;
    Instant fetchSentAt;

    Inbound(LinkState from, Message.Publish publish) {
      this.from = from;
      this.publish = publish;
    }

    /** Takes a slice; a value is kept once whole and hashing to its id. */
    void accept(Message.Slice s) {
      if (s.isMissing() || !fetching.contains(s.hash()) || values.containsKey(s.hash())) {
        return;
      }
      if (s.offset() == 0 && s.bytes().length == s.total()) {
        keep(s.hash(), s.bytes(), from.link.verifiesValues());
        return;
      }
      if (s.total() > Integer.MAX_VALUE - 16 || s.offset() < 0
          || s.offset() + s.bytes().length > s.total()) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
            "slice of " + s.hash() + " out of range");
      }
      Partial value = partial.computeIfAbsent(s.hash(), h -> new Partial((int) s.total()));
      if (value.buffer.length != s.total()) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
            "slices of " + s.hash() + " disagree on its length");
      }
      System.arraycopy(s.bytes(), 0, value.buffer, (int) s.offset(), s.bytes().length);
      value.filled += s.bytes().length;
      if (value.filled >= value.buffer.length) {
        partial.remove(s.hash());
        keep(s.hash(), value.buffer, false);
      }
    }

    /**
     * Keeps a value of the publish; hashes it first unless the link that delivered it already
     * did ({@code verified}, see {@link Link#verifiesValues()}).
     */
    void keep(Hash hash, byte[] bytes, boolean verified) {
      if (!verified) {
        Hash actual = Hash.sha256(bytes);
        if (!actual.equals(hash)) {
          throw new ReplikonException(ReplikonException.Reason.HASH_MISMATCH,
              "fetched value " + hash + " hashes to " + actual);
        }
      }
      values.put(hash, bytes);
    }
  }

  /** A value arriving in slices (each slice is sent once, so the byte count tells the end). */
  private static final class Partial {
    final byte[] buffer;
    int filled;

    Partial(int length) {
      this.buffer = new byte[length];
    }
  }

  private static final class AddressState {
    final Address address;
    final Cdvcs cdvcs;
    final Deque<Inbound> queue = new ArrayDeque<>();
    Inbound active;

    AddressState(Address address, Cdvcs cdvcs) {
      this.address = address;
      this.cdvcs = cdvcs;
    }
  }

  private static final class LinkState {
    final Link link;
    Message.Hello hello;
    long lastId;
    int unacked;
    /** Publishes sent and not yet acknowledged: id to address. */
    final Map<Long, Address> sentPublishes = new HashMap<>();
    int queued;
    boolean suspended;
    final Set<Address> theySubscribed = new LinkedHashSet<>();
    final Set<Address> weSubscribed = new LinkedHashSet<>();
    final Set<Address> answerDue = new LinkedHashSet<>();
    /** Addresses subscribed to on this link and not yet answered by a complete publish. */
    final Set<Address> awaitingAnswer = new HashSet<>();
    final Map<Address, Set<Hash>> known = new HashMap<>();
    final Map<Address, Deque<Hash>> outbox = new HashMap<>();
    final Deque<Message.Fetch> deferredFetches = new ArrayDeque<>();

    LinkState(Link link) {
      this.link = link;
    }

    boolean ready() {
      return hello != null;
    }

    long nextId() {
      return ++lastId;
    }
  }
}
