package io.replikon.client;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.CommitWalk;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.error.ReplikonException;
import io.replikon.peer.EngineConfig;
import io.replikon.peer.Link;
import io.replikon.peer.PeerEngine;
import io.replikon.peer.PeerEvents;
import io.replikon.protocol.Message;
import io.replikon.protocol.Printable;
import io.replikon.storage.Batch;
import io.replikon.storage.Column;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.transport.ClientConfig;
import io.replikon.transport.Connection;
import io.replikon.transport.ConnectionHandler;
import io.replikon.transport.Dialer;
import io.replikon.transport.PeerClient;
import io.replikon.transport.PeerServer;
import io.replikon.transport.ServerConfig;
import io.replikon.transport.Transports;
import io.replikon.trust.Challenge;
import io.replikon.trust.SigningKey;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.Hash;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: threads.
 *
 * Netty's I/O threads receive frames and must never block; the engine blocks on the store. So every
 * engine call is a task on one engine thread of this peer (a single-threaded scheduled executor,
 * which also ticks the engine once a second). Confining the engine to that thread is what makes it
 * safe without locks.
 *
 * Backpressure from the engine thread to the sockets: each connection counts the messages it has
 * handed over and that the engine has not run yet. Past HIGH_WATER it stops reading that socket,
 * and below LOW_WATER it reads again, so a fast sender cannot fill the task queue; the engine's own
 * limits (unacked and queued publishes) bound the rest.
 *
 * Grouped syncs: the messages of a connection wait in its inbox, and one engine task takes what
 * queued up while the engine was busy, GROUP messages at a time, to PeerEngine.receivedAll: the
 * publishes they complete are synced once and acked after that sync. Messages of a connection
 * keep their order, and an inbox task is queued only after the connection's opened task.
 *
 * Failures on the engine thread: nothing thrown while handling one connection's messages may end
 * the thread that serves every connection. A Throwable of any kind (an OutOfMemoryError, a
 * StackOverflowError, a bug) raised by the engine for one connection closes that connection with
 * an error internal, is logged once with its stack and counted, and the engine goes on with the
 * others. A store failure (a full disk, a damaged file) was answered to the peer by the engine
 * already: it is counted, and logged once until the store works again. Every task on the engine
 * thread (ticks, API calls) catches Throwable, since a scheduled task that throws is never run
 * again.
 */
