package io.replikon.cli;

import io.replikon.cdvcs.Address;
import io.replikon.client.KeyFiles;
import io.replikon.client.PeerConfig;
import io.replikon.collector.Collector;
import io.replikon.collector.CollectorConfig;
import io.replikon.collector.HttpIngest;
import io.replikon.collector.HttpIngestConfig;
import io.replikon.collector.JetstreamSourceConfig;
import io.replikon.collector.JsonLinesConfig;
import io.replikon.collector.Source;
import io.replikon.collector.Sources;
import io.replikon.collector.TwitterCredentials;
import io.replikon.collector.TwitterSourceConfig;
import io.replikon.storage.Durability;
import io.replikon.value.Hash;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code replikon collect}: runs a collector until its input ends or SIGTERM.
 */
@Command(
    name = "collect",
    header = "Collect events into a CDVCS: journal them durably, commit a batch every 10 s.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Reads events from a source (jsonl: JSON lines from --file or stdin; http: POST /events; "
          + "twitter: a v1.1 status stream; jetstream: Bluesky Jetstream), appends them to a "
          + "write-ahead journal (fsynced before they are acknowledged) and commits them to the "
          + "CDVCS USER/UUID, one commit a batch: every --flush-interval, at --flush-threshold "
          + "events, on SIGTERM and on POST /flush. After a crash, journaled events not yet "
          + "committed are committed on the next start; none is committed twice.",
      "",
      "The collector is a server peer itself (--port) or pushes to one (--connect), so "
          + "'replikon stream' can follow the CDVCS. With --connect and a jsonl source that ends, "
          + "it exits 0 once every line is committed and acknowledged by the server peer.",
      "",
      "It listens on 127.0.0.1 unless --host says otherwise. As a server peer (--port) on any "
          + "other address it refuses to start unless it has --writers FILE or --open, as "
          + "'replikon peer' does. The HTTP port follows --host unless --http-host is given.",
      "",
      "HTTP answers (--source http): POST /events 202 accepted (with \"repeat\":true for an "
          + "Idempotency-Key seen with the same events); 400 invalid JSON, an empty body or an "
          + "event that is not a tweet (add-tweet); 401 without the --http-token; 408 a request "
          + "not whole within --http-read-timeout; 409 an Idempotency-Key reused with other "
          + "events; 413 a body over --max-body; 415 a Content-Type other than application/json "
          + "or application/x-ndjson (UTF-8); 431 headers over 8 KiB; 503 (Retry-After) while "
          + "starting or too many events wait. GET /health: 200 once events are taken, 503 "
          + "before. Every answer has a JSON body.",
      "",
      "A journal damaged in the middle (damage followed by valid records) stops the start with "
          + "the file and byte offset; --repair-journal drops the damaged records. A record cut "
          + "short at the end by a crash was never acknowledged and is dropped silently.",
      "",
      "Every option can also be set by the environment variable named in its description; the "
          + "flag wins. The effective configuration is logged at start.",
      "",
      "Examples:",
      "  replikon collect --store ./collector --user alice --crdt "
          + "12d49511-e733-4007-937b-460c3794fae9 --source jsonl --file tweets.jsonl "
          + "--connect ws://127.0.0.1:9095/replikon",
      "  replikon collect --store ./collector --user alice --crdt "
          + "12d49511-e733-4007-937b-460c3794fae9 --source http --http-port 8080 --port 9097"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:The input ended and every event is committed (and acknowledged, with --connect).",
      "1:Could not start or run: store in use, port taken, file missing, server unreachable.",
      "2:Invalid command line, or --port on a --host beyond loopback without --writers or "
          + "--open.",
      "130:Stopped by SIGINT (Ctrl-C), after committing what was accepted.",
      "143:Stopped by SIGTERM, after committing what was accepted."
    })
