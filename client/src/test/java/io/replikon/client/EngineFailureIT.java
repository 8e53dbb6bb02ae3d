package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.peer.Link;
import io.replikon.peer.PeerEvents;
import io.replikon.protocol.Message;
import io.replikon.transport.ClientConfig;
import io.replikon.transport.Connection;
import io.replikon.transport.PeerClient;
import io.replikon.transport.Transports;
import io.replikon.value.Hash;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An Error raised on the engine thread while it handles one connection's messages (here an
 * OutOfMemoryError or StackOverflowError thrown as that connection says hello): that connection
 * is closed with an error {@code internal} and counted, and the peer goes on serving the others.
 */
class EngineFailureIT {
  static final Address NOTES = new Address("alice", new UUID(4, 4));

  @TempDir Path dir;
  Peer server;
  Peer writer;
  Peer reader;
  PeerClient transport;

  @BeforeEach
  void start() {
    server = RunningPeer.start(PeerConfig.server(dir.resolve("server")).withPeerId("server"),
        new PeerEvents() {
          @Override
          public void connected(Link link, Message.Hello hello) {
            if (hello.peer().equals("evil-oom")) {
              throw new OutOfMemoryError("simulated: this connection's input exhausted the heap");
            }
            if (hello.peer().equals("evil-deep")) {
              throw new StackOverflowError("simulated");
            }
          }
        });
    writer = Peer.start(PeerConfig.client(dir.resolve("writer")).withPeerId("writer")
        .withConnect(List.of(server.url().orElseThrow())));
    reader = Peer.start(PeerConfig.client(dir.resolve("reader")).withPeerId("reader")
        .withConnect(List.of(server.url().orElseThrow())));
    transport = Transports.client(ClientConfig.defaults());
  }

  @AfterEach
  void stop() {
    transport.close();
    reader.close();
    writer.close();
    server.close();
  }

  /** Connects as {@code name}, says hello, and returns the error that closes the connection. */
  Message.ErrorReport helloAs(String name) throws Exception {
    BadPeerIT.Evil evil = new BadPeerIT.Evil();
    Connection c = transport.connect(server.url().orElseThrow(), evil).get(30, TimeUnit.SECONDS);
    c.send(new Message.Hello(1, name, Message.PROTOCOL_VERSION, Message.Role.CLIENT));
    evil.next(Message.Hello.class);
    Message.ErrorReport error = evil.next(Message.ErrorReport.class);
    assertThat(evil.closed.get(30, TimeUnit.SECONDS)).isNotNull();
    return error;
  }

  @Test
  void anErrorOnOneConnection_closesIt_andTheOtherConnectionsKeepReplicating() throws Exception {
    Hash root = writer.create(NOTES).get(30, TimeUnit.SECONDS);
    reader.subscribe(NOTES).get(30, TimeUnit.SECONDS);
    assertThat(helloAs("evil-oom").code()).isEqualTo(Message.ErrorCode.INTERNAL);
    assertThat(helloAs("evil-deep").code()).isEqualTo(Message.ErrorCode.INTERNAL);
    Hash next = writer.transact(NOTES, List.of(new Transaction("add",
        JsonNodeFactory.instance.textNode("after the errors")))).get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(reader.heads(NOTES).get()).containsExactly(next));
    assertThat(next).isNotEqualTo(root);
    PeerStatus.Counters counters = server.status().get(30, TimeUnit.SECONDS).counters();
    assertThat(counters.internalErrors()).isEqualTo(2);
    assertThat(server.status().get(30, TimeUnit.SECONDS).connections()).hasSize(2);
  }

  @Test
  void aPeerIdWithANewline_isLoggedOnOneLine() throws Exception {
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(RunningPeer.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      BadPeerIT.Evil evil = new BadPeerIT.Evil();
      Connection c = transport.connect(server.url().orElseThrow(), evil)
          .get(30, TimeUnit.SECONDS);
      c.send(new Message.Hello(1, "mallory\n02:00:00.000 INFO forged line",
          Message.PROTOCOL_VERSION, Message.Role.CLIENT));
      evil.next(Message.Hello.class);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(snapshot(lines))
          .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("mallory")));
      assertThat(snapshot(lines)).allSatisfy(e -> assertThat(e.getFormattedMessage())
          .doesNotContain("\n"));
      c.close(null);
    } finally {
      log.detachAppender(lines);
    }
  }

  /** The lines logged so far (the appender adds under its own lock). */
  static List<ch.qos.logback.classic.spi.ILoggingEvent> snapshot(
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines) {
    synchronized (lines) {
      return List.copyOf(lines.list);
    }
  }
}
