package io.replikon.cli;

import io.replikon.cdvcs.Address;
import io.replikon.client.KeyFiles;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.client.realize.Progress;
import io.replikon.client.realize.Realizer;
import io.replikon.client.realize.Sink;
import io.replikon.client.realize.Sinks;
import io.replikon.error.ReplikonException;
import io.replikon.protocol.Message;
import io.replikon.transport.ClientConfig;
import io.replikon.transport.Connection;
import io.replikon.transport.ConnectionHandler;
import io.replikon.transport.PeerClient;
import io.replikon.transport.Transports;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code replikon stream}: replicates a CDVCS from a peer and realizes its transactions into a
 * sink, exactly once.
 */
@Command(
    name = "stream",
    header = "Replicate a CDVCS from a peer and realize its transactions into a sink.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Connects to the peer at --connect, replicates the CDVCS at --crdt into a local store, and "
          + "applies its transactions, parents before children, to the sink given with --into:",
      "",
      "  sqlite:FILE   tables ops (one row per transaction), tweets (add-tweet, with an FTS5 "
          + "index over text), rejected and the applied-log",
      "  jsonl:FILE    one JSON line per transaction; the applied-log in FILE.applied (a "
          + "device such as /dev/null is written in order, at least once, with no applied-log)",
      "  postgresql://USER[:PASSWORD]@HOST:PORT/DB   the same tables as SQLite, in PostgreSQL "
          + "(full-text search through a tsvector column)",
      "",
      "Each transaction is applied exactly once, across crashes and restarts: the sink's "
          + "effects and its applied-log commit together. Run it again and it goes on where it "
          + "stopped.",
      "",
      "Without --until-synced it follows the CDVCS until stopped (Ctrl-C, SIGTERM). Transactions "
          + "whose function is neither add-tweet nor given with --accept stop the stream with an "
          + "error naming it, unless --skip-unknown.",
      "",
      "A transaction the SQL sinks cannot apply (add-tweet with params that are not a status "
          + "with an id, params PostgreSQL cannot store) is recorded in the table rejected "
          + "(commit_id, tx_index, fn, params as JSON, reason), exactly once like the rest, and "
          + "the stream goes on; with --strict it stops the stream with an error naming the "
          + "commit, the index and the fn. A failing database always stops it (run it again to "
          + "resume). The jsonl sink writes every transaction; it has nothing to reject.",
      "",
      "Example:",
      "  replikon stream --connect ws://localhost:9095/replikon "
          + "--crdt alice/12d49511-e733-4007-937b-460c3794fae9 --into sqlite:tweets.db "
          + "--until-synced"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Synced (with --until-synced), or stopped by a signal after a clean shutdown.",
      "1:The peer is unreachable, it has no such CDVCS, the sink cannot be opened or failed, "
          + "or (with --strict, or an unknown function) a transaction could not be applied.",
      "2:Invalid command line."
    })
