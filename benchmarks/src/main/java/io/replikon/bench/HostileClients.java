package io.replikon.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Update;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.peer.AccessPolicy;
import io.replikon.protocol.Message;
import io.replikon.protocol.MessageCodec;
import io.replikon.trust.KeyList;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Hostile clients against a real {@code replikon peer} process (issue 11): each attack of the
 * issue, bounded in count and time, against a fresh peer started the way a user starts it,
 * {@code <tree>/replikon peer --host 127.0.0.1 --port P --http-port H --store TMP}, with
 * {@code REPLIKON_JAVA_OPTS=-Xmx256m} (or {@code --java-opts}).
 *
 * <p>Design note. The attacking connections are plain blocking sockets with the WebSocket framing
 * written here (client frames masked with a zero key, which RFC 6455 allows), not Netty: an
 * attacker must be able to stop reading, send half a header, or hold thousands of sockets without
 * a framework doing the polite thing for it. Every blocking call has a socket timeout or a
 * watchdog that closes the socket at the attack's deadline, so every attack stops by itself.
 * Everything happens on 127.0.0.1; ports are found by binding port 0 and closing it.
 *
 * <p>While an attack runs, one thread samples the peer's {@code VmHWM}/{@code VmRSS} from
 * {@code /proc/<pid>/status}, one asks {@code GET /health} every 500 ms (2 s to answer) and one
 * runs a well-behaved client every 2 s (a new connection: hello, subscribe to an address, wait
 * 5 s for the subscribe-ack and the publish that answers it). After the attack: the same once
 * more, {@code /metrics} (refusal counters), the log's size and its {@code OutOfMemoryError}s,
 * and whether SIGTERM stops the process within 20 s (else SIGKILL).
 *
 * <p>Usage: {@code HostileClients [--tree DIR] [--java-opts OPTS] [--only a,b] [--keep]};
 * prints a markdown table and one {@code RESULT {json}} line per attack.
 */
final class HostileClients {
  private static final String HOST = "127.0.0.1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private HostileClients() {}

  record Options(Path tree, String javaOpts, List<String> only, boolean keep) {}

  /** One attack: a name, the bound the issue expects, and what it does to a running peer. */
  record Attack(String name, String title, String bound, AttackBody body) {}

  @FunctionalInterface
  interface AttackBody {
    void run(Target target, Outcome out) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    Path launcher = o.tree().resolve("replikon");
    if (!Files.isExecutable(launcher)) {
      throw new IllegalArgumentException("no executable launcher at " + launcher);
    }
    prebuild(launcher);
    List<Attack> attacks = List.of(
        new Attack("ping-flood", "1. ping flood, pongs never read",
            "one outbound byte budget per connection, then close", HostileClients::pingFlood),
        new Attack("fetch-amplification", "2. fetch of one 1 MiB chunk x1,500 (49.8 KiB)",
            "dedupe, cap hashes per fetch and fetches in flight, serve under backpressure",
            HostileClients::fetchAmplification),
        new Attack("lying-slice", "3. fetch-reply slice claiming total = 1e9",
            "no allocation over the kind's limit (chunk 1 MiB); close the link",
            HostileClients::lyingSlice),
        new Attack("subscribe-50k", "4. subscribe of 50,000 addresses",
            "cap addresses per link; never relay a client's interests",
            HostileClients::subscribeMany),
        new Attack("status-slowloris", "5. slowloris on the status port (1 byte)",
            "status on Netty with read/idle timeouts", HostileClients::statusSlowloris),
        new Attack("no-hello", "6a. WebSocket open + pings, never hello",
            "hello timeout (10 s default)", HostileClients::noHello),
        new Attack("slow-headers", "6b. upgrade headers 1 byte/s",
            "handshake timeout (10 s default)", HostileClients::slowHeaders),
        new Attack("huge-name", "7a. hello with a 15 MiB peer name, 3 connections",
            "peer strings sanitized and capped in logs", HostileClients::hugeName),
        new Attack("newline-name", "7b. hello with a newline in the peer name",
            "control characters escaped in logs", HostileClients::newlineName),
        new Attack("connections-5000", "8. 5,000 concurrent connections",
            "cap on concurrent connections", HostileClients::manyConnections),
        new Attack("unsigned", "9a. publish with zero-byte signatures (anonymous client)",
            "forbidden, nothing stored, the link goes on", HostileClients::unsigned),
        new Attack("self-certifying", "9b. publish to another key's self-certifying address",
            "forbidden, nothing stored, the link goes on", HostileClients::selfCertifying),
        new Attack("unlisted-key", "9c. publish signed by a key not in --writers",
            "forbidden, nothing stored, the link goes on", HostileClients::unlistedKey));
    Path work = Files.createTempDirectory("replikon-bench-attacks-");
    List<Outcome> outcomes = new ArrayList<>();
    for (Attack a : attacks) {
      if (!o.only().isEmpty() && !o.only().contains(a.name())) {
        continue;
      }
      outcomes.add(runOne(a, o, launcher, work));
    }
    System.out.println();
    System.out.println("peer: " + launcher + " with REPLIKON_JAVA_OPTS=" + o.javaOpts());
    System.out.println();
    System.out.println("| attack | bound expected | what the peer did | closed after | "
        + "peak RSS MiB | health ok | other client ok |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Outcome out : outcomes) {
      System.out.println(out.tableRow());
    }
    System.out.println();
    for (Outcome out : outcomes) {
      System.out.println("RESULT " + JSON.writeValueAsString(out.json));
    }
    if (o.keep()) {
      System.out.println("logs and stores kept in " + work);
    } else {
      deleteTree(work);
    }
  }

