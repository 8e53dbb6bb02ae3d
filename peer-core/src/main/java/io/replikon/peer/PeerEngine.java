package io.replikon.peer;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.CommitWalk;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.protocol.MessageCodec;
import io.replikon.protocol.Printable;
import io.replikon.storage.Batch;
import io.replikon.trust.Challenge;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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
 * interest, and the engine subscribes to it on every server link and on the asking link, so a
 * client's own commits flow back in and a relay's clients get what its upstream has. A client
 * link is never sent a subscribe for an address it did not subscribe to or publish itself.
 *
 * Hostile links. Everything a link can make this peer hold is bounded (EngineConfig.LinkLimits):
 * the addresses it subscribes to or brings, the hashes of a fetch (repeats removed) and the
 * fetches waiting for an answer, the bytes a fetch-reply slice may declare (by what was asked
 * for: a commit value or a chunk), the time it may take to say hello. Past a bound the link is
 * answered with an error and closed (PeerEvents.refused); other links go on. Fetches are answered
 * one reply at a time while the link is writable, and publishes wait for writability too, so what
 * is queued toward a link that does not read stays about one reply or publish past the
 * transport's byte budget, whatever it asks for.
 *
 * Trust. Every commit carries its signer's signature of its id (Update.Entry.signature). Before
 * a publish is written, each new commit is decoded and checked: its address is the publish's, its
 * signature verifies against the signer its value names, and the access policy lets that signer
 * write the address (self-certifying addresses: only their own key; a writers list: only listed
 * keys). A failure refuses that publish as forbidden (PeerEvents.forbidden), stores nothing of it
 * and keeps the link; the link remembers the refused address, so the rest of a refused history
 * does not make it ask again. A link's transport may have verified the signatures of inline
 * commits already (VerifyingKey remembers good ones), which makes the check a lookup. Local
 * commits are authorized, not verified again (Cdvcs signed them). With a readers list, this
 * peer's hello carries a challenge, and the link is not ready (nothing is sent to it, nothing but
 * auth and error taken from it) until its auth proves a listed key for this connection.
 *
 * Store failures. A write that fails (a full disk) or a stored value that cannot be read (a
 * damaged file) is not the other peer's fault: the publish or subscribe it concerns is answered
 * with an error internal that says what failed, the link stays open (PeerEvents.storeFailed), and
 * the engine goes on with the next publish. A sender answered internal for one of its publishes
 * backs off for that address on that link (1 s, doubling up to a minute), then offers again from
 * the heads the receiver last confirmed.
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
 * <p><b>Failures.</b> Bad input from a link, or more than {@link EngineConfig.LinkLimits} allow,
 * closes that link with an error and leaves the store as it was; other links are not affected. A
 * store write or read that fails on what a link sent or asked for is answered to that link with
 * an error {@code internal} (the link stays open); a failed sync, and a store failure of a local
 * operation, propagate to the caller.
 */
