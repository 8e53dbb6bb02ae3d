package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.transport.ClientConfig;
import io.replikon.transport.Connection;
import io.replikon.transport.ConnectionHandler;
import io.replikon.transport.PeerClient;
import io.replikon.transport.Transports;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed commits and a writers list, as a user runs them: {@code keygen}, a peer process with
 * {@code --writers}, collector processes with a listed key and with another, an unlisted client.
 */
class TrustIT {
  static final Pattern LISTENING = Pattern.compile("listening on (ws://\\S+/replikon)");
  static final Pattern HTTP =
      Pattern.compile("listening on (ws://\\S+/replikon); http on (http://\\S+)");
  static final Pattern KEY = Pattern.compile("^ed25519:[A-Za-z0-9_-]{43}$");

  @TempDir
  Path dir;

  @Test
  void keygen_writesAPrivateKey600_printsItsPublicKey_andNeverOverwrites() throws Exception {
    Path file = dir.resolve("alice.key");
    Cli.Result made = Cli.run("", "keygen", "--out", file.toString());
    assertThat(made.exitCode()).isZero();
    assertThat(made.out().strip()).matches(KEY);
    assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    byte[] before = Files.readAllBytes(file);
    Cli.Result again = Cli.run("", "keygen", "--out", file.toString());
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).contains("exists already");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
  }

  @Test
  void peerWithWriters_takesTheListedCollector_refusesAnotherKey_andAnUnlistedClient()
      throws Exception {
    String alice = keygen("alice.key");
    keygen("mallory.key");
    Path writers = Files.writeString(dir.resolve("writers.txt"),
        "# who may write\nalice " + alice + "\n");
    Address address = new Address("alice", UUID.randomUUID());
    Path events = Files.writeString(dir.resolve("events.jsonl"),
        "{\"id\":1,\"text\":\"one\"}\n{\"id\":2,\"text\":\"two\"}\n");
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--writers", writers.toString())) {
      String url = peer.await(LISTENING).group(1);

      Cli.Result in = collect("c1", address, events, url, "alice.key");
      assertThat(in.exitCode()).as(in.out()).isZero();

      Address other = new Address("alice", UUID.randomUUID());
      Cli.Result refused = collect("c2", other, events, url, "mallory.key");
      assertThat(refused.exitCode()).as(refused.out()).isNotZero();
      assertThat(refused.out()).contains("forbidden").contains("not listed for user 'alice'");

      // A client with a key of its own making, as anyone can have, is refused the same way.
      Address third = new Address("alice", UUID.randomUUID());
      try (Peer stranger = Peer.start(
          PeerConfig.client(null).withConnect(List.of(URI.create(url))))) {
        stranger.create(third).get(30, TimeUnit.SECONDS);
        Hash head = stranger.transact(third, List.of(new Transaction("add-tweet",
            JsonNodeFactory.instance.textNode("injected")))).get(30, TimeUnit.SECONDS);
        assertThat(stranger.replicated(third, head))
            .failsWithin(Duration.ofSeconds(30))
            .withThrowableOfType(ExecutionException.class)
            .havingCause().isInstanceOf(ReplikonException.class)
            .withMessageContaining("forbidden");
      }
    }
    Cli.Result log = Cli.run("", "log", "--store", dir.resolve("p").toString());
    assertThat(log.exitCode()).as(log.err()).isZero();
    assertThat(log.out().lines()).hasSize(1).first().asString()
        .startsWith(address + " 2 commits 2 transactions "); // a root and one commit of 2 tweets
  }

  @Test
  void anonymousRawClient_publishingAnUnsignedCommit_isRefused_andNothingIsStored()
      throws Exception {
    Path writers = Files.writeString(dir.resolve("writers.txt"), "alice " + keygen("a.key"));
    Address address = new Address("alice", UUID.randomUUID());
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--http-port", "0", "--writers", writers.toString());
        PeerClient raw = Transports.client(ClientConfig.defaults())) {
      Matcher listening = peer.await(HTTP);
      URI url = URI.create(listening.group(1));
      URI metrics = URI.create(listening.group(2) + "/metrics");
      BlockingQueue<Message> received = new LinkedBlockingQueue<>();
      Connection c = raw.connect(url, new ConnectionHandler() {
        @Override
        public void opened(Connection connection) {}

        @Override
        public void received(Connection connection, Message message) {
          received.add(message);
        }

        @Override
        public void closed(Connection connection, String reason) {}
      }).get(30, TimeUnit.SECONDS);
      c.send(new Message.Hello(1, "anonymous", Message.PROTOCOL_VERSION, Message.Role.CLIENT));
      Update root = Cdvcs.create(address, new Author("alice", SigningKey.generate()), 1);
      Update.Entry unsigned = new Update.Entry(root.lastCommit(), List.of(),
          Signature.of(new byte[Signature.BYTES]));
      c.send(new Message.Publish(2, address, List.of(unsigned), Set.of(root.lastCommit()),
          root.commitValues()));
      Message.ErrorReport answer = null;
      while (answer == null) {
        Message m = received.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("no answer to the publish").isNotNull();
        if (m instanceof Message.ErrorReport e) {
          answer = e;
        }
      }
      assertThat(answer.code()).isEqualTo(Message.ErrorCode.FORBIDDEN);
      assertThat(answer.re()).isEqualTo(2);
      assertThat(answer.message()).contains("signature");
      HttpResponse<String> counted = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(counted.body()).contains("replikon_forbidden_total{reason=\"signature\"} 1");
    }
    Cli.Result log = Cli.run("", "log", "--store", dir.resolve("p").toString());
    assertThat(log.out()).doesNotContain(address.toString());
  }

  @Test
  void sighup_reloadsTheWritersFile_soANewlyListedKeyGetsIn() throws Exception {
    String alice = keygen("alice.key");
    String laptop = keygen("laptop.key");
    Path writers = Files.writeString(dir.resolve("writers.txt"), "alice " + alice + "\n");
    Path events = Files.writeString(dir.resolve("events.jsonl"), "{\"id\":1,\"text\":\"x\"}\n");
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--writers", writers.toString())) {
      String url = peer.await(LISTENING).group(1);
      Address address = new Address("alice", UUID.randomUUID());
      Cli.Result before = collect("c", address, events, url, "laptop.key");
      assertThat(before.exitCode()).as(before.out()).isNotZero();
      assertThat(before.out()).contains("forbidden");

      Files.writeString(writers, "alice " + laptop + "   # her laptop\n",
          StandardOpenOption.APPEND);
      peer.signal("HUP");
      peer.await(Pattern.compile("reloaded the trust files"));
      Cli.Result after = collect("c2", address, events, url, "laptop.key");
      assertThat(after.exitCode()).as(after.out()).isZero();
    }
  }

  @Test
  void peerWithReaders_streamsToAListedKey_andRefusesAnother() throws Exception {
    String writer = keygen("writer.key");
    String reader = keygen("reader.key");
    keygen("stranger.key");
    Path readers = Files.writeString(dir.resolve("readers.txt"),
        "alice " + writer + "\nbob " + reader + "\n");
    Address address = new Address("alice", UUID.randomUUID());
    Path events = Files.writeString(dir.resolve("events.jsonl"), "{\"id\":1,\"text\":\"x\"}\n");
    try (CliProcess peer = CliProcess.start("peer", "--store", dir.resolve("p").toString(),
        "--port", "0", "--readers", readers.toString())) {
      String url = peer.await(LISTENING).group(1);
      Cli.Result in = collect("c", address, events, url, "writer.key");
      assertThat(in.exitCode()).as(in.out()).isZero();

      Cli.Result read = stream(url, address, "out.jsonl", "reader.key");
      assertThat(read.exitCode()).as(read.out()).isZero();
      assertThat(Files.readString(dir.resolve("out.jsonl"))).contains("\"x\"");

      Cli.Result refused = stream(url, address, "refused.jsonl", "stranger.key");
      assertThat(refused.exitCode()).as(refused.out()).isNotZero();
      assertThat(refused.out()).contains("forbidden").contains("not listed");
    }
  }

  /**
   * Runs {@code collect} as a process: the events of a file into {@code crdt}, from a store of its
   * own under the test directory, pushed to the peer at {@code url}, signed with the key file
   * {@code key} there.
   */
  private Cli.Result collect(String store, Address crdt, Path events, String url, String key)
      throws Exception {
    return CliProcess.runToEnd("collect", "--store", dir.resolve(store).toString(), "--crdt",
        crdt.toString(), "--source", "jsonl", "--file", events.toString(), "--connect", url,
        "--key", dir.resolve(key).toString());
  }

  /** Runs {@code stream --until-synced} of {@code crdt} into {@code out}, proving {@code key}. */
  private Cli.Result stream(String url, Address crdt, String out, String key) throws Exception {
    return CliProcess.runToEnd("stream", "--connect", url, "--crdt", crdt.toString(), "--into",
        "jsonl:" + dir.resolve(out), "--until-synced", "--key", dir.resolve(key).toString());
  }

  private String keygen(String name) {
    Cli.Result r = Cli.run("", "keygen", "--out", dir.resolve(name).toString());
    assertThat(r.exitCode()).isZero();
    return r.out().strip();
  }
}