final class CollectCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(CollectCommand.class);

  @Spec private CommandSpec spec;

  @Option(names = "--store", required = true, paramLabel = "DIR",
      defaultValue = "${env:REPLIKON_STORE}",
      description = "The store directory, created if missing; the journal lives in DIR/journal "
          + "($REPLIKON_STORE).")
  private Path store;

  @Option(names = "--user", paramLabel = "USER", defaultValue = "${env:REPLIKON_USER}",
      description = "The user of the CDVCS ($REPLIKON_USER).")
  private String user;

  @Option(names = "--crdt", required = true, paramLabel = "UUID",
      defaultValue = "${env:REPLIKON_CRDT}",
      description = "The id of the CDVCS, or USER/UUID without --user ($REPLIKON_CRDT).")
  private String crdt;

  @Option(names = "--source", required = true, paramLabel = "KIND",
      defaultValue = "${env:REPLIKON_SOURCE}",
      description = "jsonl, http, twitter or jetstream ($REPLIKON_SOURCE).")
  private String source;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:REPLIKON_PORT}",
      description = "Be a server peer on this WebSocket port; 0 picks a free one "
          + "($REPLIKON_PORT).")
  private Integer port;

  @Option(names = "--host", paramLabel = "HOST",
      defaultValue = "${env:REPLIKON_HOST:-" + Exposure.DEFAULT_HOST + "}",
      description = "The address to listen on, for --port and --http-port ($REPLIKON_HOST, "
          + "default ${DEFAULT-VALUE}: this machine only). With --port, any other address "
          + "(0.0.0.0, ::, a LAN address, a name for one) needs --writers or --open.")
  private String host;

  @Mixin
  private TrustOptions trust = new TrustOptions();

  @Option(names = "--key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_KEY}",
      description = "The private key that signs the collector's commits (PKCS#8 PEM, from "
          + "'replikon keygen'; $REPLIKON_KEY; default: identity.key in the store, made on first "
          + "use). A server peer with --writers takes them only if this key is listed for the "
          + "user of --crdt; a self-certifying --crdt (ed25519:KEY/UUID) needs that key.")
  private Path key;

  @Option(names = "--connect", paramLabel = "URL", split = ",",
      defaultValue = "${env:REPLIKON_CONNECT}",
      description = "Push to the server peer at ws://HOST:PORT/replikon ($REPLIKON_CONNECT).")
  private List<URI> connect = new ArrayList<>();

  @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "${env:REPLIKON_HTTP_PORT}",
      description = "The HTTP port: POST /events and /flush and GET /health for the http "
          + "source; /health, /metrics and the status page for the others ($REPLIKON_HTTP_PORT; "
          + "the http source needs it).")
  private Integer httpPort;

  @Option(names = "--http-host", paramLabel = "HOST", defaultValue = "${env:REPLIKON_HTTP_HOST}",
      description = "The address of --http-port ($REPLIKON_HTTP_HOST; default: --host). Beyond "
          + "loopback a warning is logged: anyone who reaches it can read the status page, and, "
          + "without --http-token, POST /events.")
  private String httpHost;

  @Option(names = "--flush-interval", paramLabel = "DURATION",
      defaultValue = "${env:REPLIKON_FLUSH_INTERVAL:-10s}", converter = DurationConverter.class,
      description = "Commit what was accepted at least this often: 10s, 500ms, 2m "
          + "($REPLIKON_FLUSH_INTERVAL, default ${DEFAULT-VALUE}).")
  private Duration flushInterval;

  @Option(names = "--flush-threshold", paramLabel = "N",
      defaultValue = "${env:REPLIKON_FLUSH_THRESHOLD:-10000}",
      description = "Commit as soon as N events wait; no commit holds more "
          + "($REPLIKON_FLUSH_THRESHOLD, default ${DEFAULT-VALUE}).")
  private int flushThreshold;

  @Option(names = "--join-timeout", paramLabel = "DURATION",
      defaultValue = "${env:REPLIKON_JOIN_TIMEOUT:-30s}", converter = DurationConverter.class,
      description = "With --connect and no local copy of the CDVCS: how long to wait for the "
          + "server to say whether it holds one ($REPLIKON_JOIN_TIMEOUT, default "
          + "${DEFAULT-VALUE}).")
  private Duration joinTimeout;

  @Option(names = "--journal", paramLabel = "DIR", defaultValue = "${env:REPLIKON_JOURNAL}",
      description = "The journal directory ($REPLIKON_JOURNAL; default DIR/journal of --store).")
  private Path journal;

  @Option(names = "--fn", paramLabel = "NAME", defaultValue = "${env:REPLIKON_FN:-add-tweet}",
      description = "The transaction function of jsonl and http events ($REPLIKON_FN, default "
          + "${DEFAULT-VALUE}). An add-tweet event must be a JSON object with an integer id or a "
          + "numeric id_str: other lines are skipped (logged with their number), other bodies "
          + "get 400.")
  private String fn;

  @Option(names = "--file", paramLabel = "FILE", defaultValue = "${env:REPLIKON_FILE}",
      description = "jsonl: the file to read ($REPLIKON_FILE; default: standard input). "
          + "Restarted on the same file, it resumes after the last line it journaled.")
  private Path file;

  @Option(names = "--follow", description = "jsonl: keep reading lines appended to --file.")
  private boolean follow;

  @Option(names = "--enable-flush-endpoint",
      description = "http: let POST /flush commit at once (otherwise it answers 403).")
  private boolean flushEndpoint;

  @Option(names = "--max-body", paramLabel = "BYTES",
      defaultValue = "${env:REPLIKON_MAX_BODY:-16777216}",
      description = "http: the largest request body; larger ones get 413 ($REPLIKON_MAX_BODY, "
          + "default ${DEFAULT-VALUE}).")
  private int maxBody;

  @Option(names = "--http-token", paramLabel = "FILE",
      defaultValue = "${env:REPLIKON_HTTP_TOKEN_FILE}",
      description = "http: a file holding a bearer token (one line); POST /events and /flush then "
          + "need 'Authorization: Bearer TOKEN' (401 otherwise), and idempotency keys are scoped "
          + "to the token. Keep the file 600: a warning is logged otherwise. The token is never "
          + "logged ($REPLIKON_HTTP_TOKEN_FILE).")
  private Path httpToken;

  @Option(names = "--http-read-timeout", paramLabel = "DURATION",
      defaultValue = "${env:REPLIKON_HTTP_READ_TIMEOUT:-30s}", converter = DurationConverter.class,
      description = "http: a request must arrive whole within this time of the connection or of "
          + "the last answer; the connection is closed after it, with 408 if a request had begun "
          + "($REPLIKON_HTTP_READ_TIMEOUT, default ${DEFAULT-VALUE}).")
  private Duration httpReadTimeout;

  @Option(names = "--repair-journal",
      defaultValue = "${env:REPLIKON_REPAIR_JOURNAL:-false}",
      description = "Start even if the journal is damaged (damage with valid records after it, "
          + "which is refused otherwise): drop the damaged records, log how many events were "
          + "lost, keep the rest, and forget the idempotency keys of the dropped submissions so "
          + "their retries are accepted. Copy the journal directory aside first "
          + "($REPLIKON_REPAIR_JOURNAL).")
  private boolean repairJournal;

  @Option(names = "--track", paramLabel = "WORDS", split = ",",
      defaultValue = "${env:REPLIKON_TRACK}",
      description = "twitter: filter the stream by these words, separated by commas "
          + "($REPLIKON_TRACK; default: the sample stream).")
  private List<String> track = new ArrayList<>();

  @Option(names = "--twitter-credentials", paramLabel = "FILE",
      defaultValue = "${env:REPLIKON_TWITTER_CREDENTIALS}",
      description = "twitter: a properties file with oauth.consumerKey, oauth.consumerSecret, "
          + "oauth.accessToken and oauth.accessTokenSecret ($REPLIKON_TWITTER_CREDENTIALS; "
          + "default: the variables TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, "
          + "TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET).")
  private Path twitterCredentials;

  @Option(names = "--twitter-stream-url", paramLabel = "URL",
      defaultValue = "${env:REPLIKON_TWITTER_STREAM_URL}",
      description = "twitter: the stream base URL, for any server that speaks Twitter's v1.1 "
          + "streaming format ($REPLIKON_TWITTER_STREAM_URL; default "
          + TwitterSourceConfig.DEFAULT_STREAM_BASE_URL + ").")
  private URI twitterStreamUrl;

  @Option(names = "--jetstream-url", paramLabel = "URL",
      defaultValue = "${env:REPLIKON_JETSTREAM_URL:-" + JetstreamSourceConfig.DEFAULT_URL + "}",
      description = "jetstream: the Jetstream endpoint ($REPLIKON_JETSTREAM_URL, default "
          + "${DEFAULT-VALUE}).")
  private URI jetstreamUrl;

  @Option(names = "--collections", paramLabel = "NSIDS", split = ",",
      defaultValue = "${env:REPLIKON_COLLECTIONS:-app.bsky.feed.post}",
      description = "jetstream: the collections to take, separated by commas; a prefix like "
          + "app.bsky.feed.* takes all below it ($REPLIKON_COLLECTIONS, default "
          + "${DEFAULT-VALUE}).")
  private List<String> collections = new ArrayList<>();

  @Option(names = "--durability", paramLabel = "MODE",
      defaultValue = "${env:REPLIKON_DURABILITY:-batch}", converter = DurabilityConverter.class,
      description = "The store's: sync, batch or none ($REPLIKON_DURABILITY, default "
          + "${DEFAULT-VALUE}). The journal always fsyncs.")
  private Durability durability;

  @Option(names = "--peer-id", paramLabel = "ID", defaultValue = "${env:REPLIKON_PEER_ID}",
      description = "This peer's id ($REPLIKON_PEER_ID; default collector-USER).")
  private String peerId;

  @Option(names = "--tls-trust", paramLabel = "FILE", defaultValue = "${env:REPLIKON_TLS_TRUST}",
      description = "PEM certificate to trust for a wss:// server peer ($REPLIKON_TLS_TRUST).")
  private Path tlsTrust;

  @Override
  public Integer call() throws Exception {
    Address address = address();
    if (port != null && !connect.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--port and --connect exclude each other:"
          + " be a server peer, or push to one");
    }
    Durability mode = durability;
    String kind = source.toLowerCase(Locale.ROOT);
    if (kind.equals("http") && httpPort == null) {
      throw new ParameterException(spec.commandLine(), "the http source needs --http-port");
    }
    if (port != null) {
      trust.requireWritersOrOpen(spec, host);
    }
    String statusHost = httpHost != null ? httpHost : host;
    if (httpPort != null) {
      if (!kind.equals("http")) {
        Exposure.warnIfStatusReadable(spec, statusHost);
      } else if (httpToken == null) {
        Exposure.resolve(spec, "--http-host", statusHost).ifPresent(a -> LOG.warn("POST /events "
            + "on {} takes events from anyone who can reach it: give --http-token FILE",
            Exposure.describe(statusHost, a)));
      }
    }
    PeerConfig peer = (port != null
        ? PeerConfig.server(store).withListen(host, port)
        : PeerConfig.client(store).withConnect(connect))
        .withDurability(mode)
        .withPeerId(peerId != null ? peerId : "collector-" + address.user())
        .withAuthor(address.user());
    if (tlsTrust != null) {
      peer = peer.withTrustCertificate(tlsTrust);
    }
    if (key != null) {
      peer = peer.withKey(KeyFiles.read(key));
    }
    peer = trust.apply(peer);
    if (httpPort != null && !kind.equals("http")) {
      peer = peer.withHttpPort(httpPort).withHttpHost(statusHost);
    }
    CollectorConfig config = CollectorConfig.of(peer, address).withFlushInterval(flushInterval)
        .withFlushThreshold(flushThreshold).withJoinTimeout(joinTimeout);
    if (journal != null) {
      config = config.withJournal(journal);
    }
    if (repairJournal) {
      config = config.withJournalRepair();
    }
    Source input = source(kind);
    LOG.info("configuration: crdt={} source={} store={} journal={} host={} {} {}"
            + " flush-interval={} flush-threshold={} durability={} http-port={}"
            + " http-host={} http-token={} repair-journal={}",
        address, input.describe(), store.toAbsolutePath(),
        config.journalDirectory().toAbsolutePath(), host,
        port != null ? "port=" + port : "connect=" + connect, trust, flushInterval,
        flushThreshold, mode.name().toLowerCase(Locale.ROOT), httpPort == null ? "off" : httpPort,
        statusHost, httpToken == null ? "none" : "**** (from " + httpToken + ")", repairJournal);
    Collector collector;
    try {
      collector = Collector.start(config);
    } catch (RuntimeException e) {
      input.close();
      throw e;
    }
    collector.peer().url().ifPresent(u -> LOG.info("server peer listening on {}", u));
    return run(collector, input);
  }

  private int run(Collector collector, Source input) throws Exception {
    AtomicBoolean stopping = new AtomicBoolean();
    CountDownLatch closed = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopping.set(true);
      LOG.info("stopping: committing what was accepted");
      input.close();
      collector.close();
      closed.countDown();
    }, "replikon-collect-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      input.run(collector);
      if (!stopping.get()) {
        Hash head = collector.flush().join();
        LOG.info("input ended: {} events committed; head {}", collector.stats().committed(),
            head.shortHex());
        if (connect.isEmpty()) {
          LOG.info("serving {} as a server peer until stopped (Ctrl-C)", collector.address());
        } else {
          LOG.info("waiting for {} to acknowledge {}", connect, head.shortHex());
          collector.peer().replicated(collector.address(), head).join();
          LOG.info("{} holds every event", connect);
          Runtime.getRuntime().removeShutdownHook(hook);
          collector.close();
          return 0;
        }
      }
    } catch (Exception e) {
      if (!stopping.get()) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          closed.await();
          return 0;
        }
        input.close();
        collector.close();
        throw e instanceof java.util.concurrent.CompletionException && e.getCause() instanceof
            RuntimeException r ? r : e;
      }
    }
    closed.await(); // the hook commits and closes; the JVM exits after it
    return 0;
  }

  private Address address() {
    if (crdt.contains("/")) {
      if (user != null) {
        throw new ParameterException(spec.commandLine(), "give --user USER --crdt UUID, or "
            + "--crdt USER/UUID, not both");
      }
      try {
        return Address.parse(crdt);
      } catch (RuntimeException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    if (user == null) {
      throw new ParameterException(spec.commandLine(), "--crdt UUID needs --user USER (or give "
          + "--crdt USER/UUID)");
    }
    try {
      return new Address(user, UUID.fromString(crdt));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--crdt must be a UUID like "
          + "12d49511-e733-4007-937b-460c3794fae9, not '" + crdt + "'");
    }
  }

  private Source source(String kind) {
    return switch (kind) {
      case "jsonl" -> {
        JsonLinesConfig c = (file == null ? JsonLinesConfig.stdin() : JsonLinesConfig.file(file))
            .withFn(fn);
        if (follow) {
          if (file == null) {
            throw new ParameterException(spec.commandLine(), "--follow needs --file");
          }
          c = c.following();
        }
        yield Sources.jsonLines(c);
      }
      case "http" -> {
        String ingestHost = httpHost != null ? httpHost : host;
        HttpIngestConfig c = HttpIngestConfig.port(httpPort).withHost(ingestHost).withFn(fn)
            .withMaxBodyBytes(maxBody).withReadTimeout(httpReadTimeout);
        if (httpToken != null) {
          c = c.withToken(HttpIngestConfig.readToken(httpToken));
        }
        HttpIngest ingest = Sources.http(flushEndpoint ? c.withFlushEndpoint() : c);
        LOG.info("POST events to http://{}:{}/events", ingestHost, ingest.port());
        yield ingest;
      }
      case "twitter" -> {
        TwitterCredentials credentials = twitterCredentials != null
            ? TwitterCredentials.fromFile(twitterCredentials)
            : TwitterCredentials.fromEnvironment(System.getenv()).orElseThrow(() ->
                new ParameterException(spec.commandLine(), "the twitter source needs "
                    + "--twitter-credentials FILE or the variables "
                    + String.join(", ", TwitterCredentials.ENVIRONMENT_VARIABLES)));
        yield Sources.twitter(new TwitterSourceConfig(Optional.ofNullable(twitterStreamUrl),
            track, credentials));
      }
      case "jetstream" -> Sources.jetstream(new JetstreamSourceConfig(jetstreamUrl, collections));
      default -> throw new ParameterException(spec.commandLine(), "unknown source '" + source
          + "': use jsonl, http, twitter or jetstream");
    };
  }

  /** Reads {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h} or ISO-8601 {@code PT10S}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = SIMPLE.matcher(value.trim().toLowerCase(Locale.ROOT));
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
        if (!d.isZero()) {
          return d;
        }
      }
      try {
        Duration d = Duration.parse(value.trim());
        if (!d.isNegative() && !d.isZero()) {
          return d;
        }
      } catch (RuntimeException e) {
        // reported below
      }
      throw new TypeConversionException("'" + value + "' is not a positive duration like 10s, "
          + "500ms, 2m or 1h");
    }
  }
}