public final class PeerEngine {
  /** Values asked for in one fetch, at most. */
  static final int FETCH_GROUP = 8;
  /**
   * The largest commit value this peer assembles from fetch-reply slices: 256 KiB, room for a
   * commit naming about 7,700 chunks (7.5 GiB of transactions) or as many parents. A slice that
   * declares a larger total for a commit value is refused before anything is allocated. (Commit
   * values normally travel inline in the publish that names them.)
   */
  static final int MAX_COMMIT_VALUE_BYTES = 256 << 10;
  /**
   * Bytes of inline values that the publishes of one link, received and not yet stored, may hold:
   * 64 MiB, twice what a window of 8 publishes of 4 MiB brings. One more publish past it closes
   * the link as overloaded.
   */
  static final long MAX_HELD_BYTES_PER_LINK = 64L << 20;
  /**
   * Bytes of values that one link may have this peer assemble from slices at once: 16 MiB, two
   * fetch groups of the largest chunks. (A value within one reply needs no assembly.)
   */
  static final long MAX_PARTIAL_BYTES_PER_LINK = 2L * FETCH_GROUP * Chunk.MAX_BYTES;
  /** The first wait before offering an address again to a peer that could not store it. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  /** The longest such wait. */
  static final Duration LAST_RETRY = Duration.ofMinutes(1);
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
  /** A write was made since the last sync that succeeded. */
  private boolean unsynced;
  /** What waits for the sync: the acks, reports and relays of what was written, in order. */
  private final List<Pending> afterSync = new ArrayList<>();

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
        if (l.ready() && announcesTo(l, address)) {
          subscribeOn(l, List.of(address));
        }
      }
    }
  }

  /**
   * Stores a local update (from create, transact, merge, pull or fork), makes the address an
   * interest, and offers the new commits to every link subscribed to the address. The update's
   * values must hash to their ids, as those of updates built by {@link Cdvcs} and
   * {@link io.replikon.cdvcs.Chunk#split} do: they are not hashed again. Nor are signatures
   * verified again: {@link Cdvcs} signs the commits it makes, and those of a pull or fork were
   * verified when they came in (an Ed25519 verification costs about as much as hashing 1 MiB).
   * Each new commit's signer must be one that this peer's access policy lets write the address, as
   * for commits that come from other peers.
   *
   * @return what changed
   * @throws ReplikonException {@code FORBIDDEN} if a new commit's signer may not write the address
   *     (nothing is stored)
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
    AccessPolicy access = config.trust().access().get();
    for (Update.Entry e : a.cdvcs.preview(update).newCommits()) {
      byte[] value = update.commitValues().get(e.id());
      Commit commit = value != null ? Commit.decode(value) : store.commit(e.id());
      Optional<String> refusal = access.writeRefusal(address, commit.signer());
      if (refusal.isPresent()) {
        throw new ReplikonException(ReplikonException.Reason.FORBIDDEN, "cannot commit to "
            + address + ": " + refusal.get());
      }
    }
    Cdvcs.Preview change = store.writeVerified(a.cdvcs, update, alongside);
    store.store().sync();
    unsynced = false; // this sync covers what an earlier, failed one left
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
    LinkState l = new LinkState(link, clock.instant());
    if (links.putIfAbsent(link.id(), l) != null) {
      throw new IllegalStateException("link " + link.id() + " opened twice");
    }
    Optional<Challenge> challenge = Optional.empty();
    if (config.trust().access().get().readsNeedProof()) {
      l.challenge = config.trust().challenges().get();
      challenge = Optional.of(l.challenge);
    }
    link.send(new Message.Hello(l.nextId(), config.peerId(), Message.PROTOCOL_VERSION,
        config.role(), Map.of(), challenge));
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

  /**
   * Checks the hello and fetch timeouts, and offers again what waited for a peer that could not
   * store it; call it about once a second.
   */
  public void tick() {
    Instant now = clock.instant();
    Duration helloTimeout = config.limits().helloTimeout();
    for (LinkState l : List.copyOf(links.values())) {
      if (!l.ready() && now.isAfter(l.openedAt.plus(helloTimeout))) {
        refuse(l, ErrorCode.PROTOCOL, (l.hello == null ? "no hello"
            : "no proof of a key (auth) after hello") + " within " + helloTimeout.toSeconds()
            + " s");
      }
    }
    for (LinkState l : List.copyOf(links.values())) {
      List<Address> due = new ArrayList<>();
      for (Iterator<Map.Entry<Address, Retry>> it = l.retries.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<Address, Retry> r = it.next();
        if (r.getValue().waiting && !now.isBefore(r.getValue().at)) {
          r.getValue().waiting = false;
          due.add(r.getKey());
        }
      }
      for (Address a : due) {
        if (links.containsKey(l.link.id()) && l.theySubscribed.contains(a)) {
          sendTo(l, a);
        }
      }
    }
    for (AddressState a : List.copyOf(addresses.values())) {
      Inbound p = a.active;
      if (p != null && p.fetchSentAt != null && links.containsKey(p.from.link.id())
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
    if (l.hello != null && !l.ready() && message.kind() != Message.Kind.AUTH
        && message.kind() != Message.Kind.ERROR) {
      forbid(l, PeerEvents.Forbidden.READER, "this peer takes reads only from listed keys: prove"
          + " one (auth, answering the challenge of its hello) before "
          + message.kind().wireName());
      return;
    }
    try {
      switch (message.kind()) {
        case HELLO -> onHello(l, (Message.Hello) message);
        case AUTH -> onAuth(l, (Message.Auth) message);
        case SUBSCRIBE -> onSubscribe(l, (Message.Subscribe) message);
        case SUBSCRIBE_ACK -> { } // the publish that follows carries what matters
        case PUBLISH -> onPublish(l, (Message.Publish) message);
        case PUBLISH_ACK -> onPublishAck(l, (Message.PublishAck) message);
        case FETCH -> onFetch(l, (Message.Fetch) message);
        case FETCH_REPLY -> onFetchReply(l, (Message.FetchReply) message);
        case ERROR -> onError(l, (Message.ErrorReport) message);
      }
    } catch (ReplikonException e) {
      ErrorCode code = peerFault(e);
      if (code == null) {
        throw e;
      }
      if (links.containsKey(l.link.id())) {
        refuse(l, code, e.getMessage());
      }
    }
  }

  /**
   * Returns the error code for a failure caused by what the other peer sent, or null for one that
   * is not its fault (the store's, this peer's).
   */
  private static ErrorCode peerFault(ReplikonException e) {
    return switch (e.reason()) {
      case HASH_MISMATCH -> ErrorCode.HASH_MISMATCH;
      case MALFORMED_VALUE, INVALID_INPUT -> ErrorCode.MALFORMED;
      case MISSING_CONTENT -> ErrorCode.MISSING_CONTENT;
      case PROTOCOL -> ErrorCode.PROTOCOL;
      case TOO_LARGE -> ErrorCode.TOO_LARGE;
      case OVERLOADED -> ErrorCode.OVERLOADED;
      default -> null;
    };
  }

  /** Returns true for a failure of this peer's store: a write refused, a value unreadable. */
  private static boolean storeFault(ReplikonException e) {
    return e.reason() == ReplikonException.Reason.STORE_IO
        || e.reason() == ReplikonException.Reason.STORE_CLOSED;
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
    Throwable failure = null;
    try {
      for (Message m : messages) {
        try {
          received(link, m);
        } catch (RuntimeException | Error e) {
          failure = add(failure, e);
        }
      }
    } finally {
      grouping = false;
      try {
        flushWrites();
      } catch (RuntimeException | Error e) {
        failure = add(failure, e);
      }
    }
    rethrow(failure);
  }

  private static Throwable add(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /** Throws an unchecked throwable collected by {@link #add}, if any. */
  private static void rethrow(Throwable failure) {
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
  }

  /**
   * Syncs what was written without a sync, then sends what waited for it: every ack of the group
   * is sent even if reporting one of them fails (the first failure, an Error included, is thrown
   * after).
   */
  private void flushWrites() {
    List<Pending> due = List.copyOf(afterSync);
    afterSync.clear();
    if (unsynced) {
      try {
        store.store().sync();
        unsynced = false;
      } catch (RuntimeException e) {
        // Nothing of the group is acknowledged: each publish is answered internal instead, so
        // its sender backs off rather than waits. What was written stays "unsynced": the next
        // ack waits for a sync that succeeds.
        for (Pending d : due) {
          answerStoreFailure(d.publish(), "this peer could not make the publish of "
              + d.address() + " durable", e);
        }
        throw e;
      }
    }
    Throwable failure = null;
    for (Pending d : due) {
      try {
        d.afterSync().run();
      } catch (RuntimeException | Error e) {
        failure = add(failure, e); // the acks of the other links of the group still go out
      }
    }
    rethrow(failure);
  }

  private void onHello(LinkState l, Message.Hello hello) {
    if (l.hello != null) {
      refuse(l, ErrorCode.PROTOCOL, "hello twice");
      return;
    }
    int maxId = config.limits().maxPeerIdChars();
    if (hello.peer().length() > maxId) {
      refuse(l, ErrorCode.MALFORMED, "a peer id of " + hello.peer().length()
          + " characters; this peer takes at most " + maxId);
      return;
    }
    if (hello.version() != Message.PROTOCOL_VERSION) {
      refuse(l, ErrorCode.VERSION_MISMATCH, "peer " + Printable.of(hello.peer())
          + " speaks protocol version " + hello.version() + "; this peer speaks "
          + Message.PROTOCOL_VERSION);
      return;
    }
    l.hello = hello;
    events.connected(l.link, hello);
    if (hello.challenge().isPresent()) {
      SigningKey key = config.trust().key();
      l.link.send(new Message.Auth(l.nextId(), key.verifyingKey(),
          key.prove(hello.challenge().get(), hello.peer(), config.peerId())));
    }
    if (l.ready()) {
      subscribeToInterests(l);
    }
  }

  /**
   * Takes the other side's proof of a key, answering this peer's challenge: a proof that does not
   * verify for this connection (a wrong key, a signature made for another connection) or a key
   * this peer takes no reads from closes the link as {@code forbidden}; a good one opens it.
   */
  private void onAuth(LinkState l, Message.Auth auth) {
    if (l.challenge == null || l.proven != null) {
      refuse(l, ErrorCode.PROTOCOL, l.challenge == null ? "auth that this peer did not ask for"
          : "auth twice");
      return;
    }
    if (!auth.key().verifiesProof(l.challenge, config.peerId(), l.hello.peer(),
        auth.signature())) {
      forbid(l, PeerEvents.Forbidden.READER, "the proof of key " + auth.key() + " does not"
          + " verify for this connection (signed with another key, or for another connection)");
      return;
    }
    Optional<String> refusal = config.trust().access().get().readRefusal(auth.key());
    if (refusal.isPresent()) {
      forbid(l, PeerEvents.Forbidden.READER, refusal.get());
      return;
    }
    l.proven = auth.key();
    events.proven(l.link, auth.key());
    subscribeToInterests(l);
  }

  /** Closes a link as {@code forbidden}, reporting what it was for; the answer's re is 0. */
  private void forbid(LinkState l, PeerEvents.Forbidden kind, String reason) {
    events.forbidden(l.link, kind, reason);
    refuse(l, ErrorCode.FORBIDDEN, reason);
  }

  /** After hello (and proof, where asked for): subscribes to the interests it may see. */
  private void subscribeToInterests(LinkState l) {
    List<Address> wanted = new ArrayList<>();
    for (Address a : interests) {
      if (announcesTo(l, a)) {
        wanted.add(a);
      }
    }
    if (!wanted.isEmpty()) {
      subscribeOn(l, wanted);
    }
  }

  private void onSubscribe(LinkState l, Message.Subscribe subscribe) {
    Set<Address> fresh = new LinkedHashSet<>();
    for (Message.Interest i : subscribe.interests()) {
      if (!l.claimed.contains(i.address())) {
        fresh.add(i.address());
      }
    }
    int max = config.limits().maxSubscriptions();
    if (l.claimed.size() + fresh.size() > max) {
      refuse(l, ErrorCode.OVERLOADED, "a subscribe that would bring this connection to "
          + (l.claimed.size() + fresh.size()) + " addresses; this peer takes at most " + max
          + " per connection");
      return;
    }
    l.claimed.addAll(fresh);
    List<Address> accepted = new ArrayList<>();
    for (Message.Interest i : subscribe.interests()) {
      accepted.add(i.address());
      l.theySubscribed.add(i.address());
      l.subscribeIds.put(i.address(), subscribe.id());
      // The subscriber's heads are the truth: forget what was assumed it had (a publish in flight
      // may have been lost), and recompute what it lacks from them.
      l.known.put(i.address(), new LinkedHashSet<>(i.heads()));
      l.confirmed.put(i.address(), Set.copyOf(i.heads()));
      l.outbox.remove(i.address());
      l.answerDue.add(i.address());
    }
    l.link.send(new Message.SubscribeAck(l.nextId(), subscribe.id(), accepted));
    if (config.role() == Message.Role.SERVER) {
      extend(accepted);
    }
    for (Address a : accepted) {
      if (!links.containsKey(l.link.id())) {
        return;
      }
      sendTo(l, a);
    }
  }

  /**
   * Reports an error the other peer sent. A {@code forbidden} answer to one of our publishes (a
   * client that does not replicate the address) ends that publish as an ack would, and the address
   * is no longer offered on the link: otherwise each such publish would hold a place of the
   * unacknowledged window for good, and the link would stall. An {@code internal} answer to one
   * of our publishes (the other peer could not store it: a full disk) ends it too, and the address
   * waits on that link (1 s, doubling up to a minute) before it is offered again from the heads
   * the other peer last confirmed. An error answering a fetch of ours (the other peer cannot read
   * a value it offered) ends the publish that needed it: the link is closed as missing content.
   */
  private void onError(LinkState l, Message.ErrorReport error) {
    events.errorReceived(l.link, error);
    if (error.re() == 0) {
      return;
    }
    for (AddressState a : addresses.values()) {
      Inbound p = a.active;
      if (p != null && p.from == l && p.fetchId == error.re()) {
        refuse(l, ErrorCode.MISSING_CONTENT, "the publish of " + a.address + " needs values"
            + " the sender could not serve: " + Printable.of(error.message()));
        return;
      }
    }
    Address refused = error.code() == ErrorCode.FORBIDDEN
        || error.code() == ErrorCode.INTERNAL ? l.sentPublishes.remove(error.re()) : null;
    if (refused == null) {
      return;
    }
    l.unacked--;
    l.outbox.remove(refused);
    l.answerDue.remove(refused);
    events.publishRefused(refused, l.link, error);
    if (error.code() == ErrorCode.FORBIDDEN) {
      l.theySubscribed.remove(refused);
    } else {
      // Nothing of it was stored there: start again, later, from what the peer confirmed.
      l.known.put(refused, new LinkedHashSet<>(l.confirmed.getOrDefault(refused, Set.of())));
      Retry r = l.retries.computeIfAbsent(refused, k -> new Retry());
      r.delay = r.delay == null ? FIRST_RETRY
          : (r.delay.compareTo(LAST_RETRY.dividedBy(2)) > 0 ? LAST_RETRY : r.delay.multipliedBy(2));
      r.at = clock.instant().plus(r.delay);
      r.waiting = true;
    }
    for (Address a : new ArrayList<>(l.theySubscribed)) {
      sendTo(l, a);
    }
  }

  private void onPublishAck(LinkState l, Message.PublishAck ack) {
    if (l.sentPublishes.remove(ack.re()) == null) {
      return; // not an answer to a publish of ours on this link: nothing to learn from it
    }
    l.unacked--;
    l.known.computeIfAbsent(ack.address(), k -> new LinkedHashSet<>()).addAll(ack.heads());
    l.confirmed.put(ack.address(), Set.copyOf(ack.heads()));
    Retry r = l.retries.get(ack.address());
    if (r != null && !r.waiting) {
      l.retries.remove(ack.address()); // stored again there: the next failure starts at 1 s
    }
    events.acknowledged(ack.address(), l.link, ack.heads());
    for (Address a : new ArrayList<>(l.theySubscribed)) {
      sendTo(l, a);
    }
  }

  private void onPublish(LinkState l, Message.Publish publish) {
    Address address = publish.address();
    if (config.role() == Message.Role.CLIENT && !interests.contains(address)
        && !l.weSubscribed.contains(address)) {
      l.link.send(new Message.ErrorReport(l.nextId(), publish.id(), ErrorCode.FORBIDDEN,
          "this client does not replicate " + address));
      return;
    }
    if (!l.weSubscribed.contains(address) && !l.claimed.contains(address)) {
      int max = config.limits().maxSubscriptions();
      if (l.claimed.size() >= max) {
        refuse(l, ErrorCode.OVERLOADED, "a publish of one more address than the " + max
            + " this peer takes per connection");
        return;
      }
      l.claimed.add(address);
    }
    // What it holds: its values, and about 48 bytes a hash for its heads, commits and parents.
    long hashes = publish.heads().size();
    for (Update.Entry e : publish.commits()) {
      hashes += 1 + e.parents().size();
    }
    long bytes = 48 * hashes;
    for (byte[] v : publish.values().values()) {
      bytes += v.length;
    }
    if (l.heldBytes + bytes > MAX_HELD_BYTES_PER_LINK) {
      refuse(l, ErrorCode.OVERLOADED, "publishes holding " + (l.heldBytes + bytes)
          + " bytes of values wait to be stored; this peer holds at most "
          + MAX_HELD_BYTES_PER_LINK + " per connection");
      return;
    }
    if (config.role() == Message.Role.SERVER && !l.weSubscribed.contains(address)) {
      extend(List.of(address));
    }
    AddressState a = address(address);
    Inbound inbound = new Inbound(l, publish);
    inbound.heldBytes = bytes;
    l.heldBytes += bytes;
    a.queue.add(inbound);
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

  /**
   * Takes a fetch: repeats are removed, a fetch of more hashes than the limit or one more fetch
   * than may wait is refused (the link closed), and the rest is answered one reply at a time while
   * the link is writable ({@link #writable} goes on).
   */
  private void onFetch(LinkState l, Message.Fetch fetch) {
    EngineConfig.LinkLimits limits = config.limits();
    if (fetch.hashes().size() > limits.maxHashesPerFetch()) {
      refuse(l, ErrorCode.TOO_LARGE, "a fetch of " + fetch.hashes().size()
          + " values; this peer serves at most " + limits.maxHashesPerFetch() + " per fetch");
      return;
    }
    if (l.fetches.size() >= limits.maxFetchesInFlight()) {
      refuse(l, ErrorCode.OVERLOADED, "more than " + limits.maxFetchesInFlight()
          + " fetches waiting while the replies to earlier ones are not read");
      return;
    }
    l.fetches.add(new FetchJob(fetch.id(), List.copyOf(new LinkedHashSet<>(fetch.hashes()))));
    serveFetches(l);
  }

  /**
   * The host reports that a link drained what was sent to it: serves the fetches waiting on it,
   * then the publishes waiting on it, while the link stays writable.
   */
  public void writable(Link link) {
    LinkState l = links.get(link.id());
    if (l == null) {
      return;
    }
    serveFetches(l);
    for (Address a : new ArrayList<>(l.theySubscribed)) {
      if (links.get(link.id()) != l || !link.isWritable()) {
        return;
      }
      sendTo(l, a);
    }
  }

  /** Sends replies to the fetches of a link, one at a time, while it is writable. */
  private void serveFetches(LinkState l) {
    while (!l.fetches.isEmpty() && l.link.isWritable() && links.get(l.link.id()) == l) {
      if (serveNextReply(l, l.fetches.peek())) {
        l.fetches.poll();
      }
    }
  }

  /**
   * Sends the next reply of a fetch: at most {@link Message#MAX_SLICE_BYTES} of slice bytes (a
   * larger value is cut into slices). Returns true when the fetch is answered in full.
   */
  private boolean serveNextReply(LinkState l, FetchJob job) {
    List<Message.Slice> slices = new ArrayList<>();
    long bytes = 0;
    while (job.next < job.hashes.size()) {
      Hash h = job.hashes.get(job.next);
      if (job.value == null) {
        byte[] v;
        try {
          v = value(h);
        } catch (Unreadable u) {
          unreadable(l, job.id, u, "");
          return true;
        }
        if (v == null) {
          slices.add(new Message.Slice(h, 0, -1, new byte[0]));
          job.next++;
          continue;
        }
        job.value = v;
        job.offset = 0;
      }
      int n = Math.min(job.value.length - job.offset, Message.MAX_SLICE_BYTES);
      if (bytes + n > Message.MAX_SLICE_BYTES && !slices.isEmpty()) {
        break; // this reply is full
      }
      byte[] part = job.offset == 0 && n == job.value.length ? job.value
          : java.util.Arrays.copyOfRange(job.value, job.offset, job.offset + n);
      slices.add(new Message.Slice(h, job.offset, job.value.length, part));
      bytes += n;
      job.offset += n;
      if (job.offset >= job.value.length) {
        job.value = null;
        job.next++;
      }
    }
    boolean last = job.next >= job.hashes.size();
    l.link.send(new Message.FetchReply(l.nextId(), job.id, slices, last));
    return last;
  }

  /**
   * A value this peer holds cannot be read (a damaged file): says so to the link that needed it,
   * naming the value, instead of going silent, and reports it.
   */
  private void unreadable(LinkState l, long re, Unreadable u, String of) {
    l.link.send(new Message.ErrorReport(l.nextId(), re, ErrorCode.INTERNAL, "value "
        + u.hash.shortHex() + of + " cannot be read from the store of peer " + config.peerId()
        + ": it is damaged there"));
    events.storeFailed(l.link, u.failure);
  }

  private void onFetchReply(LinkState l, Message.FetchReply reply) {
    for (AddressState a : addresses.values()) {
      Inbound p = a.active;
      if (p != null && p.from == l && p.fetchId == reply.re()) {
        events.fetched(l.link, reply.slices());
        try {
          onSlices(a, p, reply);
        } catch (ReplikonException e) {
          fail(a, p, e);
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
      p.releasePartial();
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
        try {
          fail(a, p, e);
        } catch (RuntimeException | Error other) {
          abandon(a, p, other);
        }
      } catch (RuntimeException | Error e) {
        abandon(a, p, e);
      }
    }
  }

  /**
   * Ends a queued publish that this peer failed on while starting it: it may belong to another
   * link than the one whose message is being handled (so the caller's own containment would
   * close the wrong link), and left active it would block its address for good. The link it came
   * from is closed with {@code internal}; the address goes on with the next publish.
   */
  private void abandon(AddressState a, Inbound p, Throwable e) {
    if (a.active == p) {
      a.active = null;
    }
    p.release();
    if (links.containsKey(p.from.link.id())) {
      refuse(p.from, ErrorCode.INTERNAL, "this peer failed on the publish of " + a.address
          + ": " + e);
    }
  }

  /**
   * Ends a publish that failed: the link it came from is closed if it sent something bad (its
   * values did not hash, decode or arrive); if this peer's store failed, the publish is answered
   * with an error {@code internal} and the next one starts. Anything else is thrown.
   */
  private void fail(AddressState a, Inbound p, ReplikonException e) {
    ErrorCode code = peerFault(e);
    if (code != null) {
      if (links.containsKey(p.from.link.id())) {
        refuse(p.from, code, e.getMessage());
      }
      return;
    }
    if (!storeFault(e)) {
      throw e;
    }
    if (a.active == p) {
      a.active = null;
    }
    p.release();
    answerStoreFailure(p, "this peer could not store the publish of " + a.address, e);
    drain(a);
  }

  /**
   * Refuses one publish as {@code forbidden}: nothing of it is stored, the refusal is counted, and
   * the link stays open (the sender stops offering that address on it), so a sender whose history
   * this peer will not take does not reconnect and send it again and again.
   */
  private void refusePublish(AddressState a, Inbound p, PeerEvents.Forbidden kind,
      String reason) {
    if (a.active == p) {
      a.active = null;
    }
    p.release();
    LinkState l = p.from;
    l.forbiddenHere.add(a.address);
    if (links.containsKey(l.link.id())) {
      events.forbidden(l.link, kind, reason);
      events.refused(l.link, ErrorCode.FORBIDDEN, reason);
      l.link.send(new Message.ErrorReport(l.nextId(), p.publish.id(), ErrorCode.FORBIDDEN, reason));
    }
    drain(a);
  }

  /** Answers a publish that this peer's store failed on, and reports it; the link stays open. */
  private void answerStoreFailure(Inbound p, String what, RuntimeException e) {
    LinkState l = p.from;
    if (!links.containsKey(l.link.id())) {
      return;
    }
    l.link.send(new Message.ErrorReport(l.nextId(), p.publish.id(), ErrorCode.INTERNAL,
        what + ": " + storeProblem(e)));
    events.storeFailed(l.link, e instanceof ReplikonException r ? r
        : new ReplikonException(ReplikonException.Reason.STORE_IO, e.toString(), e));
  }

  /**
   * What to tell another peer about a store failure: "no space left on device" when that is
   * what it is, else a sentence without this peer's paths (its log has the details).
   */
  static String storeProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && m.toLowerCase(Locale.ROOT).contains("no space left on device")) {
        return "no space left on device";
      }
    }
    return "its store failed (its log says why)";
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
      if (!p.from.forbiddenHere.contains(a.address)) {
        subscribeOn(p.from, List.of(a.address));
      }
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
      AccessPolicy access = config.trust().access().get();
      List<Hash> need = new ArrayList<>();
      Set<Hash> seen = new HashSet<>();
      for (Update.Entry e : p.fresh) {
        byte[] value = p.values.get(e.id());
        Commit commit = Commit.decode(value != null ? value : store.value(e.id()).orElseThrow());
        if (!commit.address().equals(a.address)) {
          refusePublish(a, p, PeerEvents.Forbidden.ADDRESS, "commit " + e.id().shortHex()
              + " names address " + commit.address() + ", not " + a.address + ", the address of"
              + " the publish (a CDVCS made by fork or pull holds such commits; protocol 2 does"
              + " not replicate them)");
          return;
        }
        if (!commit.signer().verifiesCommit(e.id(), e.signature())) {
          refusePublish(a, p, PeerEvents.Forbidden.SIGNATURE, "commit " + e.id().shortHex()
              + " of " + a.address + " does not carry a valid signature of its signer "
              + commit.signer() + " (forged, or altered on the way)");
          return;
        }
        Optional<String> refusal = access.writeRefusal(a.address, commit.signer());
        if (refusal.isPresent()) {
          refusePublish(a, p, PeerEvents.Forbidden.WRITER, "commit " + e.id().shortHex()
              + " refused: " + refusal.get());
          return;
        }
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

  /**
   * Writes a publish whose values are all in, then acks it once durable (at the end of the group
   * when grouping). A write the store refuses (a full disk) is answered with an error
   * {@code internal}, and the next publish starts.
   */
  private void write(AddressState a, Inbound p) {
    Map<Hash, byte[]> commitValues = new HashMap<>();
    Map<Hash, byte[]> chunkValues = new HashMap<>();
    Set<Hash> freshIds = new HashSet<>();
    p.fresh.forEach(e -> freshIds.add(e.id()));
    p.values.forEach((h, v) -> (freshIds.contains(h) ? commitValues : chunkValues).put(h, v));
    Update update = new Update(a.address, p.fresh, commitValues, chunkValues);
    // Every value of p was hashed as it arrived (Inbound.keep): no second hashing.
    // A write the store refuses throws: fail() answers it internal and starts the next publish.
    Cdvcs.Preview change = store.writeVerified(a.cdvcs, update);
    unsynced = true;
    remember(update);
    Set<Hash> known = p.from.known.computeIfAbsent(a.address, k -> new LinkedHashSet<>());
    for (Update.Entry e : change.newCommits()) {
      advanceKnown(known, e);
    }
    a.active = null;
    p.release();
    afterSync.add(new Pending(p, a.address, () -> {
      acknowledge(a, p, true);
      if (!change.newCommits().isEmpty()) {
        events.stored(a.address, p.from.link, change);
        offer(a.address, p.from);
      }
    }));
    try {
      if (!grouping) {
        flushWrites();
      }
    } finally {
      drain(a);
    }
  }

  /** Acks a publish that stores nothing new, once what it acks is durable, and starts the next. */
  private void finish(AddressState a, Inbound p, boolean complete) {
    a.active = null;
    p.release();
    if (!unsynced) {
      acknowledge(a, p, complete);
      drain(a);
      return;
    }
    afterSync.add(new Pending(p, a.address, () -> acknowledge(a, p, complete))); // its ack names
    // heads not yet synced
    try {
      if (!grouping) {
        flushWrites();
      }
    } finally {
      drain(a);
    }
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
    for (LinkState l : List.copyOf(links.values())) {
      if (l != except && l.ready() && l.theySubscribed.contains(address)
          && links.containsKey(l.link.id())) {
        sendTo(l, address);
      }
    }
  }

  /**
   * Sends a link what it lacks of an address, within its window of unacked publishes and while
   * the link is writable ({@link #writable} comes back here), unless the address waits after the
   * other peer could not store it. A value that cannot be read from the store (a damaged file)
   * is reported to the link, naming it, and the address is no longer offered there until the link
   * subscribes again.
   */
  private void sendTo(LinkState l, Address address) {
    Retry retry = l.retries.get(address);
    if (retry != null && retry.waiting) {
      return;
    }
    try {
      sendWithinWindow(l, address);
    } catch (Unreadable u) {
      l.outbox.remove(address);
      l.answerDue.remove(address);
      l.theySubscribed.remove(address);
      unreadable(l, l.subscribeIds.getOrDefault(address, 0L), u, " of " + address);
    }
  }

  private void sendWithinWindow(LinkState l, Address address) {
    AddressState a = address(address);
    while (l.unacked < config.maxUnackedPublishes() && l.link.isWritable()) {
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
      List<Hash> chunks;
      try {
        chunks = Commit.decode(commitValue).chunks();
      } catch (ReplikonException e) {
        throw new Unreadable(id, e); // stored, so hashed once: the store damaged it
      }
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
      Update.Entry entry = new Update.Entry(id, a.cdvcs.graph().parents(id), signature(id));
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

  /**
   * Returns a stored value, from the recently stored ones if it is there, or null.
   *
   * @throws Unreadable if the store holds it but cannot read it
   */
  private byte[] value(Hash hash) {
    byte[] v = recent.get(hash);
    if (v != null) {
      return v;
    }
    try {
      return store.value(hash).orElse(null);
    } catch (ReplikonException e) {
      throw new Unreadable(hash, e);
    }
  }

  /**
   * Returns the stored signature of a commit.
   *
   * @throws Unreadable if the store cannot read it (a commit in the graph always has one)
   */
  private Signature signature(Hash id) {
    try {
      return store.signature(id);
    } catch (ReplikonException e) {
      throw new Unreadable(id, e);
    }
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

  /**
   * A server's new interests: subscribe to them on every ready link that lacks the subscription
   * and may be told of them ({@link #announcesTo}), one subscribe per link.
   */
  private void extend(Collection<Address> wanted) {
    interests.addAll(wanted);
    for (LinkState l : List.copyOf(links.values())) {
      if (!l.ready()) {
        continue;
      }
      List<Address> lacking = new ArrayList<>();
      for (Address address : wanted) {
        if (!l.weSubscribed.contains(address) && announcesTo(l, address)
            && !lacking.contains(address)) {
          lacking.add(address);
        }
      }
      if (!lacking.isEmpty()) {
        subscribeOn(l, lacking);
      }
    }
  }

  /**
   * Whether this peer may subscribe to {@code address} on a link: a client subscribes to its own
   * interests anywhere; a server subscribes on server links, and on a client link only to what
   * that client subscribed to or published itself (never relay interests a client merely asked
   * about, nor announce what it did not ask for).
   */
  private boolean announcesTo(LinkState l, Address address) {
    return config.role() == Message.Role.CLIENT || l.hello.role() == Message.Role.SERVER
        || l.claimed.contains(address);
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

  /** What waits for the sync of a group: the ack (and relay) of a publish it wrote or saw. */
  private record Pending(Inbound publish, Address address, Runnable afterSync) {}

  /** A stored value the store could not read (its failure names the file). */
  private static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Hash hash;
    final ReplikonException failure;

    Unreadable(Hash hash, ReplikonException failure) {
      super("value " + hash + " cannot be read: " + failure.getMessage(), failure, false, false);
      this.hash = hash;
      this.failure = failure;
    }
  }

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
    /** Bytes of inline values this publish holds (counted in its link's heldBytes). */
    long heldBytes;
    /** Bytes of the values being assembled from slices (counted in its link's partialBytes). */
    long partialBytes;

    Inbound(LinkState from, Message.Publish publish) {
      this.from = from;
      this.publish = publish;
    }

    /**
     * Takes a slice; a value is kept once whole and hashing to its id. Before anything is
     * allocated, the slice must be of a value asked for, declare no more than such a value may
     * hold (a commit value {@link #MAX_COMMIT_VALUE_BYTES}, a chunk {@link Chunk#MAX_BYTES}), lie
     * within it, and not overrun what the earlier slices of the value left; the values a link has
     * in assembly hold at most {@link #MAX_PARTIAL_BYTES_PER_LINK}.
     */
    void accept(Message.Slice s) {
      Hash h = s.hash();
      if (!fetching.contains(h)) {
        throw new ReplikonException(ReplikonException.Reason.PROTOCOL, "a fetch-reply slice of "
            + h + ", a value this peer did not ask for");
      }
      if (s.isMissing() || values.containsKey(h)) {
        return;
      }
      boolean commitValue = phase == Phase.COMMITS;
      long bound = commitValue ? MAX_COMMIT_VALUE_BYTES : Chunk.MAX_BYTES;
      if (s.total() > bound) {
        throw new ReplikonException(ReplikonException.Reason.TOO_LARGE, "a fetch-reply slice"
            + " declares " + s.total() + " bytes for " + (commitValue ? "commit value " : "chunk ")
            + h + "; at most " + bound);
      }
      int length = s.bytes().length;
      if (s.offset() < 0 || s.offset() > s.total() - length) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE, "a slice of " + h
            + " at " + s.offset() + " of " + length + " bytes lies outside its " + s.total());
      }
      if (s.offset() == 0 && length == s.total()) {
        keep(h, s.bytes(), from.link.verifiesValues());
        return;
      }
      Partial value = partial.get(h);
      if (value == null) {
        if (from.partialBytes + s.total() > MAX_PARTIAL_BYTES_PER_LINK) {
          throw new ReplikonException(ReplikonException.Reason.OVERLOADED, "values declaring "
              + (from.partialBytes + s.total()) + " bytes in all are being assembled from"
              + " slices; this peer assembles at most " + MAX_PARTIAL_BYTES_PER_LINK
              + " per connection");
        }
        value = new Partial((int) s.total());
        partial.put(h, value);
        partialBytes += s.total();
        from.partialBytes += s.total();
      } else if (value.buffer.length != s.total()) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
            "slices of " + h + " disagree on its length");
      }
      if (value.filled > value.buffer.length - length) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
            "slices of " + h + " overrun its " + value.buffer.length + " bytes");
      }
      System.arraycopy(s.bytes(), 0, value.buffer, (int) s.offset(), length);
      value.filled += length;
      if (value.filled == value.buffer.length) {
        partial.remove(h);
        partialBytes -= value.buffer.length;
        from.partialBytes -= value.buffer.length;
        keep(h, value.buffer, false);
      }
    }

    /** Drops the values still in assembly (the fetch they were asked in is over). */
    void releasePartial() {
      from.partialBytes -= partialBytes;
      partialBytes = 0;
      partial.clear();
    }

    /** Gives back what this publish held against its link's budgets (once it is done). */
    void release() {
      releasePartial();
      from.heldBytes -= heldBytes;
      heldBytes = 0;
    }

    /**
     * Keeps a value of the publish; hashes it first unless the link that delivered it already
     * did ({@code verified}, see {@link Link#verifiesValues()}).
     */
    void keep(Hash hash, byte[] bytes, boolean verified) {
      if (!verified) {
        // Its hash, and that it is the canonical encoding of a commit value or a chunk: the same
        // check the transport makes on whole values (a value put together from slices, or from a
        // link that does not verify, comes here).
        MessageCodec.verifyValue(hash, bytes);
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

  /** A fetch being answered, one reply at a time: where the next reply starts. */
  private static final class FetchJob {
    final long id;
    final List<Hash> hashes;
    /** The index of the value the next slice is of. */
    int next;
    /** That value while it is sent in slices, else null. */
    byte[] value;
    int offset;

    FetchJob(long id, List<Hash> hashes) {
      this.id = id;
      this.hashes = hashes;
    }
  }

  /** An address a link could not store: when to offer it again, and the wait before that. */
  private static final class Retry {
    Duration delay;
    Instant at;
    boolean waiting;
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
    final Instant openedAt;
    Message.Hello hello;
    /** The challenge this peer sent in its hello, or null when it takes reads from anyone. */
    Challenge challenge;
    /** The key the other side proved, answering the challenge; null until then. */
    VerifyingKey proven;
    long lastId;
    int unacked;
    /** Publishes sent and not yet acknowledged: id to address. */
    final Map<Long, Address> sentPublishes = new HashMap<>();
    int queued;
    boolean suspended;
    /** Bytes of inline values of this link's publishes not yet stored. */
    long heldBytes;
    /** Bytes of values from this link being assembled from slices. */
    long partialBytes;
    /** Addresses this link subscribed to or brought in a publish: at most maxSubscriptions. */
    final Set<Address> claimed = new HashSet<>();
    final Set<Address> theySubscribed = new LinkedHashSet<>();
    /** The id of the latest subscribe of each address, for the errors that answer it. */
    final Map<Address, Long> subscribeIds = new HashMap<>();
    final Set<Address> weSubscribed = new LinkedHashSet<>();
    final Set<Address> answerDue = new LinkedHashSet<>();
    /** Addresses subscribed to on this link and not yet answered by a complete publish. */
    final Set<Address> awaitingAnswer = new HashSet<>();
    /** What the other peer is taken to have: its heads, advanced by what was sent to it. */
    final Map<Address, Set<Hash>> known = new HashMap<>();
    /** The heads the other peer last said it has (subscribe, publish-ack). */
    final Map<Address, Set<Hash>> confirmed = new HashMap<>();
    /** Addresses the other peer could not store, waiting to be offered again. */
    final Map<Address, Retry> retries = new HashMap<>();
    /**
     * Addresses of which this peer refused a publish from this link as {@code forbidden}: a gap
     * that follows (the rest of the refused history) is not asked for again on this link, which
     * would bring the same history and the same refusal, over and over.
     */
    final Set<Address> forbiddenHere = new HashSet<>();
    final Map<Address, Deque<Hash>> outbox = new HashMap<>();
    /** Fetches received and not yet answered in full, oldest first. */
    final Deque<FetchJob> fetches = new ArrayDeque<>();

    LinkState(Link link, Instant openedAt) {
      this.link = link;
      this.openedAt = openedAt;
    }

    /** Hello came, and the proof of a key where this peer asked for one. */
    boolean ready() {
      return hello != null && (challenge == null || proven != null);
    }

    long nextId() {
      return ++lastId;
    }
  }
}
