package io.replikon.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.peer.EngineConfig;
import io.replikon.peer.Link;
import io.replikon.peer.PeerEngine;
import io.replikon.peer.PeerEvents;
import io.replikon.protocol.Message;
import io.replikon.protocol.MessageCodec;
import io.replikon.storage.Stores;
import io.replikon.trust.SigningKey;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The bytes of the differential reconnect handshake: does a reconnect after 10 new commits cost
 * the same whatever the length of the history?
 *
 * <p>Two {@link PeerEngine}s (A a server, B a client) on in-memory stores, joined by an in-memory
 * link pair that encodes every message with {@link MessageCodec#encode}, counts its bytes per
 * direction and kind, decodes it and delivers it through a queue drained on this one thread. A
 * builds a history of N one-transaction commits; B subscribes and syncs fully (the initial sync);
 * the link closes; A adds 10 commits; a new link opens and runs until no message is left (the
 * reconnect). Bytes are the encoded messages (CBOR), without WebSocket framing.
 *
 * <p>Run: {@code java -Xmx2g -cp benchmarks/target/benchmarks.jar io.replikon.bench.HandshakeBytes
 * [N...]} (default 1000 100000).
 */
public final class HandshakeBytes {
  /** A's author: every commit signed, as every peer's are (protocol 2). */
  private static final Author AUTHOR = new Author("A", SigningKey.generate());
  private static final Address ADDRESS =
      new Address("bench@replikon.io", UUID.fromString("00000000-0000-4000-8000-000000000001"));
  private static final int NEW_COMMITS = 10;

  private HandshakeBytes() {}

  /** Counts of one phase, per direction. */
  static final class Tally {
    final long[] bytes = new long[2];
    final long[] messages = new long[2];
    final Map<Message.Kind, long[]> byKind = new EnumMap<>(Message.Kind.class);

    void add(int direction, Message.Kind kind, int n) {
      bytes[direction] += n;
      messages[direction]++;
      long[] k = byKind.computeIfAbsent(kind, x -> new long[2]);
      k[0]++;
      k[1] += n;
    }

    long totalBytes() {
      return bytes[0] + bytes[1];
    }

    long totalMessages() {
      return messages[0] + messages[1];
    }

    String kinds() {
      StringBuilder sb = new StringBuilder();
      byKind.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k.wireName())
          .append(' ').append(v[0]).append('x').append('/').append(v[1]).append(" B"));
      return sb.toString();
    }
  }

  /** One direction of a connection: A's end (direction 0 sends A to B) or B's. */
  static final class MemLink implements Link {
    final long id;
    final int direction;
    final Network net;
    MemLink other;
    PeerEngine owner;
    boolean open = true;

    MemLink(long id, int direction, Network net) {
      this.id = id;
      this.direction = direction;
      this.net = net;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public String describe() {
      return "mem-" + id;
    }

    @Override
    public void send(Message message) {
      if (!open) {
        return;
      }
      byte[] frame = MessageCodec.encode(message);
      net.tally.add(direction, message.kind(), frame.length);
      net.queue.add(new Delivery(other, frame));
    }

    @Override
    public void close(Message.ErrorReport reason) {
      throw new IllegalStateException("link closed by the engine: " + reason);
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

  record Delivery(MemLink to, byte[] frame) {}

  /** The queue of messages in flight and the tally of the current phase. */
  static final class Network {
    final Deque<Delivery> queue = new ArrayDeque<>();
    Tally tally = new Tally();
    long nextId;

    MemLink[] connect(PeerEngine a, PeerEngine b) {
      MemLink ab = new MemLink(++nextId, 0, this);
      MemLink ba = new MemLink(++nextId, 1, this);
      ab.other = ba;
      ba.other = ab;
      ab.owner = a;
      ba.owner = b;
      a.opened(ab);
      b.opened(ba);
      return new MemLink[] {ab, ba};
    }

    void disconnect(MemLink[] pair) {
      for (MemLink l : pair) {
        l.open = false;
      }
      queue.clear();
      pair[0].owner.closed(pair[0]);
      pair[1].owner.closed(pair[1]);
    }

    /** Delivers until nothing is in flight. */
    void drain() {
      Delivery d;
      while ((d = queue.poll()) != null) {
        if (d.to.open) {
          d.to.owner.received(d.to, MessageCodec.decode(d.frame));
        }
      }
    }
  }

  record Result(int n, Tally initial, long initialMillis, Tally reconnect, long reconnectMillis,
      long buildMillis) {}

  static Result run(int n) {
    Clock clock = Clock.systemUTC();
    PeerEngine a = new PeerEngine(EngineConfig.defaults("A", Message.Role.SERVER),
        new CdvcsStore(Stores.inMemory()), clock, new PeerEvents() {});
    PeerEngine b = new PeerEngine(EngineConfig.defaults("B", Message.Role.CLIENT),
        new CdvcsStore(Stores.inMemory()), clock, new PeerEvents() {});
    long t0 = System.nanoTime();
    a.submit(Cdvcs.create(ADDRESS, AUTHOR, 1_600_000_000_000L));
    commit(a, 1, n - 1); // N commits in all, the root included
    long buildMillis = (System.nanoTime() - t0) / 1_000_000;
    if (a.state(ADDRESS).orElseThrow().size() != n) {
      throw new IllegalStateException("history has " + a.state(ADDRESS).orElseThrow().size());
    }

    Network net = new Network();
    b.subscribe(ADDRESS);
    long t1 = System.nanoTime();
    MemLink[] link = net.connect(a, b);
    net.drain();
    long initialMillis = (System.nanoTime() - t1) / 1_000_000;
    requireSynced(a, b);
    Tally initial = net.tally;

    net.disconnect(link);
    commit(a, n, NEW_COMMITS);
    net.tally = new Tally();
    long t2 = System.nanoTime();
    link = net.connect(a, b);
    net.drain();
    long reconnectMillis = (System.nanoTime() - t2) / 1_000_000;
    requireSynced(a, b);
    if (b.state(ADDRESS).orElseThrow().size() != n + NEW_COMMITS) {
      throw new IllegalStateException("B holds " + b.state(ADDRESS).orElseThrow().size());
    }
    return new Result(n, initial, initialMillis, net.tally, reconnectMillis, buildMillis);
  }

  private static void commit(PeerEngine engine, int first, int count) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    for (int i = first; i < first + count; i++) {
      Cdvcs state = engine.state(ADDRESS).orElseThrow();
      engine.submit(state.transact(List.of(new Transaction("add",
          nodes.objectNode().put("n", i).put("text", "commit " + i))), AUTHOR,
          1_600_000_000_000L + i));
    }
  }

  private static void requireSynced(PeerEngine a, PeerEngine b) {
    var ha = a.state(ADDRESS).orElseThrow().heads();
    var hb = b.state(ADDRESS).map(Cdvcs::heads).orElse(java.util.Set.of());
    if (!ha.equals(hb)) {
      throw new IllegalStateException("not in sync: A " + ha + ", B " + hb);
    }
  }

  public static void main(String[] args) {
    List<Integer> sizes = new ArrayList<>();
    for (String s : args) {
      sizes.add(Integer.parseInt(s.replace("_", "")));
    }
    if (sizes.isEmpty()) {
      sizes = List.of(1_000, 100_000);
    }
    run(200); // warm-up: loads the classes, so the timings below are less noisy
    List<Result> results = new ArrayList<>();
    for (int n : sizes) {
      Result r = run(n);
      results.add(r);
      System.out.printf("N=%,d built in %,d ms%n", n, r.buildMillis);
      System.out.printf("  initial sync: %s%n", r.initial.kinds());
      System.out.printf("  reconnect   : %s%n", r.reconnect.kinds());
    }
    System.out.println();
    System.out.println("Reconnect handshake after " + NEW_COMMITS + " new commits at A "
        + "(bytes = encoded CBOR messages, both directions)");
    System.out.printf("%-10s | %12s %12s %12s %6s %9s | %14s %8s %9s%n", "history N",
        "A->B bytes", "B->A bytes", "total bytes", "msgs", "time ms", "initial bytes",
        "msgs", "time ms");
    for (Result r : results) {
      System.out.printf("%-10s | %,12d %,12d %,12d %6d %9d | %,14d %8d %9d%n",
          String.format("%,d", r.n), r.reconnect.bytes[0], r.reconnect.bytes[1],
          r.reconnect.totalBytes(), r.reconnect.totalMessages(), r.reconnectMillis,
          r.initial.totalBytes(), r.initial.totalMessages(), r.initialMillis);
    }
    if (results.size() >= 2) {
      Result small = results.get(0);
      Result large = results.get(results.size() - 1);
      double ratio = (double) large.reconnect.totalBytes() / small.reconnect.totalBytes();
      System.out.printf("%nratio reconnect bytes N=%,d / N=%,d: %.3f (target <= 1.5): %s%n",
          large.n, small.n, ratio, ratio <= 1.5 ? "MET" : "MISSED");
    }
  }
}
