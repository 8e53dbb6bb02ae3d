package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Transaction;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.value.Hash;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replikon stream} against a real server peer over loopback. */
class StreamCommandIT {
  static final Address TWEETS = new Address("alice", new UUID(8, 8));

  @TempDir Path dir;

  static List<Transaction> tweets(int from, int n) {
    List<Transaction> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(new Transaction("add-tweet", JsonNodeFactory.instance.objectNode()
          .put("id", i).put("created_at", "Wed Oct 10 20:19:24 +0000 2018")
          .put("text", i % 10 == 0 ? "about ethereum " + i : "tweet " + i)
          .set("user", JsonNodeFactory.instance.objectNode().put("screen_name", "u" + i % 7))));
    }
    return out;
  }

  static long count(Path db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        ResultSet r = c.createStatement().executeQuery(sql)) {
      return r.getLong(1);
    }
  }

  @Test
  void stream_untilSynced_realizesIntoSqlite_andAgainOnlyWhatIsNew() throws Exception {
    try (Peer server = Peer.start(PeerConfig.server(dir.resolve("server")))) {
      server.create(TWEETS).get(30, TimeUnit.SECONDS);
      server.transact(TWEETS, tweets(0, 300)).get(30, TimeUnit.SECONDS);
      server.transact(TWEETS, tweets(300, 200)).get(30, TimeUnit.SECONDS);
      Path db = dir.resolve("tweets.db");
      String url = server.url().orElseThrow().toString();
      Cli.Result r = Cli.run("", "stream", "--connect", url, "--crdt", TWEETS.toString(),
          "--into", "sqlite:" + db, "--until-synced");
      assertThat(r.exitCode()).as(r.err()).isZero();
      assertThat(count(db, "select count(*) from ops")).isEqualTo(500);
      assertThat(count(db, "select count(*) from tweets_fts where tweets_fts match 'ethereum'"))
          .isEqualTo(50);
      assertThat(Files.isDirectory(dir.resolve("tweets.db.replikon"))).isTrue();

      server.transact(TWEETS, tweets(500, 10)).get(30, TimeUnit.SECONDS);
      Cli.Result again = Cli.run("", "stream", "--connect", url, "--crdt", TWEETS.toString(),
          "--into", "sqlite:" + db, "--until-synced");
      assertThat(again.exitCode()).as(again.err()).isZero();
      assertThat(count(db, "select count(*) from ops")).isEqualTo(510);
      assertThat(count(db, "select count(*) from (select commit_id, tx_index from ops "
          + "group by commit_id, tx_index having count(*) > 1)")).isZero();
    }
  }

  @Test
  void stream_badTransactions_goToRejected_andTheStreamGoesOn_unlessStrict() throws Exception {
    try (Peer server = Peer.start(PeerConfig.server(null))) {
      server.create(TWEETS).get(30, TimeUnit.SECONDS);
      server.transact(TWEETS, tweets(0, 3)).get(30, TimeUnit.SECONDS);
      List<Transaction> bad = new ArrayList<>(tweets(3, 1));
      bad.add(new Transaction("add-tweet", JsonNodeFactory.instance.numberNode(42)));
      bad.add(new Transaction("add-tweet", JsonNodeFactory.instance.objectNode()
          .put("text", "a status without an id")));
      bad.addAll(tweets(4, 1));
      Hash badCommit = server.transact(TWEETS, bad).get(30, TimeUnit.SECONDS);
      server.transact(TWEETS, tweets(5, 3)).get(30, TimeUnit.SECONDS);
      String url = server.url().orElseThrow().toString();

      Path strictDb = dir.resolve("strict.db");
      Cli.Result strict = Cli.run("", "stream", "--connect", url, "--crdt", TWEETS.toString(),
          "--into", "sqlite:" + strictDb, "--until-synced", "--strict");
      assertThat(strict.exitCode()).as(strict.err()).isEqualTo(1);
      assertThat(strict.err()).contains("transaction 1 of commit " + badCommit.hex())
          .contains("fn 'add-tweet'").contains("the status has no id");
      assertThat(count(strictDb, "select count(*) from rejected")).isZero();

      Path db = dir.resolve("rejecting.db");
      Cli.Result r = Cli.run("", "stream", "--connect", url, "--crdt", TWEETS.toString(),
          "--into", "sqlite:" + db, "--until-synced");
      assertThat(r.exitCode()).as(r.err()).isZero();
      assertThat(count(db, "select count(*) from tweets")).isEqualTo(8);
      assertThat(count(db, "select count(*) from ops")).isEqualTo(8);
      assertThat(count(db, "select count(*) from rejected where commit_id = '" + badCommit.hex()
          + "' and fn = 'add-tweet' and reason like '%the status has no id%'")).isEqualTo(2);
      assertThat(count(db, "select tx_index from rejected where params = '42'")).isEqualTo(1);
    }
  }

  @Test
  void masked_hidesThePasswordOfAUrl() {
    assertThat(StreamCommand.masked("postgresql://bob:s3cret@db:5432/t?sslmode=require"))
        .isEqualTo("postgresql://bob:***@db:5432/t?sslmode=require");
    assertThat(StreamCommand.masked("postgresql://bob@db/t")).isEqualTo("postgresql://bob@db/t");
    assertThat(StreamCommand.masked("sqlite:a.db")).isEqualTo("sqlite:a.db");
  }

  @Test
  void stream_unknownAddress_failsNamingIt() throws Exception {
    try (Peer server = Peer.start(PeerConfig.server(null))) {
      Cli.Result r = Cli.run("", "stream", "--connect", server.url().orElseThrow().toString(),
          "--crdt", TWEETS.toString(), "--into", "sqlite:" + dir.resolve("x.db"),
          "--until-synced");
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).contains("no CDVCS at " + TWEETS);
    }
  }

  @Test
  void stream_unreachablePeer_failsNamingTheUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String url = "ws://127.0.0.1:" + port + "/replikon";
    Cli.Result r = Cli.run("", "stream", "--connect", url, "--crdt", TWEETS.toString(),
        "--into", "sqlite:" + dir.resolve("y.db"), "--until-synced");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("replikon: ").contains(url);
  }

  @Test
  void stream_badSink_isAUsageError() {
    Cli.Result r = Cli.run("", "stream", "--connect", "ws://127.0.0.1:1/replikon", "--crdt",
        TWEETS.toString(), "--into", "mysql:nope");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("sqlite:FILE, jsonl:FILE or postgresql://");
  }
}
