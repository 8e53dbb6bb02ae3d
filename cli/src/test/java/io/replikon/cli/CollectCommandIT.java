package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.value.Hash;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replikon collect}, in-process, against a server peer on loopback. */
class CollectCommandIT {
  @TempDir Path dir;
  private final Address address = new Address("alice", UUID.randomUUID());

  private static List<Transaction> transactions(Peer peer, Address address) {
    List<Transaction> out = new ArrayList<>();
    for (Hash id : peer.commitsAfter(address, Set.of()).join()) {
      out.addAll(peer.transactions(peer.commit(id)));
    }
    return out;
  }

  @Test
  void collect_jsonlWithConnect_exitsZeroOnceTheServerHoldsEveryLine() throws Exception {
    Path file = dir.resolve("t.jsonl");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 2500; i++) {
      text.append("{\"id\":").append(i).append(",\"text\":\"tweet ").append(i).append("\"}\n");
    }
    text.append("not json\n");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    try (Peer server = Peer.start(PeerConfig.server(dir.resolve("server")))) {
      Cli.Result result = Cli.run("", "collect", "--store", dir.resolve("c").toString(),
          "--user", address.user(), "--crdt", address.id().toString(), "--source", "jsonl",
          "--file", file.toString(), "--connect", server.url().orElseThrow().toString(),
          "--flush-threshold", "1000");
      assertThat(result.exitCode()).as(result.err()).isZero();
      server.subscribe(address).get(30, TimeUnit.SECONDS);
      List<Transaction> txs = transactions(server, address);
      assertThat(txs).hasSize(2500);
      assertThat(txs).allMatch(t -> t.fn().equals("add-tweet"));
      assertThat(server.commitsAfter(address, Set.of()).join()).hasSize(4); // root + 3 batches
    }
  }

  @Test
  void collect_unreachableServer_failsWithAClearError() {
    Cli.Result result = Cli.run("", "collect", "--store", dir.resolve("c").toString(),
        "--crdt", address.toString(), "--source", "jsonl", "--file", "x.jsonl",
        "--connect", "ws://127.0.0.1:1/replikon", "--join-timeout", "2s");
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err()).contains("no answer about").contains("ws://127.0.0.1:1/replikon")
        .contains("within 2 s");
  }

  @Test
  void collect_badArguments_exitTwoWithTheReason() {
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", "not-a-uuid", "--user", "u",
        "--source", "jsonl").err()).contains("--crdt must be a UUID");
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "carrier-pigeon").err()).contains("unknown source 'carrier-pigeon'");
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "http").err()).contains("the http source needs --http-port");
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "jsonl", "--flush-interval", "soon").err())
        .contains("'soon' is not a positive duration");
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "jsonl", "--port", "0", "--connect", "ws://x/replikon").exitCode())
        .isEqualTo(2);
    Path credentials = dir.resolve("twitter.properties");
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "twitter", "--twitter-credentials", credentials.toString()).err())
        .contains(credentials.toString());
    assertThat(Cli.run("", "collect", "--store", "s", "--crdt", address.toString(),
        "--source", "jetstream", "--jetstream-url", "http://example.org/subscribe").err())
        .contains("ws");
  }

  @Test
  void collect_httpTokenFileEmptyOrMissing_isRefusedBeforeListening() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "\n");
    Cli.Result empty = Cli.run("", "collect", "--store", dir.resolve("s").toString(), "--crdt",
        address.toString(), "--source", "http", "--http-port", "0", "--http-token",
        token.toString());
    assertThat(empty.exitCode()).isEqualTo(1);
    assertThat(empty.err()).contains(token.toString()).contains("empty");
    assertThat(Cli.run("", "collect", "--store", dir.resolve("s").toString(), "--crdt",
        address.toString(), "--source", "http", "--http-port", "0", "--http-token",
        dir.resolve("none").toString()).err()).contains("no such token file");
  }

  @Test
  void collectHelp_namesTheHardeningFlagsAndStatusCodes() {
    String help = Cli.run("", "collect", "--help").out();
    assertThat(help).contains("--http-token", "REPLIKON_HTTP_TOKEN_FILE", "--repair-journal",
        "--http-read-timeout", "415", "401", "409", "431");
  }

  /** The collector's server peer once it listens: its WebSocket host, and its HTTP host if any. */
  private static final Pattern STARTED = Pattern.compile(
      "started on .*listening on ws://(\\S+):\\d+/replikon(?:, http on /(\\S+):\\d+)?");

  private Path lines() throws java.io.IOException {
    return Files.writeString(dir.resolve("t.jsonl"), "{\"id\":1,\"text\":\"one\"}\n");
  }

  @Test
  void collect_portBeyondLoopback_withoutWritersOrOpen_exitsTwo_andCreatesNothing()
      throws Exception {
    Path store = dir.resolve("never");
    try (CliProcess collector = CliProcess.start("collect", "--store", store.toString(),
        "--crdt", address.toString(), "--source", "jsonl", "--file", lines().toString(),
        "--port", "0", "--host", "0.0.0.0")) {
      assertThat(collector.exitCode()).as(collector.output()).isEqualTo(2);
      assertThat(collector.output()).contains("refusing to listen on 0.0.0.0: without --writers "
          + "FILE").contains("or --open to accept anyone");
    }
    assertThat(store).doesNotExist();
    // Without --port it is no server peer: the rule does not apply (here it fails to connect).
    Cli.Result client = Cli.run("", "collect", "--store", store.toString(), "--crdt",
        address.toString(), "--source", "jsonl", "--file", lines().toString(), "--host",
        "0.0.0.0", "--connect", "ws://127.0.0.1:1/replikon", "--join-timeout", "1s");
    assertThat(client.exitCode()).as(client.err()).isEqualTo(1);
    assertThat(client.err()).doesNotContain("refusing");
  }

  @Test
  void collect_listensOnLoopbackByDefault_ingestToo() throws Exception {
    try (CliProcess collector = CliProcess.start("collect", "--store",
        dir.resolve("c").toString(), "--crdt", address.toString(), "--source", "http",
        "--http-port", "0", "--port", "0")) {
      // The ingest starts first.
      collector.await(Pattern.compile("HTTP ingest listening on http://127\\.0\\.0\\.1:"));
      assertThat(collector.await(STARTED).group(1)).isEqualTo("127.0.0.1");
      assertThat(collector.output()).doesNotContain("WARN");
    }
  }

  @Test
  void collect_portBeyondLoopback_withOpen_starts_andTheStatusPortTakesItsHttpHost()
      throws Exception {
    try (CliProcess collector = CliProcess.start("collect", "--store",
        dir.resolve("c").toString(), "--crdt", address.toString(), "--source", "jsonl",
        "--file", lines().toString(), "--port", "0", "--host", "0.0.0.0", "--open",
        "--http-port", "0", "--http-host", "127.0.0.1")) {
      Matcher started = collector.await(STARTED);
      assertThat(InetAddress.getByName(started.group(1)).isLoopbackAddress()).as(started.group())
          .isFalse();
      assertThat(started.group(2)).isEqualTo("127.0.0.1");
      assertThat(collector.output()).contains("with --open");
    }
  }

  @Test
  void collect_httpHost_movesTheIngest_withAWarningWithoutAToken() throws Exception {
    try (CliProcess collector = CliProcess.start("collect", "--store",
        dir.resolve("c").toString(), "--crdt", address.toString(), "--source", "http",
        "--http-port", "0", "--http-host", "0.0.0.0")) {
      collector.await(Pattern.compile("HTTP ingest listening on http://0\\.0\\.0\\.0:"));
      assertThat(collector.output()).contains("POST /events on 0.0.0.0 takes events from anyone "
          + "who can reach it: give --http-token FILE");
    }
  }
}