final class StreamCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(StreamCommand.class);
  /**
   * A system property for crash tests, not for users: milliseconds to pause after each committed
   * batch, so that a kill lands in the middle of a run (StreamCrashIT).
   */
  static final String BATCH_PAUSE_PROPERTY = "replikon.stream.batchPauseMillis";

  @Spec private CommandSpec spec;

  @Option(names = "--connect", required = true, paramLabel = "URL",
      defaultValue = "${env:REPLIKON_CONNECT}",
      description = "The peer to replicate from, ws://HOST:PORT/replikon ($REPLIKON_CONNECT).")
  private URI connect;

  @Option(names = "--crdt", required = true, paramLabel = "USER/UUID",
      description = "The CDVCS to stream.")
  private String crdt;

  @Option(names = "--into", required = true, paramLabel = "SINK",
      description = "sqlite:FILE, jsonl:FILE or postgresql://USER@HOST:PORT/DB.")
  private String into;

  @Option(names = "--store", paramLabel = "DIR", defaultValue = "${env:REPLIKON_STORE}",
      description = "The local store of the replica ($REPLIKON_STORE; default: next to the "
          + "sink, FILE.replikon; ./postgresql.replikon for PostgreSQL).")
  private Path store;

  @Option(names = "--until-synced",
      description = "Exit once everything the peer had when the stream connected is applied.")
  private boolean untilSynced;

  @Option(names = "--reset", description = "Empty the sink first and apply the whole history.")
  private boolean reset;

  @Option(names = "--accept", paramLabel = "FN", split = ",",
      description = "Further transaction functions to record (ops, or the JSON line) besides "
          + "add-tweet.")
  private List<String> accept = new ArrayList<>();

  @Option(names = "--skip-unknown",
      description = "Skip transactions of other functions instead of stopping.")
  private boolean skipUnknown;

  @Option(names = "--strict", defaultValue = "${env:REPLIKON_STRICT:-false}",
      description = "Stop at a transaction the sink cannot apply instead of recording it in the "
          + "table rejected ($REPLIKON_STRICT).")
  private boolean strict;

  @Option(names = "--tls-trust", paramLabel = "FILE", defaultValue = "${env:REPLIKON_TLS_TRUST}",
      description = "PEM certificate to trust for a wss:// peer ($REPLIKON_TLS_TRUST).")
  private Path tlsTrust;

  @Option(names = "--key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_KEY}",
      description = "The private key that proves this reader to a peer started with --readers "
          + "(PKCS#8 PEM, from 'replikon keygen'; $REPLIKON_KEY; default: identity.key in the "
          + "store of this stream, made on first use).")
  private Path key;

  @Option(names = "--sync-timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "How long to wait for the peer's catch-up (default: ${DEFAULT-VALUE}).")
  private int syncTimeoutSeconds;

  @Override
  public Integer call() throws Exception {
    Address address = Address.parse(crdt);
    int colon = into.indexOf(':');
    if (colon <= 0 || colon == into.length() - 1) {
      throw new ParameterException(spec.commandLine(),
          "--into must be sqlite:FILE, jsonl:FILE or postgresql://..., not '" + into + "'");
    }
    String kind = into.substring(0, colon);
    Path file = Path.of(kind.startsWith("postgres") ? "postgresql" : into.substring(colon + 1));
    Sink<?> sink = switch (kind) {
      case "sqlite" -> Sinks.sqlite(file);
      case "jsonl" -> Sinks.jsonLines(file);
      case "postgresql", "postgres", "jdbc" -> Sinks.postgresql(into);
      default -> throw new ParameterException(spec.commandLine(), "unknown sink '" + kind
          + "': use sqlite:FILE, jsonl:FILE or postgresql://USER@HOST:PORT/DB");
    };
    try (sink) {
      checkReachable();
      Path dir = store != null ? store
          : file.toAbsolutePath().resolveSibling(file.getFileName() + ".replikon");
      PeerConfig config = PeerConfig.client(dir).withConnect(List.of(connect));
      if (tlsTrust != null) {
        config = config.withTrustCertificate(tlsTrust);
      }
      if (key != null) {
        config = config.withKey(KeyFiles.read(key));
      }
      LOG.info("configuration: connect={} crdt={} into={} store={} until-synced={} reset={} "
          + "strict={}", connect, address, masked(into), dir.toAbsolutePath(), untilSynced, reset,
          strict);
      try (Peer peer = Peer.start(config)) {
        return stream(peer, address, sink);
      }
    }
  }

  private <C> int stream(Peer peer, Address address, Sink<C> sink) throws Exception {
    try {
      peer.subscribe(address).get(syncTimeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new ReplikonException(ReplikonException.Reason.CONNECTION, "the peer at " + connect
          + " did not send " + address + " within " + syncTimeoutSeconds + " s");
    } catch (ExecutionException e) {
      throw unwrap(e);
    }
    if (peer.heads(address).get().isEmpty()) {
      throw new ReplikonException(ReplikonException.Reason.UNKNOWN_ADDRESS,
          "the peer at " + connect + " has no CDVCS at " + address);
    }
    // add-tweet and the --accept functions are recorded; a sink's own handler (SQLite's tweets
    // table for add-tweet) is kept rather than replaced by plain recording.
    List<String> recorded = new ArrayList<>(accept);
    recorded.add("add-tweet");
    recorded.removeAll(sink.defaultHandlers().keySet());
    ProgressDisplay progress = ProgressDisplay.forStderr(LOG);
    Realizer.Builder<C> builder = Realizer.builder(peer, address, sink)
        .accept(recorded.stream().distinct().toArray(String[]::new))
        .skipUnknown(skipUnknown)
        .strict(strict)
        .syncTimeout(Duration.ofSeconds(syncTimeoutSeconds))
        .onConflict(c -> LOG.warn("{} has {} heads: realizing every side; merge to resolve",
            c.address(), c.heads().size()))
        .onProgress(Duration.ofSeconds(1), progress::show);
    long pause = Long.getLong(BATCH_PAUSE_PROPERTY, 0);
    if (pause > 0) { // a crash test's hook: each committed batch is followed by a pause
      builder.onProgress(Duration.ZERO, p -> {
        progress.show(p);
        try {
          Thread.sleep(pause);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    Realizer realizer = builder.build();
    Progress done = reset ? realizer.reset() : realizer.runUntilSynced();
    progress.show(done);
    progress.finish();
    if (untilSynced) {
      LOG.info("synced {}", address);
      return 0;
    }
    LOG.info("following {}; stop with Ctrl-C", address);
    CountDownLatch stop = new CountDownLatch(1);
    Realizer.Live live = realizer.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      live.close();
      stop.countDown();
    }, "replikon-stream-shutdown"));
    live.stopped().whenComplete((ok, failure) -> {
      if (failure != null) {
        LOG.error("stream stopped: {}", failure.getMessage());
      }
      stop.countDown();
    });
    stop.await();
    if (live.stopped().isCompletedExceptionally()) {
      try {
        live.stopped().get();
      } catch (ExecutionException e) {
        throw unwrap(e);
      }
    }
    return 0;
  }

  /** Returns {@code into} with the password of a URL's user info masked, for the log. */
  static String masked(String into) {
    return into.replaceAll("(://[^:/@?]*:)[^@/?]*@", "$1***@");
  }

  /** Fails fast, with the reason, when the peer cannot be reached at all. */
  private void checkReachable() {
    ClientConfig clientConfig = ClientConfig.defaults();
    if (tlsTrust != null) {
      clientConfig = clientConfig.withTrustCertificate(tlsTrust);
    }
    try (PeerClient probe = Transports.client(clientConfig)) {
      Connection c = probe.connect(connect, new ConnectionHandler() {
        @Override
        public void opened(Connection connection) {}

        @Override
        public void received(Connection connection, Message message) {}

        @Override
        public void closed(Connection connection, String reason) {}
      }).get(30, TimeUnit.SECONDS);
      c.close(null);
    } catch (ExecutionException e) {
      throw unwrap(e);
    } catch (TimeoutException e) {
      throw new ReplikonException(ReplikonException.Reason.CONNECTION,
          "cannot reach " + connect + " within 30 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ReplikonException(ReplikonException.Reason.CONNECTION, "interrupted", e);
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    Throwable cause = e.getCause();
    if (cause instanceof RuntimeException r) {
      return r;
    }
    return new ReplikonException(ReplikonException.Reason.CONNECTION,
        String.valueOf(cause.getMessage()), cause);
  }
}