final class RunningPeer implements Peer, ConnectionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(RunningPeer.class);
  private static final int HIGH_WATER = 32;
  private static final int LOW_WATER = 8;
  /** Messages of a connection handed to the engine together, at most (one sync for them). */
  private static final int GROUP = 4;

  private final PeerConfig config;
  private final Store store;
  private final CdvcsStore cdvcs;
  private final ScheduledExecutorService engineThread;
  private final PeerEngine engine;
  private final Map<Connection, ConnectionLink> links = new ConcurrentHashMap<>();
  private final AtomicLong linkIds = new AtomicLong();
  private final List<Dialer> dialers = new CopyOnWriteArrayList<>();
  private final Map<Address, List<CompletableFuture<Void>>> syncWaiters = new HashMap<>();
  private final Map<Address, List<Runnable>> storedListeners = new ConcurrentHashMap<>();
  /** Addresses a connected peer's catch-up completed for at least once (engine thread only). */
  private final Set<Address> syncedOnce = new java.util.HashSet<>();
  /** Heads most recently acknowledged by a connected peer, per address (engine thread only). */
  private final Map<Address, Set<Hash>> acknowledged = new HashMap<>();
  /** Futures of {@link #replicated} not completed yet (engine thread only). */
  private final Map<Address, List<Replication>> replicationWaiters = new HashMap<>();
  /**
   * The last {@code forbidden} answer to a publish of each address: a {@link #replicated} future
   * asked after it fails at once rather than wait for an ack that will not come (engine thread).
   */
  private final Map<Address, ReplikonException> refusedPublishes = new HashMap<>();
  /** Addresses with an auto-merge scheduled (engine thread only). */
  private final Set<Address> mergesScheduled = new java.util.HashSet<>();
  private final Metrics metrics = new Metrics();
  /** Also told what the engine reports (tests observe and inject failures through it). */
  private final PeerEvents observer;
  /** The store failure logged last, until the store works again (engine thread only). */
  private String storeFailureLogged;
  private final PeerClient client;
  private final PeerServer server;
  private final StatusServer http;
  private volatile boolean closed;
  /** The key that signs this peer's commits and proves it to peers that guard their reads. */
  private final SigningKey key;
  private final Author author;

  private RunningPeer(PeerConfig config, PeerEvents observer) {
    this.config = config;
    this.observer = observer;
    this.store = config.store()
        .map(dir -> Stores.open(StoreConfig.at(dir).withDurability(config.durability())))
        .orElseGet(Stores::inMemory);
    PeerServer listening = null;
    StatusServer status = null;
    PeerClient dialing = null;
    ScheduledExecutorService thread = null;
    try {
      this.cdvcs = new CdvcsStore(store);
      thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "replikon-engine-" + config.peerId());
        t.setDaemon(true);
        return t;
      });
      this.engineThread = thread;
      this.key = config.trust().key().orElseGet(() -> KeyFiles.ofStore(config.store()));
      this.author = new Author(config.author(), key);
      this.engine = new PeerEngine(
          EngineConfig.defaults(config.peerId(), config.role())
              .withFetchTimeout(config.fetchTimeout()).withLinkLimits(config.linkLimits())
              .withTrust(new EngineConfig.Trust(key, config.trust().access(), Challenge::random)),
          cdvcs, config.clock(), metrics);
      engineThread.scheduleWithFixedDelay(() -> run(engine::tick), 1, 1, TimeUnit.SECONDS);
      ClientConfig clientConfig = ClientConfig.defaults()
          .withMaxOutboundBytes(config.transportLimits().maxOutboundBytes());
      if (config.trustCertificate().isPresent()) {
        clientConfig = clientConfig.withTrustCertificate(config.trustCertificate().get());
      }
      dialing = Transports.client(clientConfig);
      if (config.port().isPresent()) {
        ServerConfig serverConfig = ServerConfig.defaults().withHost(config.host())
            .withPort(config.port().get()).withLimits(config.transportLimits());
        if (config.tls().isPresent()) {
          serverConfig = serverConfig.withTls(config.tls().get().certificateChain(),
              config.tls().get().privateKey());
        }
        listening = Transports.server(serverConfig, this);
      }
      if (config.httpPort().isPresent()) {
        status = StatusServer.start(config.statusHost(), config.httpPort().get(), this);
      }
    } catch (RuntimeException e) {
      if (listening != null) {
        listening.close();
      }
      if (dialing != null) {
        dialing.close();
      }
      if (thread != null) {
        thread.shutdownNow();
      }
      store.close();
      throw e;
    }
    this.client = dialing;
    this.server = listening;
    this.http = status;
  }

  static Peer start(PeerConfig config) {
    return start(config, new PeerEvents() {});
  }

  /**
   * Starts a peer whose engine events also go to {@code observer}, after this peer's own handling
   * of them, on the engine thread. What the observer throws is handled as a failure of the engine
   * on the connection concerned (tests use that).
   */
  static Peer start(PeerConfig config, PeerEvents observer) {
    RunningPeer peer = new RunningPeer(config, observer);
    for (URI uri : config.connect()) {
      peer.connect(uri);
    }
    LOG.info("peer {} ({}) started on {} with key {}{}{}", config.peerId(),
        config.role().name().toLowerCase(java.util.Locale.ROOT), peer.store.describe(),
        peer.key.verifyingKey(),
        peer.url().map(u -> ", listening on " + u).orElse(""),
        peer.httpAddress().map(a -> ", http on " + a).orElse(""));
    return peer;
  }

  @Override
  public PeerConfig config() {
    return config;
  }

  @Override
  public Optional<InetSocketAddress> address() {
    return Optional.ofNullable(server).map(PeerServer::address);
  }

  @Override
  public Optional<URI> url() {
    return address().map(a -> URI.create((config.tls().isPresent() ? "wss" : "ws") + "://"
        + a.getHostString() + ":" + a.getPort() + Message.PATH));
  }

  @Override
  public Optional<InetSocketAddress> httpAddress() {
    return Optional.ofNullable(http).map(StatusServer::address);
  }

  @Override
  public void connect(URI peer) {
    requireOpen();
    dialers.add(client.dial(peer, this));
  }

  @Override
  public CompletableFuture<Void> subscribe(Address address) {
    CompletableFuture<Void> synced = new CompletableFuture<>();
    call(() -> {
      if (syncedOnce.contains(address)) {
        synced.complete(null); // caught up before, and kept up to date since
      } else {
        syncWaiters.computeIfAbsent(address, a -> new ArrayList<>()).add(synced);
      }
      engine.subscribe(address);
      return null;
    }).whenComplete((ignored, failure) -> {
      if (failure != null) {
        synced.completeExceptionally(failure);
      }
    });
    return synced;
  }

  @Override
  public CompletableFuture<Hash> create(Address address) {
    return call(() -> {
      if (engine.state(address).isPresent()) {
        throw new ReplikonException(ReplikonException.Reason.ADDRESS_EXISTS,
            "a CDVCS exists at " + address + " already");
      }
      Update root = Cdvcs.create(address, author, config.clock().millis());
      engine.submit(root);
      return root.lastCommit();
    });
  }

  @Override
  public CompletableFuture<Hash> transact(Address address, List<Transaction> transactions) {
    if (transactions.isEmpty()) {
      return noTransactions();
    }
    // Encoding and hashing the chunks is the costly part: do it off the engine thread.
    return CompletableFuture.supplyAsync(() -> Chunk.split(transactions))
        .thenCompose(chunks -> commitChunks(address, chunks, new Batch()));
  }

  @Override
  public CompletableFuture<Hash> transact(Address address, List<Chunk> chunks,
      Checkpoint checkpoint) {
    if (chunks.isEmpty()) {
      return noTransactions();
    }
    return commitChunks(address, List.copyOf(chunks),
        new Batch().put(Column.META, Checkpoint.key(checkpoint.name()), checkpoint.value()));
  }

  private static <T> CompletableFuture<T> noTransactions() {
    return CompletableFuture.failedFuture(new ReplikonException(
        ReplikonException.Reason.INVALID_INPUT, "a commit needs at least one transaction"));
  }

  private CompletableFuture<Hash> commitChunks(Address address, List<Chunk> chunks,
      Batch alongside) {
    return call(() -> {
      Update update = held(address).transactChunks(chunks, author,
          config.clock().millis());
      engine.submit(update, alongside);
      return update.lastCommit();
    });
  }

  @Override
  public Optional<byte[]> checkpoint(String name) {
    return store.get(Column.META, Checkpoint.key(name));
  }

  @Override
  public CompletableFuture<Void> replicated(Address address, Hash commit) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    call(() -> {
      Cdvcs cdvcs = held(address);
      if (!cdvcs.graph().contains(commit)) {
        throw new ReplikonException(ReplikonException.Reason.MISSING_CONTENT,
            "commit " + commit + " of " + address + " is not stored on peer " + config.peerId());
      }
      Replication waiter = new Replication(commit, done);
      ReplikonException refusal = refusedPublishes.get(address);
      if (refusal != null) {
        throw refusal;
      }
      if (!waiter.completeIfIn(cdvcs, acknowledged.getOrDefault(address, Set.of()))) {
        replicationWaiters.computeIfAbsent(address, a -> new ArrayList<>()).add(waiter);
      }
      return null;
    }).whenComplete((ignored, failure) -> {
      if (failure != null) {
        done.completeExceptionally(failure);
      }
    });
    return done;
  }

  /** A {@link #replicated} future waiting for an acknowledgement of its commit or a later one. */
  private record Replication(Hash commit, CompletableFuture<Void> done) {
    /** Completes and returns true if a head in {@code heads} is the commit or comes after it. */
    boolean completeIfIn(Cdvcs cdvcs, Set<Hash> heads) {
      for (Hash head : heads) {
        if (head.equals(commit) || (cdvcs.graph().contains(head)
            && CommitWalk.isAncestor(cdvcs.graph(), commit, head))) {
          done.complete(null);
          return true;
        }
      }
      return false;
    }
  }

  @Override
  public CompletableFuture<Hash> merge(Address address, List<Hash> orderedHeads) {
    return call(() -> {
      Update update = held(address).merge(orderedHeads, List.of(), author,
          config.clock().millis());
      engine.submit(update);
      return update.lastCommit();
    });
  }

  @Override
  public CompletableFuture<Set<Hash>> fork(Address from, Address to) {
    return call(() -> {
      if (engine.state(to).isPresent()) {
        throw new ReplikonException(ReplikonException.Reason.ADDRESS_EXISTS,
            "a CDVCS exists at " + to + " already");
      }
      engine.submit(held(from).fork(to, cdvcs::signature));
      return Set.copyOf(held(to).heads());
    });
  }

  @Override
  public CompletableFuture<Set<Hash>> pull(Address into, Address from,
      boolean allowInducedConflict) {
    return call(() -> {
      Update update = held(into).pull(held(from), allowInducedConflict, cdvcs::signature);
      if (!update.isEmpty()) {
        engine.submit(update);
      }
      return Set.copyOf(held(into).heads());
    });
  }

  /**
   * Auto-merge (engine thread): a CDVCS with several heads is merged after a random delay, unless
   * its heads changed meanwhile (another peer merged first: its merge arrives as new commits). The
   * random delay keeps two peers from merging the same heads at once, again and again.
   */
  private void scheduleMerge(Address address) {
    Optional<java.time.Duration> maxDelay = config.autoMerge();
    Optional<Cdvcs> state = engine.state(address);
    if (maxDelay.isEmpty() || state.isEmpty() || !state.get().isConflicted()
        || !mergesScheduled.add(address)) {
      return;
    }
    Set<Hash> heads = Set.copyOf(state.get().heads());
    long delay = java.util.concurrent.ThreadLocalRandom.current()
        .nextLong(maxDelay.get().toMillis() + 1);
    engineThread.schedule(() -> run(() -> {
      mergesScheduled.remove(address);
      Cdvcs now = engine.state(address).orElseThrow();
      if (!now.isConflicted()) {
        return;
      }
      if (!now.heads().equals(heads)) {
        scheduleMerge(address);
        return;
      }
      List<Hash> ordered = new ArrayList<>(heads);
      ordered.sort(null);
      Update merge = now.merge(ordered, List.of(), author, config.clock().millis());
      engine.submit(merge);
      LOG.info("{}: merged {} heads as {}", Printable.of(address.toString()), ordered.size(),
          merge.lastCommit());
    }), delay, TimeUnit.MILLISECONDS);
  }

  /** The CDVCS at {@code address} on the engine thread, or UNKNOWN_ADDRESS. */
  private Cdvcs held(Address address) {
    return engine.state(address).orElseThrow(() -> new ReplikonException(
        ReplikonException.Reason.UNKNOWN_ADDRESS, "no CDVCS at " + address + " on peer "
            + config.peerId() + " (create it, or subscribe and wait for it)"));
  }

  @Override
  public CompletableFuture<Set<Hash>> heads(Address address) {
    return call(() -> engine.state(address).map(c -> Set.copyOf(c.heads())).orElse(Set.of()));
  }

  @Override
  public CompletableFuture<List<Hash>> commitsAfter(Address address, Set<Hash> frontier) {
    return call(() -> engine.state(address)
        .map(c -> CommitWalk.missing(c.graph(), c.heads(), frontier))
        .orElse(List.of()));
  }

  @Override
  public Commit commit(Hash id) {
    return cdvcs.commit(id);
  }

  @Override
  public List<Transaction> transactions(Commit commit) {
    return cdvcs.transactions(commit);
  }

  @Override
  public List<Chunk> chunks(Commit commit) {
    List<Chunk> out = new ArrayList<>(commit.chunks().size());
    for (Hash id : commit.chunks()) {
      byte[] bytes = cdvcs.chunk(id).orElseThrow(() -> new ReplikonException(
          ReplikonException.Reason.MISSING_CONTENT, "chunk " + id + " is not stored"));
      out.add(new Chunk(id, bytes, Chunk.countTransactions(bytes)));
    }
    return out;
  }

  @Override
  public AutoCloseable onStored(Address address, Runnable listener) {
    storedListeners.computeIfAbsent(address, a -> new CopyOnWriteArrayList<>()).add(listener);
    return () -> storedListeners.getOrDefault(address, List.of()).remove(listener);
  }

  @Override
  public CompletableFuture<List<Hash>> lowestCommonAncestors(Address address, Set<Hash> a,
      Set<Hash> b) {
    return call(() -> engine.state(address)
        .map(c -> CommitWalk.lowestCommonAncestors(c.graph(), a, b))
        .orElse(List.of()));
  }

  @Override
  public CompletableFuture<PeerStatus> status() {
    return call(() -> {
      List<String> connections = new ArrayList<>();
      for (ConnectionLink l : links.values()) {
        connections.add(l.describe());
      }
      return new PeerStatus(config.peerId(),
          config.role().name().toLowerCase(java.util.Locale.ROOT),
          key.verifyingKey().toString(), connections, cdvcs.list(), metrics.counters());
    });
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Dialer d : dialers) {
      d.close();
    }
    if (server != null) {
      server.close();
    }
    client.close();
    if (http != null) {
      http.close();
    }
    engineThread.shutdown();
    try {
      if (!engineThread.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("engine of peer {} did not finish within 10 s; stopping it", config.peerId());
        engineThread.shutdownNow();
      }
    } catch (InterruptedException e) {
      engineThread.shutdownNow();
      Thread.currentThread().interrupt();
    }
    ReplikonException closedFirst = new ReplikonException(ReplikonException.Reason.STORE_CLOSED,
        "peer " + config.peerId() + " closed before the commit was replicated");
    replicationWaiters.values()
        .forEach(l -> l.forEach(w -> w.done().completeExceptionally(closedFirst)));
    store.close();
    LOG.info("peer {} stopped", config.peerId());
  }

  // ---------------------------------------------------------------- transport events

  @Override
  public void opened(Connection connection) {
    ConnectionLink link = new ConnectionLink(linkIds.incrementAndGet(), connection);
    links.put(connection, link);
    metrics.connectionsOpened.incrementAndGet();
    runFor(link, () -> engine.opened(link));
  }

  @Override
  public void received(Connection connection, Message message) {
    ConnectionLink link = links.get(connection);
    if (link == null) {
      return;
    }
    link.handedOver();
    link.inbox.add(message);
    if (link.drainScheduled.compareAndSet(false, true)) {
      run(() -> drainInbox(link));
    }
  }

  /** Engine thread: hands the engine what queued up on a link, a group at a time. */
  private void drainInbox(ConnectionLink link) {
    link.drainScheduled.set(false); // a message added from now on schedules another task
    while (true) {
      List<Message> group = new ArrayList<>(GROUP);
      Message m;
      while (group.size() < GROUP && (m = link.inbox.poll()) != null) {
        group.add(m);
      }
      if (group.isEmpty()) {
        return;
      }
      try {
        engine.receivedAll(link, group);
      } catch (Throwable t) {
        if (t instanceof ReplikonException r && storeFault(r)) {
          logStoreFailure(link, r); // a failed sync: the engine answered (and reported) each
          // publish of the group
        } else {
          failed(link, t);
          link.inbox.clear();
          return;
        }
      } finally {
        for (int i = 0; i < group.size(); i++) {
          link.handled();
        }
      }
    }
  }

  private static boolean storeFault(ReplikonException e) {
    return e.reason() == ReplikonException.Reason.STORE_IO
        || e.reason() == ReplikonException.Reason.STORE_CLOSED;
  }

  /**
   * Engine thread: the engine failed on a connection's messages. That connection is closed with
   * an error internal and forgotten by the engine; the failure is logged (once) and counted; the
   * engine and every other connection go on.
   */
  private void failed(ConnectionLink link, Throwable t) {
    metrics.internalErrors.incrementAndGet();
    try {
      LOG.error("peer {}: handling the messages of {} failed ({}); closing that connection",
          config.peerId(), link.describe(), t.toString(), t);
    } catch (Throwable logging) {
      // an OutOfMemoryError may leave no room to log: the count above still tells
    }
    try {
      link.close(new Message.ErrorReport(0, 0, Message.ErrorCode.INTERNAL,
          "this peer failed while handling your messages"));
    } catch (Throwable ignored) {
      // the connection is going away in any case
    }
    try {
      engine.closed(link);
    } catch (Throwable again) {
      metrics.internalErrors.incrementAndGet();
    }
  }

  /**
   * Engine thread: counts a store failure, and logs it unless it is the one logged last (a full
   * disk fails every publish: one line, not one per publish). A write that works again clears it.
   */
  private void storeFailed(Link link, ReplikonException e) {
    metrics.storeFailures.incrementAndGet();
    logStoreFailure(link, e);
  }

  private void logStoreFailure(Link link, ReplikonException e) {
    String message = String.valueOf(e.getMessage());
    String key = message.toLowerCase(java.util.Locale.ROOT).contains("no space left on device")
        ? "no space left on device" : message;
    if (!key.equals(storeFailureLogged)) {
      storeFailureLogged = key;
      LOG.error("peer {}: store failure on what {} sent or asked for, answered with an error"
          + " (not logged again until the store works again or fails otherwise): {}",
          config.peerId(), link.describe(), Printable.of(message, 1_000));
    }
  }

  @Override
  public void writabilityChanged(Connection connection, boolean writable) {
    ConnectionLink link = links.get(connection);
    if (link != null && writable) {
      runFor(link, () -> engine.writable(link));
    }
  }

  /** The transport refused bad input on a connection (and logged it): counted with the rest. */
  @Override
  public void refused(Connection connection, Message.ErrorCode code, String reason) {
    metrics.refusals.incrementAndGet();
  }

  /** The transport refused a connection before it opened (over the cap, no handshake in time). */
  @Override
  public void refusedBeforeOpen(String remote, String reason) {
    metrics.refusals.incrementAndGet();
  }

  @Override
  public void closed(Connection connection, String reason) {
    ConnectionLink link = links.remove(connection);
    if (link != null) {
      LOG.debug("connection {} closed: {}", link.describe(), Printable.of(reason));
      run(() -> engine.closed(link));
    }
  }

  // ---------------------------------------------------------------- engine thread

  private <T> CompletableFuture<T> call(Supplier<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new ReplikonException(ReplikonException.Reason.STORE_CLOSED,
          "peer " + config.peerId() + " is closed"));
      return result;
    }
    try {
      engineThread.execute(() -> {
        try {
          result.complete(work.get());
        } catch (Throwable e) {
          result.completeExceptionally(e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      result.completeExceptionally(new ReplikonException(ReplikonException.Reason.STORE_CLOSED,
          "peer " + config.peerId() + " is closed", e));
    }
    return result;
  }

  private void run(Runnable work) {
    try {
      engineThread.execute(() -> {
        try {
          work.run();
        } catch (Throwable e) {
          metrics.internalErrors.incrementAndGet();
          LOG.error("peer {}: engine failed: {}", config.peerId(), e.toString(), e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: late transport events are dropped
    }
  }

  /** As {@link #run}, for work on one connection: a failure closes that connection only. */
  private void runFor(ConnectionLink link, Runnable work) {
    run(() -> {
      try {
        work.run();
      } catch (Throwable t) {
        failed(link, t);
      }
    });
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("peer " + config.peerId() + " is closed");
    }
  }

  /** Counts what the engine reports, logs it, and completes subscribe futures. */
  private final class Metrics implements PeerEvents {
    final AtomicLong connectionsOpened = new AtomicLong();
    final AtomicLong commitsStored = new AtomicLong();
    final AtomicLong publishesStored = new AtomicLong();
    final AtomicLong valuesFetched = new AtomicLong();
    final AtomicLong bytesFetched = new AtomicLong();
    final AtomicLong refusals = new AtomicLong();
    final AtomicLong internalErrors = new AtomicLong();
    final AtomicLong storeFailures = new AtomicLong();
    /** Publishes and proofs refused as forbidden, by what for: one counter each, made here. */
    final Map<PeerEvents.Forbidden, AtomicLong> forbidden =
        new EnumMap<>(PeerEvents.Forbidden.class);

    Metrics() {
      for (PeerEvents.Forbidden kind : PeerEvents.Forbidden.values()) {
        forbidden.put(kind, new AtomicLong());
      }
    }

    PeerStatus.Counters counters() {
      return new PeerStatus.Counters(connectionsOpened.get(), commitsStored.get(),
          publishesStored.get(), valuesFetched.get(), bytesFetched.get(), refusals.get(),
          internalErrors.get(), storeFailures.get(), forbiddenByLabel());
    }

    private Map<String, Long> forbiddenByLabel() {
      Map<String, Long> out = new HashMap<>();
      forbidden.forEach((kind, n) -> out.put(kind.label(), n.get()));
      return out;
    }

    @Override
    public void connected(Link link, Message.Hello hello) {
      LOG.info("connected to peer {} ({}) at {}", Printable.of(hello.peer()),
          hello.role().name().toLowerCase(java.util.Locale.ROOT), link.describe());
      observer.connected(link, hello);
    }

    @Override
    public void disconnected(Link link) {
      LOG.info("disconnected from {}", link.describe());
      observer.disconnected(link);
    }

    @Override
    public void refused(Link link, Message.ErrorCode code, String reason) {
      refusals.incrementAndGet();
      LOG.warn("closed connection {}: {} {}", link.describe(), code.wireName(),
          Printable.of(reason, 1_000));
      observer.refused(link, code, reason);
    }

    @Override
    public void errorReceived(Link link, Message.ErrorReport error) {
      if (error.code() == Message.ErrorCode.FORBIDDEN && error.re() == 0) {
        // The other peer closed the link: it takes no reads from this peer's key.
        LOG.error("peer at {} refused this peer (key {}): forbidden: {}", link.describe(),
            key.verifyingKey(), Printable.of(error.message(), 1_000));
        ReplikonException refusal = new ReplikonException(ReplikonException.Reason.FORBIDDEN,
            "the peer at " + link.describe() + " refused this peer's key " + key.verifyingKey()
                + ": forbidden: " + Printable.of(error.message(), 1_000));
        syncWaiters.values().forEach(w -> w.forEach(f -> f.completeExceptionally(refusal)));
        syncWaiters.clear();
      } else if (error.code() != Message.ErrorCode.FORBIDDEN) { // publishRefused logs those
        LOG.warn("peer at {} reported {}: {}", link.describe(), error.code().wireName(),
            Printable.of(error.message(), 1_000));
      }
      observer.errorReceived(link, error);
    }

    @Override
    public void publishRefused(Address address, Link link, Message.ErrorReport error) {
      if (error.code() == Message.ErrorCode.FORBIDDEN) {
        LOG.error("peer at {} refused the commits of {}: forbidden: {}", link.describe(),
            Printable.of(address.toString()), Printable.of(error.message(), 1_000));
        ReplikonException refusal = new ReplikonException(ReplikonException.Reason.FORBIDDEN,
            "the peer at " + link.describe() + " refused the commits of " + address
                + ": forbidden: " + Printable.of(error.message(), 1_000));
        refusedPublishes.put(address, refusal);
        List<Replication> waiting = replicationWaiters.remove(address);
        if (waiting != null) {
          waiting.forEach(w -> w.done().completeExceptionally(refusal));
        }
      } else {
        LOG.warn("peer at {} could not store the commits of {}: {}", link.describe(),
            Printable.of(address.toString()), Printable.of(error.message(), 1_000));
      }
      observer.publishRefused(address, link, error);
    }

    @Override
    public void forbidden(Link link, PeerEvents.Forbidden kind, String reason) {
      forbidden.get(kind).incrementAndGet();
      LOG.warn("refused from {}: forbidden ({}): {}", link.describe(), kind.label(),
          Printable.of(reason, 1_000));
      observer.forbidden(link, kind, reason);
    }

    @Override
    public void proven(Link link, VerifyingKey provenKey) {
      LOG.info("peer at {} proved key {}", link.describe(), provenKey);
      observer.proven(link, provenKey);
    }

    @Override
    public void storeFailed(Link link, ReplikonException failure) {
      RunningPeer.this.storeFailed(link, failure);
      observer.storeFailed(link, failure);
    }

    @Override
    public void stored(Address address, Link link, Cdvcs.Preview change) {
      commitsStored.addAndGet(change.newCommits().size());
      if (link != null) {
        publishesStored.incrementAndGet();
        if (storeFailureLogged != null) {
          LOG.info("peer {}: the store works again", config.peerId());
          storeFailureLogged = null;
        }
      }
      LOG.debug("{}: stored {} commits from {}", Printable.of(address.toString()),
          change.newCommits().size(), link == null ? "this peer" : link.describe());
      ReplikonException refusal = link == null ? refusedPublishes.get(address) : null;
      if (refusal != null) {
        LOG.error("{} new commits of {} stay on this peer: {}", change.newCommits().size(),
            Printable.of(address.toString()), refusal.getMessage());
      }
      scheduleMerge(address);
      for (Runnable listener : storedListeners.getOrDefault(address, List.of())) {
        try {
          listener.run();
        } catch (RuntimeException e) {
          LOG.warn("a listener on {} failed: {}", Printable.of(address.toString()),
              e.toString(), e);
        }
      }
      observer.stored(address, link, change);
    }

    @Override
    public void synced(Address address, Link link) {
      syncedOnce.add(address);
      List<CompletableFuture<Void>> waiting = syncWaiters.remove(address);
      if (waiting != null) {
        waiting.forEach(f -> f.complete(null));
      }
      observer.synced(address, link);
    }

    @Override
    public void acknowledged(Address address, Link link, Set<Hash> heads) {
      refusedPublishes.remove(address);
      acknowledged.put(address, Set.copyOf(heads));
      List<Replication> waiting = replicationWaiters.get(address);
      Optional<Cdvcs> cdvcs = engine.state(address);
      if (waiting != null && cdvcs.isPresent()) {
        waiting.removeIf(w -> w.completeIfIn(cdvcs.get(), heads));
      }
      observer.acknowledged(address, link, heads);
    }

    @Override
    public void fetched(Link link, List<Message.Slice> slices) {
      valuesFetched.addAndGet(slices.size());
      for (Message.Slice s : slices) {
        bytesFetched.addAndGet(s.bytes().length);
      }
      observer.fetched(link, slices);
    }
  }

  /** A transport connection as the engine sees it, with the read backpressure of the note. */
  private static final class ConnectionLink implements Link {
    private final long id;
    private final Connection connection;
    private final AtomicInteger pending = new AtomicInteger();
    /** Messages received and not yet handed to the engine, in order. */
    final java.util.Queue<Message> inbox = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.concurrent.atomic.AtomicBoolean drainScheduled =
        new java.util.concurrent.atomic.AtomicBoolean();
    /*
     * Two reasons to stop reading, set from two threads: the engine's (its publish queue is full,
     * engine thread) and the task queue's (too many messages handed over, I/O thread; cleared on
     * the engine thread). Reading is suspended while either holds. Both flags and the socket's
     * state change under this link's lock, so the last call to the connection always matches the
     * flags: a resume racing a suspend cannot leave the socket reading with a reason to stop, or
     * stopped with none (which would stall the link for good).
     */
    private boolean engineSuspended;
    private boolean queueSuspended;
    private boolean reading = true;

    ConnectionLink(long id, Connection connection) {
      this.id = id;
      this.connection = connection;
    }

    void handedOver() {
      if (pending.incrementAndGet() == HIGH_WATER) {
        setQueueSuspended(true);
      }
    }

    void handled() {
      if (pending.decrementAndGet() == LOW_WATER) {
        setQueueSuspended(false);
      }
    }

    private synchronized void setQueueSuspended(boolean suspended) {
      queueSuspended = suspended;
      applyReading();
    }

    private synchronized void setEngineSuspended(boolean suspended) {
      engineSuspended = suspended;
      applyReading();
    }

    /** Makes the socket read, or not, as the flags say; only changes are passed on. */
    private void applyReading() {
      boolean read = !engineSuspended && !queueSuspended;
      if (read != reading) {
        reading = read;
        if (read) {
          connection.resumeReading();
        } else {
          connection.suspendReading();
        }
      }
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public String describe() {
      return connection.remote();
    }

    /** The transport hashes every value as it decodes a frame (see ConnectionHandler#received). */
    @Override
    public boolean verifiesValues() {
      return true;
    }

    @Override
    public void send(Message message) {
      connection.send(message).whenComplete((ok, failure) -> {
        if (failure != null) {
          LOG.debug("send to {} failed: {}", connection.remote(), failure.toString());
        }
      });
    }

    @Override
    public void close(Message.ErrorReport reason) {
      connection.close(reason);
    }

    @Override
    public boolean isWritable() {
      return connection.isWritable();
    }

    @Override
    public void suspendReading() {
      setEngineSuspended(true);
    }

    @Override
    public void resumeReading() {
      setEngineSuspended(false);
    }
  }
}
