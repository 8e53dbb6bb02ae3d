package io.replikon.examples;

import io.replikon.cdvcs.Address;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.client.realize.Progress;
import io.replikon.client.realize.Realizer;
import io.replikon.client.realize.Sinks;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The analysis app of the original replikativ write-up, in Java: embeds a client peer, replicates
 * a CDVCS of tweets from a server peer, streams it into SQLite exactly once, and prints the number
 * of tweets, how many mention a word (full-text search) and the five most active accounts.
 *
 * <pre>
 * java -cp "examples/target/replikon-examples.jar:examples/target/lib/*" \
 *   io.replikon.examples.TweetAnalysis ws://localhost:9095/replikon USER/UUID tweets.db [WORD]
 * </pre>
 *
 * <p>Run it again and only the new tweets are applied.
 */
public final class TweetAnalysis {
  private TweetAnalysis() {}

  /**
   * What the analysis found.
   *
   * @param tweets the number of tweets in the sink
   * @param word the word searched for
   * @param matching how many tweets contain it
   * @param mostActive the five most active accounts, with their tweet counts
   * @param applied what this run applied
   */
  public record Report(long tweets, String word, long matching, List<String> mostActive,
      Progress applied) {}

  /** Runs the analysis; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length < 3 || args.length > 4) {
      System.err.println("usage: TweetAnalysis PEER-URL USER/UUID SQLITE-FILE [WORD]");
      System.exit(2);
    }
    Report r = run(URI.create(args[0]), Address.parse(args[1]), Path.of(args[2]),
        args.length == 4 ? args[3] : "ethereum");
    System.out.printf("applied %d transactions in this run%n", r.applied().transactionsApplied());
    System.out.printf("tweets: %d%n", r.tweets());
    System.out.printf("tweets matching \"%s\": %d%n", r.word(), r.matching());
    System.out.println("most active accounts:");
    r.mostActive().forEach(a -> System.out.println("  " + a));
  }

  /**
   * Replicates {@code address} from {@code peerUrl} into {@code db} (the replica's store next to
   * it) and analyses the result.
   */
  public static Report run(URI peerUrl, Address address, Path db, String word) throws Exception {
    Path store = db.toAbsolutePath().resolveSibling(db.getFileName() + ".replikon");
    Progress applied;
    try (Peer peer = Peer.start(PeerConfig.client(store).withConnect(List.of(peerUrl)));
        var sink = Sinks.sqlite(db)) {
      applied = Realizer.builder(peer, address, sink).build().runUntilSynced();
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      long tweets = single(c, "select count(*) from tweets");
      long matching;
      try (PreparedStatement s =
          c.prepareStatement("select count(*) from tweets_fts where tweets_fts match ?")) {
        s.setString(1, "\"" + word.replace("\"", "\"\"") + "\"");
        try (ResultSet r = s.executeQuery()) {
          matching = r.getLong(1);
        }
      }
      List<String> mostActive = new ArrayList<>();
      try (ResultSet r = c.createStatement().executeQuery("select screen_name, count(*) n "
          + "from tweets group by screen_name order by n desc, screen_name limit 5")) {
        while (r.next()) {
          mostActive.add(r.getString(1) + " " + r.getLong(2));
        }
      }
      return new Report(tweets, word, matching, mostActive, applied);
    }
  }

  private static long single(Connection c, String sql) throws SQLException {
    try (ResultSet r = c.createStatement().executeQuery(sql)) {
      return r.getLong(1);
    }
  }
}
