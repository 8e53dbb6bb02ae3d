package io.replikon.peer;

import io.replikon.cdvcs.CdvcsStore;
import io.replikon.protocol.Message;
import io.replikon.protocol.MessageCodec;
import io.replikon.error.ReplikonException;
import io.replikon.storage.Column;
import io.replikon.testkit.FakeClock;
import io.replikon.testkit.LossyStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * A deterministic network of peers for tests: engines on in-memory stores, links that carry
 * encoded messages with seeded delays, occasional duplication and reordering, partitions that cut
 * links, and crashes that throw an engine away and restart it on its store. Everything runs on
 * the test's thread in virtual time; the same seed gives the same run.
 *
 * <p>A crash loses what the store wrote but did not sync (a {@link LossyStore}). With grouped
 * delivery, the messages that reach a link within a few milliseconds are handed over together
 * ({@link PeerEngine#receivedAll}), and a sync may then fail as if the machine died during it: the
 * peer crashes there and restarts a little later. Every ack sent must name only commits that were
 * durable when it was sent; those that did not are listed in {@link #violations}.
 */
final class SimNetwork {
  /** How hostile the network is. */
  record Faults(double duplicate, double reorder, int maxDelayMillis) {
    static final Faults NONE = new Faults(0, 0, 5);
  }

  private final Random random;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long now;
  private final FakeClock clock = new FakeClock(Instant.EPOCH);
  private long sequence;
  private long nextLinkId;
  private Faults faults = Faults.NONE;
  private final Map<String, SimPeer> peers = new LinkedHashMap<>();
  private final List<SimLink> links = new ArrayList<>();
  final List<String> log = new ArrayList<>();
  final List<String> violations = new ArrayList<>();
  private boolean grouped;
  private double syncFailures;

  SimNetwork(long seed) {
    this.random = new Random(seed);
  }

  Random random() {
    return random;
  }

  void faults(Faults f) {
    this.faults = f;
  }

  /** Hands the messages that queue up at a link over together, at most 2 ms later. */
  void grouped(boolean on) {
    this.grouped = on;
  }

  /** The chance that a grouped sync fails, as a crash of its peer. */
  void syncFailures(double chance) {
    this.syncFailures = chance;
  }

  Clock clock() {
    return clock;
  }

  long now() {
    return now;
  }

  /** Adds a peer with a fresh in-memory store. */
  SimPeer peer(String name, Message.Role role) {
    return peer(name, role, null);
  }

  /** Adds a peer with a fresh in-memory store and this key and policy (null: the defaults). */
  SimPeer peer(String name, Message.Role role, EngineConfig.Trust trust) {
    SimPeer p = new SimPeer(name, role, new LossyStore(), trust);
    peers.put(name, p);
    p.start();
    return p;
  }

  List<SimPeer> peers() {
    return List.copyOf(peers.values());
  }

  /** Connects two running peers: each gets one end. */
  void connect(SimPeer a, SimPeer b) {
    if (!a.running || !b.running) {
      return;
    }
    SimLink ab = new SimLink(++nextLinkId, a, b);
    SimLink ba = new SimLink(++nextLinkId, b, a);
    ab.other = ba;
    ba.other = ab;
    links.add(ab);
    links.add(ba);
    a.engine.opened(ab);
    b.engine.opened(ba);
  }

  /** Cuts every link between the two peers. */
  void cut(SimPeer a, SimPeer b) {
    for (SimLink l : List.copyOf(links)) {
      if (l.owner == a && l.other.owner == b) {
        l.close(null);
      }
    }
  }

  boolean connected(SimPeer a, SimPeer b) {
    return links.stream().anyMatch(l -> l.open && l.owner == a && l.other.owner == b);
  }

  /** Schedules an action at a virtual time from now. */
  void at(long delay, Runnable action) {
    queue.add(new Event(now + delay, ++sequence, action));
  }

  /** Runs events until none is left or {@code maxEvents} ran; returns how many ran. */
  int run(int maxEvents) {
    int n = 0;
    while (!queue.isEmpty() && n < maxEvents) {
      Event e = queue.poll();
      now = Math.max(now, e.time);
      clock.setMillis(now);
      e.action.run();
      n++;
    }
    return n;
  }

  boolean idle() {
    return queue.isEmpty();
  }

  private record Event(long time, long seq, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      return time != o.time ? Long.compare(time, o.time) : Long.compare(seq, o.seq);
    }
  }

  /** A peer: an engine on a store that outlives the engine's crashes. */
  final class SimPeer {
    final String name;
    final Message.Role role;
    final LossyStore store;
    PeerEngine engine;
    boolean running;
    boolean grouping;
    /** Commit entries this peer has put in publishes, over all its links. */
    long publishedCommits;
    Consumer<PeerEngine> onStart = e -> { };
    final EngineConfig.Trust trust;
    /**
     * What this peer does to each message it sends, given the peer it goes to, before the codec:
     * the identity, or a hostile relay's changes.
     */
    BiFunction<SimPeer, Message, Message> tamper = (to, m) -> m;
    /** What this peer refused as {@code forbidden}: kind, then reason. */
    final List<String> forbidden = new ArrayList<>();

    SimPeer(String name, Message.Role role, LossyStore store, EngineConfig.Trust trust) {
      this.name = name;
      this.role = role;
      this.store = store;
      this.trust = trust;
      store.failSync(() -> grouping && random.nextDouble() < syncFailures);
    }

    void start() {
      EngineConfig config = EngineConfig.defaults(name, role).withPublishLimits(3, 2_000);
      engine = new PeerEngine(trust == null ? config : config.withTrust(trust),
          new CdvcsStore(store), clock(), new PeerEvents() {
            @Override
            public void forbidden(Link link, Forbidden kind, String reason) {
              forbidden.add(kind + ": " + reason);
            }
          });
      running = true;
      onStart.accept(engine);
    }

    /** Throws the engine away with everything in flight; the store keeps what was synced. */
    void crash() {
      running = false;
      grouping = false;
      store.crash();
      for (SimLink l : List.copyOf(links)) {
        if (l.owner == this || l.other.owner == this) {
          l.close(null);
        }
      }
      engine = null;
      log.add(now + " crash " + name);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** One end of a connection. */
  final class SimLink implements Link {
    final long id;
    final SimPeer owner;
    final PeerEngine engine;
    SimLink other;
    boolean open = true;
    long lastDelivery;
    final List<Message> inbox = new ArrayList<>();
    boolean drainScheduled;

    SimLink(long id, SimPeer owner, SimPeer to) {
      this.id = id;
      this.owner = owner;
      this.engine = owner.engine;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public String describe() {
      return owner + "->" + other.owner;
    }

    @Override
    public void send(Message original) {
      if (!open) {
        return;
      }
      Message message = owner.tamper.apply(other.owner, original);
      if (message instanceof Message.PublishAck ack) {
        for (io.replikon.value.Hash h : ack.heads()) {
          if (!owner.store.containsDurably(Column.COMMITS, h.toBytes())) {
            violations.add(now + " " + describe() + " acked " + h + " before it was durable");
          }
        }
      }
      byte[] frame = MessageCodec.encode(message); // every message crosses the real codec
      if (message instanceof Message.Publish p) {
        owner.publishedCommits += p.commits().size();
      }
      long delay = 1 + random.nextInt(faults.maxDelayMillis());
      long when = now + delay;
      if (random.nextDouble() >= faults.reorder()) {
        when = Math.max(when, lastDelivery); // FIFO, as TCP, unless this one is reordered
        lastDelivery = when;
      }
      deliver(when, frame);
      if (random.nextDouble() < faults.duplicate()) {
        deliver(when + 1 + random.nextInt(faults.maxDelayMillis()), frame);
      }
    }

    private void deliver(long when, byte[] frame) {
      queue.add(new Event(when, ++sequence, () -> {
        if (other.open && open) {
          Message m = MessageCodec.decode(java.nio.ByteBuffer.wrap(frame));
          if (!grouped) {
            other.engine.received(other, m);
            return;
          }
          other.inbox.add(m);
          if (!other.drainScheduled) {
            other.drainScheduled = true;
            at(random.nextInt(3), other::drain);
          }
        }
      }));
    }

    /** Hands over what queued up at this end, together. */
    private void drain() {
      drainScheduled = false;
      List<Message> messages = List.copyOf(inbox);
      inbox.clear();
      if (!open || !owner.running || owner.engine != engine || messages.isEmpty()) {
        return;
      }
      owner.grouping = true;
      try {
        engine.receivedAll(this, messages);
      } catch (ReplikonException e) {
        if (e.reason() != ReplikonException.Reason.STORE_IO) {
          throw e;
        }
        SimPeer victim = owner;
        log.add(now + " " + e.getMessage() + " at " + victim);
        victim.crash();
        at(50 + random.nextInt(300), () -> {
          if (!victim.running) {
            victim.start();
          }
        });
        return;
      } finally {
        owner.grouping = false;
      }
      if (!owner.store.allSynced()) {
        violations.add(now + " " + owner + " left writes unsynced after a group");
      }
    }

    @Override
    public void close(Message.ErrorReport reason) {
      if (!open) {
        return;
      }
      if (reason != null) {
        log.add(now + " " + describe() + " closed: " + reason.code() + " " + reason.message());
      }
      open = false;
      links.remove(this);
      if (owner.running && owner.engine == engine) {
        engine.closed(this);
      }
      other.close(null);
    }

    @Override
    public boolean isWritable() {
      return true;
    }

    @Override
    public void suspendReading() {}

    @Override
    public void resumeReading() {}
  }
}
