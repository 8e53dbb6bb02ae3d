package io.replikon.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.protocol.Message;
import io.replikon.transport.ClientConfig;
import io.replikon.transport.Connection;
import io.replikon.transport.ConnectionHandler;
import io.replikon.transport.PeerClient;
import io.replikon.transport.Transports;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer that lies, over a real socket: the server closes its connection with an error, stores
 * nothing of what it offered, and keeps serving an honest client connected before it.
 */
class BadPeerIT {
  static final Address HONEST = new Address("alice", new UUID(1, 1));
  static final Address FORGED = new Address("mallory", new UUID(6, 6));

  @TempDir Path dir;
  Peer server;
  Peer honest;
  PeerClient transport;

  @BeforeEach
  void start() throws Exception {
    server = Peer.start(PeerConfig.server(dir.resolve("server")).withPeerId("server")
        .withFetchTimeout(Duration.ofSeconds(1)));
    honest = Peer.start(PeerConfig.client(dir.resolve("honest")).withPeerId("honest")
        .withConnect(List.of(server.url().orElseThrow())));
    honest.create(HONEST).get(30, TimeUnit.SECONDS);
    awaitServerHas(HONEST, 1);
    transport = Transports.client(ClientConfig.defaults());
  }

  @AfterEach
  void stop() {
    transport.close();
    honest.close();
    server.close();
  }

  /** The other end of the evil connection: what the server sends, and how it closed. */
  static final class Evil implements ConnectionHandler {
    final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();

    @Override
    public void opened(Connection connection) {}

    @Override
    public void received(Connection connection, Message message) {
      received.add(message);
    }

    @Override
    public void closed(Connection connection, String reason) {
      closed.complete(reason);
    }

    <T extends Message> T next(Class<T> type) throws InterruptedException {
      while (true) {
        Message m = received.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("waiting for a %s", type.getSimpleName()).isNotNull();
        if (type.isInstance(m)) {
          return type.cast(m);
        }
      }
    }
  }

  void awaitServerHas(Address address, long commits) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(server.status().get().cdvcs()).anySatisfy(s -> {
          assertThat(s.address()).isEqualTo(address);
          assertThat(s.commitCount()).isEqualTo(commits);
        }));
  }

  /**
   * Connects, says hello, and publishes a root and a commit of 3 transactions whose chunk is left
   * to fetch; {@code answer} makes the reply to that fetch (null: never answer).
   */
  Evil publishAndAnswer(Function<Message.Fetch, Message.FetchReply> answer) throws Exception {
    Evil evil = new Evil();
    Connection c = transport.connect(server.url().orElseThrow(), evil).get(30, TimeUnit.SECONDS);
    c.send(new Message.Hello(1, "mallory", Message.PROTOCOL_VERSION, Message.Role.CLIENT));
    evil.next(Message.Hello.class);
    Cdvcs state = Cdvcs.empty(FORGED);
    Author mallory = new Author("mallory", SigningKey.generate());
    Update root = Cdvcs.create(FORGED, mallory, 1);
    state.apply(root);
    Update commit = state.transact(List.of(new Transaction("add",
        JsonNodeFactory.instance.textNode("x"))), mallory, 2);
    List<Update.Entry> entries = new ArrayList<>(root.commits());
    entries.addAll(commit.commits());
    Map<Hash, byte[]> values = new HashMap<>(root.commitValues());
    values.putAll(commit.commitValues());
    c.send(new Message.Publish(2, FORGED, entries, Set.of(commit.lastCommit()), values));
    Message.Fetch fetch = evil.next(Message.Fetch.class);
    if (answer != null) {
      c.send(answer.apply(fetch));
    }
    return evil;
  }

  void assertRefusedAndUnharmed(Evil evil, Message.ErrorCode code) throws Exception {
    Message.ErrorReport error = evil.next(Message.ErrorReport.class);
    assertThat(error.code()).isEqualTo(code);
    assertThat(evil.closed.get(30, TimeUnit.SECONDS)).isNotNull();
    assertThat(server.status().get().cdvcs()).extracting(s -> s.address())
        .as("nothing of the forged publish is stored").doesNotContain(FORGED);
    assertThat(server.status().get().counters().refusals()).isEqualTo(1);
    // the honest client, connected all along, is still served
    honest.transact(HONEST, List.of(new Transaction("add",
        JsonNodeFactory.instance.textNode("still here")))).get(30, TimeUnit.SECONDS);
    awaitServerHas(HONEST, 2);
  }

  @Test
  void fetchedChunkThatDoesNotMatchItsHash_isRefused() throws Exception {
    Evil evil = publishAndAnswer(fetch -> {
      byte[] forged = "forged".getBytes(StandardCharsets.UTF_8);
      return new Message.FetchReply(3, fetch.id(),
          List.of(new Message.Slice(fetch.hashes().get(0), 0, forged.length, forged)), true);
    });
    assertRefusedAndUnharmed(evil, Message.ErrorCode.HASH_MISMATCH);
  }

  @Test
  void publishWhoseValuesTheSenderSaysItLacks_isRefused() throws Exception {
    Evil evil = publishAndAnswer(fetch -> new Message.FetchReply(3, fetch.id(),
        List.of(new Message.Slice(fetch.hashes().get(0), 0, -1, new byte[0])), true));
    assertRefusedAndUnharmed(evil, Message.ErrorCode.MISSING_CONTENT);
  }

  @Test
  void publishWhoseFetchIsNeverAnswered_isRefusedAfterTheTimeout() throws Exception {
    Evil evil = publishAndAnswer(null);
    assertRefusedAndUnharmed(evil, Message.ErrorCode.MISSING_CONTENT);
  }

  @Test
  void messageBeforeHello_isRefused() throws Exception {
    Evil evil = new Evil();
    Connection c = transport.connect(server.url().orElseThrow(), evil).get(30, TimeUnit.SECONDS);
    c.send(new Message.Fetch(1, List.of()));
    Message.ErrorReport error = evil.next(Message.ErrorReport.class);
    assertThat(error.code()).isEqualTo(Message.ErrorCode.PROTOCOL);
    assertThat(evil.closed.get(30, TimeUnit.SECONDS)).isNotNull();
  }
}