  private static Options parse(String[] args) {
    Path tree = Path.of(".");
    String opts = "-Xmx256m";
    List<String> only = List.of();
    boolean keep = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--tree" -> tree = Path.of(args[++i]);
        case "--java-opts" -> opts = args[++i];
        case "--only" -> only = List.of(args[++i].split(","));
        case "--keep" -> keep = true;
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: HostileClients [--tree DIR] [--java-opts OPTS] [--only a,b] [--keep]");
      }
    }
    return new Options(tree.toAbsolutePath().normalize(), opts, only, keep);
  }

  /** Runs the launcher once so that its first-run build is not inside an attack's timing. */
  private static void prebuild(Path launcher) throws Exception {
    System.out.println("building/checking " + launcher + " (replikon --help)…");
    Process p = new ProcessBuilder(launcher.toString(), "--help").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(launcher + " --help failed (exit "
          + (p.isAlive() ? "timeout" : p.exitValue()) + ")");
    }
  }

  private static Outcome runOne(Attack a, Options o, Path launcher, Path work) throws Exception {
    System.out.println("== " + a.title() + " (load average " + loadAverage() + ")");
    Outcome out = new Outcome(a);
    Path dir = work.resolve(a.name());
    Files.createDirectories(dir);
    List<String> peerArgs = List.of();
    if (a.name().equals("unlisted-key")) {
      if (!peerHelp(launcher).contains("--writers")) {
        return unlistedKeyInProcess(out, dir);
      }
      peerArgs = List.of("--writers", writersFile(dir).toString());
    }
    Target t = Target.start(launcher, o.javaOpts(), dir, peerArgs);
    out.json.put("loadavg_start", loadAverage());
    out.json.put("ws_port", t.wsPort);
    out.json.put("http_port", t.httpPort);
    out.json.put("rss_start_mib", mib(t.rssKb()));
    long logBefore = t.logBytes();
    long cpuBefore = t.cpuTicks();
    Monitors m = Monitors.start(t);
    try {
      a.body().run(t, out);
    } catch (Exception e) {
      out.note("harness: " + e);
      out.json.put("harness_error", e.toString());
    }
    m.stopDuring();
    Thread.sleep(2000);
    boolean healthAfter = probeHealth(t.httpPort).ok();
    ProbeResult probeAfter = ProbeResult.run(t.wsPort);
    String metrics = get(t.httpPort, "/metrics", 5000).body();
    out.json.put("cpu_s", (t.cpuTicks() - cpuBefore) / 100.0);
    out.json.put("health_during_ok", m.healthOk.get());
    out.json.put("health_during_total", m.healthTotal.get());
    out.json.put("health_after_ok", healthAfter);
    out.json.put("client_during_ok", m.probeOk.get());
    out.json.put("client_during_total", m.probeTotal.get());
    out.json.put("client_after_ok", probeAfter.ok());
    out.json.put("client_after", probeAfter.detail());
    ObjectNode refusals = out.json.putObject("refusal_metrics");
    if (metrics != null) {
      for (String line : metrics.split("\n")) {
        if (!line.startsWith("#") && line.contains("refus") || line.startsWith("replikon_conn")) {
          int sp = line.lastIndexOf(' ');
          if (sp > 0) {
            refusals.put(line.substring(0, sp), line.substring(sp + 1));
          }
        }
      }
    } else {
      refusals.put("unavailable", true);
    }
    out.json.put("log_growth_bytes", t.logBytes() - logBefore);
    out.json.put("oom_in_log", t.countLogLines("OutOfMemoryError"));
    out.json.put("oom_thrown", Files.exists(t.oomMarker));
    boolean alive = t.process.isAlive();
    out.json.put("alive_after", alive);
    long[] rss = t.stop(out);
    out.json.put("peak_rss_mib", mib(rss[0]));
    out.json.put("rss_end_mib", mib(rss[1]));
    out.healthCell = m.healthOk.get() + "/" + m.healthTotal.get() + " during, after: "
        + (healthAfter ? "yes" : "NO");
    out.clientCell = m.probeOk.get() + "/" + m.probeTotal.get() + " during, after: "
        + (probeAfter.ok() ? "yes" : "NO");
    System.out.println("   " + out.tableRow());
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // The attacks

  /**
   * 1. Pings as fast as the socket takes them, 1,000,000 or 30 s (the issue's client sent about
   * a million in 8 s; on a loaded machine fewer fit in 8 s, so the count is the bound); pongs
   * never read.
   */
  private static void pingFlood(Target t, Outcome out) throws Exception {
    try (Ws ws = Ws.open(t.wsPort, 5000)) {
      ws.sendMessage(hello("flooder"));
      byte[] payload = new byte[125]; // the most a control frame may carry
      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      long sent = 0;
      String writeFailure = null;
      Watchdog w = Watchdog.closeAt(ws, deadline + TimeUnit.SECONDS.toNanos(3));
      try {
        while (sent < 1_000_000 && System.nanoTime() < deadline) {
          ws.send(Ws.PING, payload, false);
          sent++;
          if ((sent & 255) == 0) {
            ws.flush();
          }
        }
        ws.flush();
      } catch (IOException e) {
        writeFailure = ws.closedByUs.get()
            ? "our writes blocked until the deadline (the peer stopped reading)"
            : shortError(e);
      } finally {
        w.close();
      }
      out.json.put("sent_pings", sent);
      out.json.put("sent_bytes", sent * (payload.length + 6));
      out.note(String.format(Locale.ROOT, "%,d pings (%.1f MB) in %.1f s", sent,
          sent * (payload.length + 6) / 1e6, (System.nanoTime() - start) / 1e9));
      if (writeFailure != null && ws.closedByUs.get()) {
        out.note(writeFailure);
        return;
      }
      if (writeFailure != null) {
        out.ended("writes failed: " + writeFailure, start);
      }
      // Hold the connection unread a few more seconds: what the peer queued stays queued.
      Thread.sleep(4000);
      Ending e = Ending.await(ws, start, 10_000, 0);
      out.json.put("drained_frames", e.frames);
      out.json.put("drained_bytes", e.bytes);
      out.note(String.format(Locale.ROOT, "drained %,d frames afterwards", e.frames));
      out.ended(e, start);
    }
  }

  /** 2. One 1 MiB chunk stored, then one fetch naming it 1,500 times; replies not read for 10 s. */
  private static void fetchAmplification(Target t, Outcome out) throws Exception {
    Address address = new Address("attacker", UUID.randomUUID());
    Fixture fx = Fixture.withChunk(address, 1_048_000);
    try (Ws pub = Ws.open(t.wsPort, 5000)) {
      pub.sendMessage(hello("publisher"));
      pub.sendMessage(fx.publish(2, true));
      String acked = fx.serveUntilAck(pub, 2, 30_000);
      out.json.put("setup", acked);
      if (!acked.equals("acked")) {
        out.note("setup: chunk not stored (" + acked + ")");
      }
    }
    try (Ws ws = Ws.open(t.wsPort, 5000)) {
      ws.sendMessage(hello("amplifier"));
      List<Hash> hashes = new ArrayList<>();
      for (int i = 0; i < 1500; i++) {
        hashes.add(fx.chunkId);
      }
      byte[] fetch = Raw.fetch(2, hashes);
      long start = System.nanoTime();
      ws.sendBinary(fetch);
      ws.flush();
      out.json.put("sent_bytes", fetch.length);
      out.note(String.format(Locale.ROOT, "1 fetch of 1,500 hashes (%,d B)", fetch.length));
      Thread.sleep(10_000);
      Ending e = Ending.await(ws, start, 20_000, 0);
      out.json.put("reply_bytes_read", e.bytes);
      out.json.put("reply_frames_read", e.frames);
      out.note(String.format(Locale.ROOT, "we then read %,d frames, %.0f MB", e.frames,
          e.bytes / 1e6));
      out.ended(e, start);
    }
  }

  /** 3. A publish whose chunk is not inline; the peer's fetch is answered with a lying slice. */
  private static void lyingSlice(Target t, Outcome out) throws Exception {
    Address address = new Address("attacker", UUID.randomUUID());
    Fixture fx = Fixture.withChunk(address, 1000);
    try (Ws ws = Ws.open(t.wsPort, 5000)) {
      ws.sendMessage(hello("liar"));
      ws.sendMessage(fx.publish(2, false));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      long start = 0;
      ws.timeout(500);
      while (System.nanoTime() < deadline && start == 0) {
        Ws.Frame f;
        try {
          f = ws.read(1 << 20);
        } catch (SocketTimeoutException e) {
          continue;
        }
        if (f == null || f.opcode() == Ws.CLOSE) {
          out.note("closed before it fetched: " + (f == null ? "EOF" : f.describeClose()));
          return;
        }
        Message msg = f.message();
        if (msg instanceof Message.Fetch fetch) {
          long id = 3;
          for (Hash h : fetch.hashes()) {
            byte[] reply = h.equals(fx.chunkId)
                ? Raw.fetchReply(id++, fetch.id(), h, 0, 1_000_000_000L, new byte[] {0x42}, false)
                : MessageCodec.encode(new Message.FetchReply(id++, fetch.id(),
                    List.of(fx.sliceOf(h)), false));
            if (h.equals(fx.chunkId)) {
              start = System.nanoTime();
              out.json.put("sent_bytes", reply.length);
            }
            ws.sendBinary(reply);
          }
          ws.flush();
        }
      }
      if (start == 0) {
        out.note("the peer never fetched the chunk");
        return;
      }
      out.note("1 slice of 1 byte, total 1,000,000,000, last=false");
      AtomicLong acks = new AtomicLong();
      Ending e = Ending.await(ws, start, 15_000, 1 << 20, f -> {
        if (f.message() instanceof Message.PublishAck a && a.re() == 2) {
          acks.incrementAndGet();
        }
      });
      out.ended(e, start);
      if (!e.closed) {
        out.note(acks.get() > 0 ? "the publish was acked" : "link left open, the publish "
            + "neither acked nor refused in 15 s");
      }
    }
  }

  /** 4. A subscribe of 50,000 addresses; a bystander link counts the subscribes relayed to it. */
  private static void subscribeMany(Target t, Outcome out) throws Exception {
    Address own = new Address("bystander", UUID.randomUUID());
    try (Ws bystander = Ws.open(t.wsPort, 5000)) {
      bystander.sendMessage(hello("bystander"));
      bystander.sendMessage(MessageCodec.encode(new Message.Subscribe(2,
          List.of(new Message.Interest(own, Set.of())))));
      AtomicLong relayed = new AtomicLong();
      AtomicLong relayedMessages = new AtomicLong();
      Thread counter = reader("bystander", bystander, f -> {
        if (f.message() instanceof Message.Subscribe s) {
          relayedMessages.incrementAndGet();
          relayed.addAndGet(s.interests().size());
        }
        return true;
      });
      Thread.sleep(1000);
      long relayedBefore = relayed.get();
      List<Address> many = new ArrayList<>();
      for (int i = 0; i < 50_000; i++) {
        many.add(new Address("a", UUID.randomUUID()));
      }
      byte[] subscribe = Raw.subscribe(2, many);
      long cpu0 = t.cpuTicks();
      try (Ws ws = Ws.open(t.wsPort, 5000)) {
        ws.sendMessage(hello("subscriber"));
        long start = System.nanoTime();
        ws.sendBinary(subscribe);
        ws.flush();
        out.json.put("sent_bytes", subscribe.length);
        out.note(String.format(Locale.ROOT, "1 subscribe of 50,000 addresses (%.1f MB)",
            subscribe.length / 1e6));
        AtomicLong ackNanos = new AtomicLong();
        AtomicLong publishes = new AtomicLong();
        Ending e = Ending.await(ws, start, 30_000, 1 << 20, f -> {
          Message msg = f.message();
          if (msg instanceof Message.SubscribeAck a && a.re() == 2) {
            ackNanos.compareAndSet(0, System.nanoTime() - start);
          } else if (msg instanceof Message.Publish) {
            publishes.incrementAndGet();
          }
        });
        out.ended(e, start);
        out.json.put("subscribe_ack_ms", ackNanos.get() / 1_000_000);
        out.json.put("publishes_received", publishes.get());
        out.note(String.format(Locale.ROOT, "ack after %s, %,d publishes back in 30 s",
            ackNanos.get() == 0 ? "never" : ackNanos.get() / 1_000_000 + " ms",
            publishes.get()));
      }
      Thread.sleep(2000);
      out.json.put("peer_cpu_s_after_subscribe", (t.cpuTicks() - cpu0) / 100.0);
      long fanned = relayed.get() - relayedBefore;
      out.json.put("fanned_out_interests", fanned);
      out.json.put("fanned_out_messages", relayedMessages.get());
      out.note(String.format(Locale.ROOT, "bystander link got %,d of the addresses relayed; "
          + "peer CPU %.1f s", fanned, (t.cpuTicks() - cpu0) / 100.0));
      bystander.hangUp();
      counter.join(2000);
    }
  }

  /** 5. One byte on the status port, then nothing for 20 s. */
  private static void statusSlowloris(Target t, Outcome out) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, t.httpPort), 2000);
      long start = System.nanoTime();
      s.getOutputStream().write('G');
      s.getOutputStream().flush();
      out.json.put("sent_bytes", 1);
      out.note("1 byte ('G'), then silence for 20 s");
      s.setSoTimeout(20_000);
      try {
        int b = s.getInputStream().read();
        out.ended(b < 0 ? "EOF from the status server" : "answered (first byte " + b + ")",
            start);
      } catch (SocketTimeoutException e) {
        out.json.put("closed", false);
      } catch (IOException e) {
        out.ended("error: " + e, start);
      }
    }
  }

  /** 6a. The WebSocket handshake, then a ping a second, never hello; up to 30 s. */
  private static void noHello(Target t, Outcome out) throws Exception {
    try (Ws ws = Ws.open(t.wsPort, 5000)) {
      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      int pings = 0;
      out.note("WebSocket open, a ping a second, no hello, up to 30 s");
      ws.timeout(1000);
      while (System.nanoTime() < deadline) {
        try {
          ws.send(Ws.PING, new byte[8], true);
          pings++;
        } catch (IOException e) {
          out.ended("write failed: " + e, start);
          break;
        }
        long next = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        boolean ended = false;
        while (System.nanoTime() < next) {
          try {
            Ws.Frame f = ws.read(1 << 20);
            if (f == null) {
              out.ended("EOF", start);
              ended = true;
              break;
            }
            if (f.opcode() == Ws.CLOSE) {
              out.ended(f.describeClose(), start);
              ended = true;
              break;
            }
            if (f.message() instanceof Message.ErrorReport er) {
              out.note("error " + er.code().wireName() + ": " + er.message());
            }
          } catch (SocketTimeoutException e) {
            break;
          } catch (IOException e) {
            out.ended("read failed: " + e, start);
            ended = true;
            break;
          }
        }
        if (ended) {
          break;
        }
      }
      out.json.put("sent_pings", pings);
    }
  }

  /** 6b. The upgrade request sent one byte a second, up to 30 s. */
  private static void slowHeaders(Target t, Outcome out) throws Exception {
    byte[] request = upgradeRequest(t.wsPort);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, t.wsPort), 2000);
      s.setSoTimeout(1000);
      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      int sent = 0;
      out.note("upgrade request (" + request.length + " B) at 1 byte/s, up to 30 s");
      while (System.nanoTime() < deadline && sent < request.length) {
        try {
          s.getOutputStream().write(request[sent]);
          s.getOutputStream().flush();
          sent++;
        } catch (IOException e) {
          out.ended("write failed: " + e, start);
          break;
        }
        try {
          byte[] buf = new byte[512];
          int n = s.getInputStream().read(buf);
          out.ended(n < 0 ? "EOF" : "answered: "
              + new String(buf, 0, n, StandardCharsets.ISO_8859_1).lines().findFirst()
              .orElse(""), start);
          break;
        } catch (SocketTimeoutException e) {
          // still open
        } catch (IOException e) {
          out.ended("read failed: " + e, start);
          break;
        }
      }
      out.json.put("sent_bytes", sent);
    }
  }

  /** 7a. Three connections, each a hello whose peer name is 15 MiB. */
  private static void hugeName(Target t, Outcome out) throws Exception {
    char[] name = new char[15 << 20];
    Arrays.fill(name, 'A');
    byte[] frame = Raw.hello(new String(name));
    long before = t.logBytes();
    long start = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      try (Ws ws = Ws.open(t.wsPort, 5000)) {
        ws.sendBinary(frame);
        ws.flush();
        Ending e = Ending.await(ws, System.nanoTime(), 3000, 0);
        if (i == 0) {
          out.ended(e, start);
        }
      }
    }
    Thread.sleep(1000);
    long grew = t.logBytes() - before;
    out.json.put("sent_bytes", 3L * frame.length);
    out.json.put("log_bytes_added", grew);
    out.note(String.format(Locale.ROOT, "3 hellos of %.1f MB; the log grew %.1f MB",
        frame.length / 1e6, grew / 1e6));
  }

  /** 7b. A hello whose peer name holds a newline and a forged log line. */
  private static void newlineName(Target t, Outcome out) throws Exception {
    String forged = "00:00:00.000 INFO  PeerCommand - FORGED admin logged in";
    long linesBefore = t.countLogLines("");
    long start = System.nanoTime();
    try (Ws ws = Ws.open(t.wsPort, 5000)) {
      ws.sendMessage(Raw.hello("nice\n" + forged));
      Ending e = Ending.await(ws, start, 3000, 1 << 20);
      if (e.closed) {
        out.ended(e, start);
      }
    }
    Thread.sleep(1000);
    boolean forgedLine = Files.readAllLines(t.log, StandardCharsets.ISO_8859_1).stream()
        .anyMatch(l -> l.startsWith(forged));
    out.json.put("forged_line_in_log", forgedLine);
    out.json.put("log_lines_added", t.countLogLines("") - linesBefore);
    out.note(forgedLine ? "the forged line stands alone in the log"
        : "no forged line in the log");
  }

  /** 8. 5,000 connections (handshake + hello each), held for 5 s; up to 90 s to open them. */
  private static void manyConnections(Target t, Outcome out) throws Exception {
    List<Ws> open = new ArrayList<>();
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(90);
    int failed = 0;
    int consecutive = 0;
    Map<String, Integer> failures = new LinkedHashMap<>();
    byte[] hello = hello("many");
    try {
      while (open.size() < 5000 && System.nanoTime() < deadline && consecutive < 50) {
        try {
          Ws ws = Ws.open(t.wsPort, 3000);
          open.add(ws);
          ws.sendMessage(hello);
          consecutive = 0;
        } catch (IOException e) {
          failed++;
          consecutive++;
          failures.merge(shortError(e), 1, Integer::sum);
        }
      }
      double opening = (System.nanoTime() - start) / 1e9;
      out.json.put("opened", open.size());
      out.json.put("failed", failed);
      out.json.put("failures", failures.toString());
      out.note(String.format(Locale.ROOT, "%,d opened, %,d refused/failed in %.1f s%s",
          open.size(), failed, opening, failures.isEmpty() ? "" : " " + failures));
      Thread.sleep(5000);
      int closed = 0;
      for (Ws ws : open) {
        if (ws.closedByPeer()) {
          closed++;
        }
      }
      out.json.put("closed_by_peer_after_5s", closed);
      out.note(String.format(Locale.ROOT, "%,d of them closed by the peer 5 s later", closed));
      if (closed > 0 || failed > 0) {
        out.json.put("closed", true);
      }
    } finally {
      for (Ws ws : open) {
        ws.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  /** What one attack observed. */
  static final class Outcome {
    final Attack attack;
    final ObjectNode json = F.objectNode();
    final List<String> notes = new ArrayList<>();
    String closedCell = "not closed";
    String healthCell = "";
    String clientCell = "";

    Outcome(Attack attack) {
      this.attack = attack;
      json.put("attack", attack.name());
      json.put("closed", false);
    }

    void note(String s) {
      notes.add(s);
      System.out.println("   " + s);
    }

    void ended(String how, long startNanos) {
      endedAfter(how, (System.nanoTime() - startNanos) / 1e9);
    }

    void endedAfter(String how, double s) {
      if (json.get("closed").asBoolean()) {
        return;
      }
      json.put("closed", true);
      json.put("closed_how", how);
      json.put("closed_after_s", Math.round(s * 10) / 10.0);
      closedCell = String.format(Locale.ROOT, "%.1f s: %s", s, how);
    }

    void ended(Ending e, long startNanos) {
      if (e.closed) {
        endedAfter(e.how, (e.endNanos - startNanos) / 1e9);
      }
      e.errors.forEach(x -> note("peer sent " + x));
      if (!e.errors.isEmpty()) {
        json.put("errors_received", String.join("; ", e.errors));
      }
    }

    String tableRow() {
      StringBuilder did = new StringBuilder(String.join("; ", notes));
      if (json.path("oom_in_log").asLong() > 0) {
        did.append("; **OutOfMemoryError x").append(json.path("oom_in_log").asLong())
            .append(" in the log**");
      }
      if (json.path("oom_thrown").asBoolean() && json.path("oom_in_log").asLong() == 0) {
        did.append("; **an OutOfMemoryError was thrown (none in the log)**");
      }
      if (json.has("alive_after") && !json.get("alive_after").asBoolean()) {
        did.append("; **the process died**");
      }
      if (json.has("sigterm_stopped") && !json.get("sigterm_stopped").asBoolean()) {
        did.append("; **SIGTERM did not stop it (killed)**");
      }
      if (json.get("refusal_metrics") instanceof ObjectNode r) {
        for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> en : r.properties()) {
          if (en.getKey().contains("refus") && !en.getValue().asText().equals("0")) {
            did.append("; ").append(en.getKey()).append(' ').append(en.getValue().asText());
          }
        }
      }
      return "| " + attack.title() + " | " + attack.bound() + " | "
          + did.toString().replace("|", "\\|") + " | " + closedCell.replace("|", "\\|") + " | "
          + json.path("peak_rss_mib").asLong() + " | " + healthCell + " | " + clientCell + " |";
    }
  }

  /** How a connection ended while we read it (or that it did not, within the time). */
  static final class Ending {
    boolean closed;
    String how = "still open";
    long endNanos;
    long frames;
    long bytes;
    final List<String> errors = new ArrayList<>();

    static Ending await(Ws ws, long startNanos, int maxMillis, int keepBytes) {
      return await(ws, startNanos, maxMillis, keepBytes, f -> { });
    }

    /**
     * Reads frames until a close frame, EOF, an error or {@code maxMillis}; frames of more than
     * {@code keepBytes} are counted and skipped; error messages are collected.
     */
    static Ending await(Ws ws, long startNanos, int maxMillis, int keepBytes,
        java.util.function.Consumer<Ws.Frame> each) {
      Ending e = new Ending();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
      Watchdog w = Watchdog.closeAt(ws, deadline + TimeUnit.SECONDS.toNanos(2));
      try {
        while (System.nanoTime() < deadline) {
          ws.timeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline
              - System.nanoTime())));
          Ws.Frame f;
          try {
            f = ws.read(Math.max(keepBytes, 4096));
          } catch (SocketTimeoutException x) {
            break;
          }
          if (f == null) {
            e.end("EOF (no close frame)");
            break;
          }
          e.frames++;
          e.bytes += f.length();
          if (f.opcode() == Ws.CLOSE) {
            e.end(f.describeClose());
            break;
          }
          if (f.opcode() == Ws.BINARY && f.payload() != null) {
            Message m = f.message();
            if (m instanceof Message.ErrorReport er) {
              e.errors.add("error " + er.code().wireName() + ": \"" + er.message() + "\"");
            }
            each.accept(f);
          }
        }
      } catch (IOException x) {
        if (!ws.closedByUs.get()) {
          e.end("read failed: " + shortError(x));
        }
      } finally {
        w.close();
      }
      return e;
    }

    private void end(String how) {
      this.closed = true;
      this.how = how;
      this.endNanos = System.nanoTime();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The peer under attack

  /** A {@code replikon peer} process with its store, log and RSS sampler. */
  static final class Target {
    final Process process;
    final long pid;
    final int wsPort;
    final int httpPort;
    final Path log;
    final Path oomMarker;
    final AtomicLong peakKb = new AtomicLong();
    final AtomicLong lastRssKb = new AtomicLong();
    private final Thread sampler;
    private volatile boolean sampling = true;
    /** Whether the peer was started with a writers file. */
    final boolean writers;

    private Target(Process process, int wsPort, int httpPort, Path log, boolean writers) {
      this.process = process;
      this.writers = writers;
      this.pid = process.pid();
      this.wsPort = wsPort;
      this.httpPort = httpPort;
      this.log = log;
      this.oomMarker = log.resolveSibling("oom-thrown");
      this.sampler = new Thread(this::sample, "rss-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }

    static Target start(Path launcher, String javaOpts, Path dir, List<String> peerArgs)
        throws Exception {
      int ws = freePort();
      int http = freePort();
      while (http == ws) {
        http = freePort();
      }
      Path log = dir.resolve("peer.log");
      // The JVM runs this on the first OutOfMemoryError it throws, caught or not: an Error
      // swallowed by an executor leaves no trace in the log otherwise.
      Path oomHook = dir.resolve("on-oom.sh");
      Files.writeString(oomHook, "#!/bin/sh\ndate +%s >> '" + dir.resolve("oom-thrown")
          + "'\n");
      oomHook.toFile().setExecutable(true);
      List<String> command = new ArrayList<>(List.of(launcher.toString(), "peer", "--host", HOST,
          "--port", Integer.toString(ws), "--http-port", Integer.toString(http),
          "--store", dir.resolve("store").toString(), "--peer-id", "target"));
      command.addAll(peerArgs);
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("REPLIKON_"));
      pb.environment().put("REPLIKON_JAVA_OPTS", javaOpts + " -XX:OnOutOfMemoryError=" + oomHook);
      Process p = pb.start();
      Target t = new Target(p, ws, http, log, peerArgs.contains("--writers"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        if (!p.isAlive()) {
          throw new IllegalStateException("the peer exited at start (" + p.exitValue()
              + "); see " + log);
        }
        if (probeHealth(http).ok()) {
          return t;
        }
        Thread.sleep(200);
      }
      p.destroyForcibly();
      throw new IllegalStateException("the peer did not answer /health in 120 s; see " + log);
    }

    private void sample() {
      while (sampling) {
        long[] r = readStatus();
        if (r[0] > 0) {
          peakKb.accumulateAndGet(r[0], Math::max);
          lastRssKb.set(r[1]);
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** VmHWM and VmRSS in KiB, zeros once the process is gone. */
    long[] readStatus() {
      long hwm = 0;
      long rss = 0;
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
          if (line.startsWith("VmHWM:")) {
            hwm = Long.parseLong(line.replaceAll("[^0-9]", ""));
          } else if (line.startsWith("VmRSS:")) {
            rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException e) {
        // gone
      }
      return new long[] {hwm, rss};
    }

    long rssKb() {
      return readStatus()[1];
    }

    /** utime + stime in clock ticks (100 a second on Linux). */
    long cpuTicks() {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    }

    long logBytes() {
      try {
        return Files.size(log);
      } catch (IOException e) {
        return 0;
      }
    }

    /** Lines of the log containing {@code s} (all lines for ""), read as bytes, no charset. */
    long countLogLines(String s) {
      try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
        // lines starting with '#' are the JVM's own report of running the OOM hook
        return lines.filter(l -> l.contains(s) && (s.isEmpty() || !l.startsWith("#"))).count();
      } catch (IOException | java.io.UncheckedIOException e) {
        return -1;
      }
    }

    /** SIGTERM, 20 s, then SIGKILL. Returns {peak RSS, last RSS} in KiB. */
    long[] stop(Outcome out) throws InterruptedException {
      long[] last = readStatus();
      if (last[0] > 0) {
        peakKb.accumulateAndGet(last[0], Math::max);
        lastRssKb.set(last[1]);
      }
      sampling = false;
      sampler.interrupt();
      if (process.isAlive()) {
        process.destroy();
        boolean stopped = process.waitFor(20, TimeUnit.SECONDS);
        out.json.put("sigterm_stopped", stopped);
        if (!stopped) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      }
      out.json.put("exit_code", process.isAlive() ? -1 : process.exitValue());
      return new long[] {peakKb.get(), lastRssKb.get()};
    }
  }

  /** Health every 500 ms and a well-behaved client every 2 s, while an attack runs. */
  static final class Monitors {
    final AtomicLong healthOk = new AtomicLong();
    final AtomicLong healthTotal = new AtomicLong();
    final AtomicLong probeOk = new AtomicLong();
    final AtomicLong probeTotal = new AtomicLong();
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Thread> threads = new ArrayList<>();

    static Monitors start(Target t) {
      Monitors m = new Monitors();
      m.loop("health-monitor", 500, () -> {
        m.healthTotal.incrementAndGet();
        if (probeHealth(t.httpPort).ok()) {
          m.healthOk.incrementAndGet();
        }
      });
      m.loop("client-monitor", 2000, () -> {
        m.probeTotal.incrementAndGet();
        if (ProbeResult.run(t.wsPort).ok()) {
          m.probeOk.incrementAndGet();
        }
      });
      return m;
    }

    private void loop(String name, long periodMillis, Runnable task) {
      Thread th = new Thread(() -> {
        while (running.get()) {
          long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(periodMillis);
          task.run();
          long wait = TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime());
          if (wait > 0) {
            try {
              Thread.sleep(wait);
            } catch (InterruptedException e) {
              return;
            }
          }
        }
      }, name);
      th.setDaemon(true);
      th.start();
      threads.add(th);
    }

    void stopDuring() throws InterruptedException {
      running.set(false);
      for (Thread th : threads) {
        th.interrupt();
        th.join(10_000);
      }
    }
  }

  /** A well-behaved client: hello, subscribe to one address, answers within 5 s. */
  record ProbeResult(boolean ok, String detail) {
    static ProbeResult run(int port) {
      Address address = new Address("probe", UUID.randomUUID());
      long start = System.nanoTime();
      try (Ws ws = Ws.open(port, 5000)) {
        ws.sendMessage(hello("probe"));
        ws.sendMessage(MessageCodec.encode(new Message.Subscribe(2,
            List.of(new Message.Interest(address, Set.of())))));
        boolean acked = false;
        long deadline = start + TimeUnit.SECONDS.toNanos(5);
        Watchdog w = Watchdog.closeAt(ws, deadline + TimeUnit.SECONDS.toNanos(1));
        try {
          while (System.nanoTime() < deadline) {
            ws.timeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline
                - System.nanoTime())));
            Ws.Frame f = ws.read(1 << 20);
            if (f == null || f.opcode() == Ws.CLOSE) {
              return new ProbeResult(false, f == null ? "EOF" : f.describeClose());
            }
            Message m = f.message();
            if (m instanceof Message.SubscribeAck a && a.re() == 2) {
              acked = true;
            } else if (acked && m instanceof Message.Publish p && p.address().equals(address)) {
              return new ProbeResult(true,
                  "answered in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            }
          }
        } finally {
          w.close();
        }
        return new ProbeResult(false, acked ? "ack but no publish in 5 s" : "no answer in 5 s");
      } catch (IOException | RuntimeException e) {
        return new ProbeResult(false, shortError(e));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hostile messages encoded by hand (docs/PROTOCOL.md, section 4), not by MessageCodec: a codec
  // that learns to refuse them must not stop the harness from sending them.

  static final class Raw {
    private Raw() {}

    private static ObjectNode message(long id, String kind) {
      ObjectNode m = F.objectNode();
      m.put("id", id);
      m.put("kind", kind);
      return m;
    }

    static byte[] hello(String peer) {
      ObjectNode m = message(1, "hello");
      m.put("peer", peer);
      m.put("version", Message.PROTOCOL_VERSION);
      m.put("role", "client");
      return CanonicalCbor.encode(m);
    }

    static byte[] subscribe(long id, List<Address> addresses) {
      ObjectNode m = message(id, "subscribe");
      ArrayNode interests = m.putArray("interests");
      for (Address a : addresses) {
        ObjectNode i = interests.addObject();
        i.set("address", a.toValue());
        i.putArray("heads");
      }
      return CanonicalCbor.encode(m);
    }

    static byte[] fetch(long id, List<Hash> hashes) {
      ObjectNode m = message(id, "fetch");
      ArrayNode list = m.putArray("hashes");
      hashes.forEach(h -> list.add(h.toBytes()));
      return CanonicalCbor.encode(m);
    }

    static byte[] fetchReply(long id, long re, Hash hash, long offset, long total, byte[] bytes,
        boolean last) {
      ObjectNode m = message(id, "fetch-reply");
      m.put("re", re);
      m.putArray("slices").addArray().add(hash.toBytes()).add(offset).add(total).add(bytes);
      m.put("last", last);
      return CanonicalCbor.encode(m);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // A root and one commit with one chunk, to publish

  static final class Fixture {
    /** The key the attacks sign with: a valid signature, so that what is refused is the attack. */
    static final SigningKey ATTACKER = SigningKey.generate();

    final Address address;
    final Commit root;
    final Commit commit;
    final Hash chunkId;
    final byte[] chunk;
    final Map<Hash, byte[]> values = new LinkedHashMap<>();
    final Signature rootSignature;
    final Signature commitSignature;

    private Fixture(Address address, byte[] chunk, SigningKey key, boolean signed) {
      this.address = address;
      long ts = System.currentTimeMillis();
      this.root = new Commit(List.of(), List.of(), "attacker", ts, address, key.verifyingKey());
      this.chunk = chunk;
      this.chunkId = Hash.sha256(chunk);
      this.commit = new Commit(List.of(root.id()), List.of(chunkId), "attacker", ts + 1,
          address, key.verifyingKey());
      Signature none = Signature.of(new byte[Signature.BYTES]);
      this.rootSignature = signed ? key.signCommit(root.id()) : none;
      this.commitSignature = signed ? key.signCommit(commit.id()) : none;
      values.put(root.id(), root.encode());
      values.put(commit.id(), commit.encode());
      values.put(chunkId, chunk);
    }

    /**
     * A fixture whose chunk is one transaction {@code ["blob", "xxx…"]} of about that size, its
     * commits signed by {@link #ATTACKER}.
     */
    static Fixture withChunk(Address address, int bytes) {
      return withChunk(address, bytes, ATTACKER, true);
    }

    /**
     * The same, with the commits naming {@code key} as their signer and signed by it, or with
     * 64 zero bytes for signatures when {@code signed} is false.
     */
    static Fixture withChunk(Address address, int bytes, SigningKey key, boolean signed) {
      ArrayNode tx = F.arrayNode().add("blob").add("x".repeat(bytes));
      byte[] chunk = CanonicalCbor.encode(F.arrayNode().add(tx));
      return new Fixture(address, chunk, key, signed);
    }

    byte[] publish(long id, boolean chunkInline) {
      Map<Hash, byte[]> inline = new LinkedHashMap<>();
      inline.put(root.id(), values.get(root.id()));
      inline.put(commit.id(), values.get(commit.id()));
      if (chunkInline) {
        inline.put(chunkId, chunk);
      }
      return MessageCodec.encode(new Message.Publish(id, address,
          List.of(new Update.Entry(root.id(), List.of(), rootSignature),
              new Update.Entry(commit.id(), List.of(root.id()), commitSignature)),
          Set.of(commit.id()), inline));
    }

    Message.Slice sliceOf(Hash h) {
      byte[] v = values.get(h);
      return v == null ? new Message.Slice(h, 0, -1, new byte[0])
          : new Message.Slice(h, 0, v.length, v);
    }

    /** Answers fetches until the publish {@code id} is acked; returns "acked" or what happened. */
    String serveUntilAck(Ws ws, long id, int maxMillis) throws IOException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
      long next = 100;
      while (System.nanoTime() < deadline) {
        ws.timeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        Ws.Frame f;
        try {
          f = ws.read(1 << 20);
        } catch (SocketTimeoutException e) {
          break;
        }
        if (f == null || f.opcode() == Ws.CLOSE) {
          return f == null ? "EOF" : f.describeClose();
        }
        Message m = f.message();
        if (m instanceof Message.PublishAck a && a.re() == id) {
          return "acked";
        } else if (m instanceof Message.ErrorReport er) {
          return "error " + er.code().wireName() + ": " + er.message();
        } else if (m instanceof Message.Fetch fetch) {
          for (Hash h : fetch.hashes()) {
            ws.sendBinary(MessageCodec.encode(new Message.FetchReply(next++, fetch.id(),
                List.of(sliceOf(h)), false)));
          }
          ws.sendBinary(MessageCodec.encode(new Message.FetchReply(next++, fetch.id(),
              List.of(), true)));
          ws.flush();
        }
      }
      return "no ack in " + maxMillis + " ms";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // A WebSocket client on a blocking socket

  static final class Ws implements Closeable {
    static final int CONTINUATION = 0;
    static final int BINARY = 2;
    static final int CLOSE = 8;
    static final int PING = 9;
    static final int PONG = 10;

    final Socket socket;
    final InputStream in;
    final OutputStream out;
    final AtomicBoolean closedByUs = new AtomicBoolean();
    private final byte[] header = new byte[14];

    private Ws(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new java.io.BufferedInputStream(socket.getInputStream(), 8192);
      this.out = new BufferedOutputStream(socket.getOutputStream(), 8192);
    }

    /** Connects and completes the upgrade to {@code replikon.1}, or throws. */
    static Ws open(int port, int timeoutMillis) throws IOException {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(HOST, port), timeoutMillis);
        s.setTcpNoDelay(true);
        s.setSoTimeout(timeoutMillis);
        Ws ws = new Ws(s);
        ws.out.write(upgradeRequest(port));
        ws.out.flush();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
          int b = ws.in.read();
          if (b < 0) {
            throw new EOFException("connection closed during the handshake"
                + (head.length() > 0 ? ": " + head.toString().lines().findFirst().orElse("")
                    : ""));
          }
          head.append((char) b);
          if (head.length() > 65536) {
            throw new IOException("handshake answer too long");
          }
        }
        String status = head.toString().lines().findFirst().orElse("");
        if (!status.startsWith("HTTP/1.1 101")) {
          throw new IOException("handshake refused: " + status);
        }
        s.setSoTimeout(0);
        return ws;
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e;
      }
    }

    void timeout(int millis) throws IOException {
      socket.setSoTimeout(millis);
    }

    void sendMessage(byte[] frame) throws IOException {
      sendBinary(frame);
      flush();
    }

    void sendBinary(byte[] payload) throws IOException {
      send(BINARY, payload, false);
    }

    /** Writes one final frame, masked with a zero key (the payload goes as it is). */
    void send(int opcode, byte[] payload, boolean flush) throws IOException {
      int n = 0;
      header[n++] = (byte) (0x80 | opcode);
      long len = payload.length;
      if (len < 126) {
        header[n++] = (byte) (0x80 | len);
      } else if (len < 65536) {
        header[n++] = (byte) (0x80 | 126);
        header[n++] = (byte) (len >>> 8);
        header[n++] = (byte) len;
      } else {
        header[n++] = (byte) (0x80 | 127);
        for (int i = 7; i >= 0; i--) {
          header[n++] = (byte) (len >>> (8 * i));
        }
      }
      for (int i = 0; i < 4; i++) {
        header[n++] = 0;
      }
      out.write(header, 0, n);
      out.write(payload);
      if (flush) {
        out.flush();
      }
    }

    void flush() throws IOException {
      out.flush();
    }

    /**
     * Reads one message (fragments joined); null at EOF. Payloads over {@code keep} bytes are
     * skipped and come back as a null payload with their length.
     */
    Frame read(int keep) throws IOException {
      int opcode = -1;
      long total = 0;
      java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
      boolean skipping = false;
      while (true) {
        int b0 = in.read();
        if (b0 < 0) {
          return null;
        }
        int b1 = readByte();
        boolean fin = (b0 & 0x80) != 0;
        int op = b0 & 0x0f;
        long len = b1 & 0x7f;
        if (len == 126) {
          len = (readByte() << 8) | readByte();
        } else if (len == 127) {
          len = 0;
          for (int i = 0; i < 8; i++) {
            len = (len << 8) | readByte();
          }
        }
        if ((b1 & 0x80) != 0) {
          for (int i = 0; i < 4; i++) {
            readByte(); // a server does not mask; ignore the key if it did
          }
        }
        if (op >= 8) {
          // a control frame between fragments: return it on its own
          byte[] p = in.readNBytes((int) len);
          if (p.length < len) {
            throw new EOFException("cut in a control frame");
          }
          return new Frame(op, p, len);
        }
        if (opcode < 0) {
          opcode = op;
        }
        total += len;
        if (skipping || total > keep) {
          skipping = true;
          kept = null;
          long skipped = in.skip(len);
          while (skipped < len) {
            if (in.read() < 0) {
              throw new EOFException("cut in a frame");
            }
            skipped++;
            skipped += in.skip(len - skipped);
          }
        } else {
          byte[] p = in.readNBytes((int) len);
          if (p.length < len) {
            throw new EOFException("cut in a frame");
          }
          kept.write(p);
        }
        if (fin) {
          return new Frame(opcode, kept == null ? null : kept.toByteArray(), total);
        }
      }
    }

    private int readByte() throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("cut in a frame header");
      }
      return b;
    }

    /** True if the peer closed or reset the connection (whatever it sent before is read). */
    boolean closedByPeer() {
      try {
        socket.setSoTimeout(1);
        byte[] buf = new byte[8192];
        while (true) {
          if (in.read(buf) < 0) {
            return true;
          }
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true;
      }
    }

    @Override
    public void close() {
      hangUp();
    }

    /**
     * Closes the socket (idempotent): also inside the try-with-resources that owns it, so that a
     * thread reading from it ends before the attack's figures are taken.
     */
    void hangUp() {
      closedByUs.set(true);
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }

    /** One message or control frame; {@code payload} null if it was skipped. */
    record Frame(int opcode, byte[] payload, long length) {
      Message message() {
        if (opcode != BINARY || payload == null) {
          return null;
        }
        try {
          return MessageCodec.decode(payload);
        } catch (RuntimeException e) {
          return null;
        }
      }

      String describeClose() {
        if (payload == null || payload.length < 2) {
          return "close frame (no status)";
        }
        int code = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
        String reason = new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        return "close " + code + (reason.isEmpty() ? "" : " \"" + reason + "\"");
      }
    }
  }

  /** Closes a socket at a deadline unless closed first: bounds a blocking write or read. */
  static final class Watchdog implements AutoCloseable {
    private final Thread thread;

    private Watchdog(Thread thread) {
      this.thread = thread;
    }

    static Watchdog closeAt(Ws ws, long deadlineNanos) {
      Thread th = new Thread(() -> {
        try {
          long wait = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
          if (wait > 0) {
            Thread.sleep(wait);
          }
          ws.close();
        } catch (InterruptedException e) {
          // released in time
        }
      }, "watchdog");
      th.setDaemon(true);
      th.start();
      return new Watchdog(th);
    }

    @Override
    public void close() {
      thread.interrupt();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A thread that reads frames and hands each to {@code each} until EOF or close. */
  private static Thread reader(String name, Ws ws, Function<Ws.Frame, Boolean> each) {
    Thread th = new Thread(() -> {
      try {
        ws.timeout(0);
        while (true) {
          Ws.Frame f = ws.read(16 << 20);
          if (f == null || f.opcode() == Ws.CLOSE || !each.apply(f)) {
            return;
          }
        }
      } catch (IOException e) {
        // closed
      }
    }, name);
    th.setDaemon(true);
    th.start();
    return th;
  }

  static byte[] hello(String peer) {
    return MessageCodec.encode(new Message.Hello(1, peer, Message.PROTOCOL_VERSION,
        Message.Role.CLIENT));
  }

  static byte[] upgradeRequest(int port) {
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    return ("GET " + Message.PATH + " HTTP/1.1\r\n"
        + "Host: " + HOST + ":" + port + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Protocol: " + Message.SUBPROTOCOL + "\r\n"
        + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  record HttpAnswer(int status, String body, String error) {
    boolean ok() {
      return status == 200;
    }
  }

  static HttpAnswer probeHealth(int port) {
    return get(port, "/health", 2000);
  }

  /** GET on a new connection; the whole exchange within {@code timeoutMillis}. */
  static HttpAnswer get(int port, String path, int timeoutMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, port), timeoutMillis);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + HOST + ":" + port
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      while (true) {
        int left = (int) TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new SocketTimeoutException("no whole answer in " + timeoutMillis + " ms");
        }
        s.setSoTimeout(left);
        int n = s.getInputStream().read(buf);
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
        if (got.size() > (4 << 20) || complete(got.toByteArray())) {
          break;
        }
      }
      String text = got.toString(StandardCharsets.UTF_8);
      String[] first = text.lines().findFirst().orElse("").split(" ");
      int status = first.length > 1 ? Integer.parseInt(first[1]) : -1;
      int body = text.indexOf("\r\n\r\n");
      return new HttpAnswer(status, body < 0 ? "" : text.substring(body + 4), null);
    } catch (IOException | RuntimeException e) {
      return new HttpAnswer(-1, null, e.toString());
    }
  }

  /** True once an HTTP answer is whole: by Content-Length, chunked end, or (else) at EOF. */
  private static boolean complete(byte[] answer) {
    String text = new String(answer, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    String head = text.substring(0, end).toLowerCase(Locale.ROOT);
    for (String line : head.split("\r\n")) {
      if (line.startsWith("content-length:")) {
        long length = Long.parseLong(line.substring(15).trim());
        return answer.length - (end + 4) >= length;
      }
    }
    return head.contains("transfer-encoding: chunked") && text.endsWith("\r\n0\r\n\r\n");
  }

  /** The 1-minute load average, from /proc/loadavg. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(HOST, 0));
      return s.getLocalPort();
    }
  }

  /** The writers file of attack 9c: user {@code attacker} may write with one key, not ours. */
  static final SigningKey LISTED = SigningKey.generate();

  static Path writersFile(Path dir) throws IOException {
    Path f = dir.resolve("writers");
    Files.writeString(f, "# HostileClients: the attacker's key is not listed\nattacker "
        + LISTED.verifyingKey() + "\n");
    return f;
  }

  /**
   * Attack 9c when the launcher's peer has no {@code --writers}: against a server {@link Peer}
   * in this JVM with the same writers list through {@code PeerConfig.withAccess}. The same
   * checks (forbidden; the link goes on; nothing stored; a well-behaved client after), without
   * the process figures (RSS, health, CPU, log).
   */
  private static Outcome unlistedKeyInProcess(Outcome out, Path dir) throws Exception {
    out.note("in-process peer (PeerConfig.withAccess): this launcher's peer has no --writers");
    out.json.put("in_process", true);
    KeyList writers = KeyList.read(writersFile(dir), false);
    int ws = freePort();
    try (Peer peer = Peer.start(PeerConfig.server(dir.resolve("store")).withPeerId("target")
        .withListen(HOST, ws)
        .withAccess(() -> new AccessPolicy(Optional.of(writers), Optional.empty())))) {
      int port = peer.url().orElseThrow().getPort();
      refusedPublish(port, true, out);
      ProbeResult probe = ProbeResult.run(port);
      out.json.put("client_after_ok", probe.ok());
      out.clientCell = "after: " + (probe.ok() ? "yes" : "NO");
      out.healthCell = "not measured (in process)";
    }
    System.out.println("   " + out.tableRow());
    return out;
  }

  /** The output of {@code <launcher> peer --help}, to see which flags this peer has. */
  static String peerHelp(Path launcher) throws Exception {
    Process p = new ProcessBuilder(launcher.toString(), "peer", "--help")
        .redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return text;
  }

  /** 9a. A root and a commit whose signatures are 64 zero bytes, as a client without a key. */
  private static void unsigned(Target t, Outcome out) throws Exception {
    Address address = new Address("attacker", UUID.randomUUID());
    refusedPublish(t.wsPort, t.writers, out, Fixture.withChunk(address, 1000, Fixture.ATTACKER,
        false));
  }

  /**
   * 9b. Commits correctly signed by the attacker's key to {@code ed25519:<another key>/...}, an
   * address only that other key may write (no writers file needed).
   */
  private static void selfCertifying(Target t, Outcome out) throws Exception {
    Address address = new Address(SigningKey.generate().verifyingKey().toString(),
        UUID.randomUUID());
    refusedPublish(t.wsPort, t.writers, out, Fixture.withChunk(address, 1000));
  }

  /**
   * 9c. Commits correctly signed by the attacker's key to {@code attacker/...}, on a peer whose
   * writers file lists another key for {@code attacker}.
   */
  private static void unlistedKey(Target t, Outcome out) throws Exception {
    refusedPublish(t.wsPort, t.writers, out);
  }

  private static void refusedPublish(int wsPort, boolean writers, Outcome out) throws Exception {
    Address address = new Address("attacker", UUID.randomUUID());
    refusedPublish(wsPort, writers, out, Fixture.withChunk(address, 1000));
  }

  /**
   * Publishes {@code fx} (every value inline), expects {@code forbidden} for it; then, on the
   * same connection, a good publish (signed by the attacker's key, to a plain address, which
   * this peer takes unless a writers file says otherwise: then the listed key signs it) must be
   * acked; then a new connection subscribes to {@code fx}'s address and must be told no heads.
   */
  private static void refusedPublish(int wsPort, boolean writers, Outcome out, Fixture fx)
      throws Exception {
    try (Ws ws = Ws.open(wsPort, 5000)) {
      ws.sendMessage(hello("forger"));
      long start = System.nanoTime();
      ws.sendMessage(fx.publish(2, true));
      ws.flush();
      String answer = fx.serveUntilAck(ws, 2, 15_000);
      out.json.put("answer", answer);
      out.note(String.format(Locale.ROOT, "answered in %.0f ms: %s",
          (System.nanoTime() - start) / 1e6, cut(answer, 160)));
      if (answer.startsWith("EOF") || answer.startsWith("close")) {
        out.ended(answer, start);
        return;
      }
      SigningKey good = writers ? LISTED : Fixture.ATTACKER;
      Fixture ok = Fixture.withChunk(new Address("attacker", UUID.randomUUID()), 1000, good, true);
      ws.sendMessage(ok.publish(3, true));
      ws.flush();
      String then = ok.serveUntilAck(ws, 3, 15_000);
      out.json.put("same_link_after", then);
      out.note("then a signed publish on the same link: " + cut(then, 80));
    }
    Set<Hash> heads = storedHeads(wsPort, fx.address);
    out.json.put("stored_heads", heads == null ? -1 : heads.size());
    out.note(heads == null ? "stored: no answer to a subscribe"
        : heads.isEmpty() ? "nothing stored (a new subscriber is told no heads)"
        : "**stored: a new subscriber is told " + heads.size() + " head(s)**");
  }

  /**
   * The heads a new connection is told for {@code address} after subscribing to it (empty: the
   * peer holds nothing there), or null without an answer in 5 s.
   */
  static Set<Hash> storedHeads(int port, Address address) {
    try (Ws ws = Ws.open(port, 5000)) {
      ws.sendMessage(hello("checker"));
      ws.sendMessage(MessageCodec.encode(new Message.Subscribe(2,
          List.of(new Message.Interest(address, Set.of())))));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline) {
        ws.timeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline
            - System.nanoTime())));
        Ws.Frame f = ws.read(1 << 20);
        if (f == null || f.opcode() == Ws.CLOSE) {
          return null;
        }
        if (f.message() instanceof Message.Publish p && p.address().equals(address)) {
          return p.heads();
        }
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }

  static String shortError(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  static long mib(long kb) {
    return Math.round(kb / 1024.0);
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
