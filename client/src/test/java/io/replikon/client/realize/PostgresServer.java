package io.replikon.client.realize;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server for tests: {@code initdb} into a temporary directory, then
 * {@code pg_ctl start} on 127.0.0.1 with an ephemeral port and trust authentication. The binaries
 * are looked up on the {@code PATH}, then in {@code /usr/lib/postgresql/<version>/bin} (newest
 * first); a test calling {@link #start} is skipped when there are none. PostgreSQL refuses to run
 * as root, so as root the server runs as the {@code postgres} user ({@code runuser}), in a
 * directory chowned to it.
 *
 * <p>Not thread-safe; start and stop it from a test class's {@code @BeforeAll}/{@code @AfterAll}.
 * Its methods run processes and block until they finish.
 */
final class PostgresServer implements AutoCloseable {
  private static final String SUPERUSER = "postgres";
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path data;
  private final List<String> asUser;
  private final int port;
  private final Thread stopOnExit = new Thread(this::stopQuietly, "stop-test-postgres");
  private boolean running;

  private PostgresServer(Path bin, Path data, List<String> asUser, int port) {
    this.bin = bin;
    this.data = data;
    this.asUser = asUser;
    this.port = port;
  }

  /** Set to 1 (as {@code .ci/run} does), a missing PostgreSQL fails the tests instead. */
  static final String REQUIRE = "REPLIKON_REQUIRE_POSTGRES";

  /**
   * Skips the calling test (a JUnit assumption) unless {@code available}, or fails it when
   * {@code require} (the value of {@link #REQUIRE}) is {@code 1} or {@code true}: in CI the
   * PostgreSQL tests must run.
   */
  static void assumeAvailable(boolean available, String message, String require) {
    if (!available && require != null
        && (require.equals("1") || require.equalsIgnoreCase("true"))) {
      fail(message.replace("; test skipped", "") + "; " + REQUIRE + "=" + require
          + " requires PostgreSQL");
    }
    assumeTrue(available, message);
  }

  private static void assumeAvailable(boolean available, String message) {
    assumeAvailable(available, message, System.getenv(REQUIRE));
  }

  /**
   * Starts a server with its files under {@code dir}; skips the calling test (JUnit assumption)
   * if the PostgreSQL binaries, or as root the {@code postgres} user or {@code runuser}, are
   * missing, or fails it then if {@link #REQUIRE} is set.
   */
  static PostgresServer start(Path dir) throws IOException, InterruptedException {
    Optional<Path> bin = findBin();
    assumeAvailable(bin.isPresent(), "PostgreSQL server binaries missing: no initdb and pg_ctl on the "
        + "PATH nor in /usr/lib/postgresql/*/bin (apt-get install postgresql); test skipped");
    List<String> asUser = List.of();
    if (System.getProperty("user.name").equals("root")) {
      Optional<Path> runuser = onPath("runuser");
      assumeAvailable(runuser.isPresent(), "running as root, PostgreSQL must run as the user "
          + SUPERUSER + " but runuser is not on the PATH; test skipped");
      assumeAvailable(run(List.of("id", "-u", SUPERUSER), dir).exit() == 0, "running as root, "
          + "PostgreSQL must run as the user " + SUPERUSER + " but there is no such user; test "
          + "skipped");
      asUser = List.of(runuser.get().toString(), "-u", SUPERUSER, "--");
    }
    Path home = Files.createDirectories(dir.resolve("postgres"));
    for (Path p = home; p != null && p.startsWith(dir.getParent()); p = p.getParent()) {
      if (!p.equals(dir.getParent())) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    Path data = home.resolve("data");
    if (!asUser.isEmpty()) {
      check(run(List.of("chown", "-R", SUPERUSER, home.toString()), home), "chown");
    }
    List<String> initdb = new ArrayList<>(asUser);
    initdb.addAll(List.of(bin.get().resolve("initdb").toString(), "-D", data.toString(),
        "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"));
    check(run(initdb, home), "initdb");
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      PostgresServer server = new PostgresServer(bin.get(), data, asUser, freePort());
      try {
        server.startServer(home);
        return server;
      } catch (IOException e) { // most likely the port was taken meanwhile: try another
        last = e;
      }
    }
    throw last;
  }

  private void startServer(Path home) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(asUser);
    command.addAll(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(),
        "-l", home.resolve("server.log").toString(), "-w", "-t", "60",
        "-o", "-p " + port + " -k " + home + " -c listen_addresses=127.0.0.1 -c fsync=off",
        "start"));
    Result r = run(command, home);
    if (r.exit() != 0) {
      String log = Files.exists(home.resolve("server.log"))
          ? Files.readString(home.resolve("server.log"), StandardCharsets.UTF_8) : "";
      throw new IOException("pg_ctl start failed (" + r.exit() + "): " + r.output() + log);
    }
    running = true;
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /** Returns the port the server listens on, at 127.0.0.1. */
  int port() {
    return port;
  }

  /** Creates an empty database and returns its JDBC URL (user {@code postgres}, no password). */
  String newDatabase() throws SQLException {
    String name = "replikon_" + DATABASES.incrementAndGet();
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"));
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return jdbcUrl(name);
  }

  /** Returns the JDBC URL of {@code database}, user {@code postgres}. */
  String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + SUPERUSER;
  }

  /** Stops the server ({@code pg_ctl stop -m fast}) if it is running. */
  @Override
  public void close() throws IOException {
    if (running) {
      running = false;
      List<String> command = new ArrayList<>(asUser);
      command.addAll(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(),
          "-m", "fast", "-w", "stop"));
      try {
        check(run(command, data.getParent()), "pg_ctl stop");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted stopping the test PostgreSQL server", e);
      }
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException e) {
        // the JVM is exiting: the hook is running or ran
      }
    }
  }

  private void stopQuietly() {
    try {
      close();
    } catch (IOException e) {
      System.err.println("could not stop the test PostgreSQL server: " + e);
    }
  }

  private static Optional<Path> findBin() throws IOException {
    Optional<Path> initdb = onPath("initdb");
    if (initdb.isPresent()) {
      Path dir = initdb.get().toRealPath().getParent();
      if (Files.isExecutable(dir.resolve("pg_ctl"))) {
        return Optional.of(dir);
      }
    }
    Path lib = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(lib)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(lib)) {
      return versions.map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb"))
              && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparing(PostgresServer::version));
    }
  }

  private static int version(Path bin) {
    try {
      return Integer.parseInt(bin.getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new ArrayList<>(List.of(path.split(":")));
    dirs.addAll(List.of("/usr/sbin", "/sbin"));
    for (String d : dirs) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
        return Optional.of(Path.of(d, name));
      }
    }
    return Optional.empty();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> command, Path dir)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", command) + " did not finish: " + output);
    }
    return new Result(p.exitValue(), output);
  }

  private static void check(Result r, String what) throws IOException {
    if (r.exit() != 0) {
      throw new IOException(what + " failed (" + r.exit() + "): " + r.output());
    }
  }
}
