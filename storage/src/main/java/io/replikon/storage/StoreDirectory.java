package io.replikon.storage;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/*
 * Design note. A store directory is recognised by its marker file, REPLIKON-STORE, which names the
 * format version. Opening first inspects the directory without changing anything, so a directory
 * that is not a store is refused with not a byte written. Then it takes our own lock file,
 * replikon.lock, with FileChannel.tryLock() before RocksDB is opened, inspects again under the lock
 * (another process may have created the store meanwhile), writes the marker if the store is new and
 * writes the holder (pid, host, start time) into the lock file, so that a refused open can name who
 * holds the store. The OS drops the lock when the holder dies: a stale lock file blocks no one, and
 * it is never deleted (deleting it would let two processes lock two different inodes).
 *
 * The lock file is opened with O_NOFOLLOW (PrivateFiles) after a check for a symbolic link: a link
 * planted there would otherwise have us truncate and write whatever file it names. Directories
 * this code creates are 700 and its files 600, from the moment they exist.
 *
 * POSIX record locks belong to the process, and closing any descriptor of the file drops them all
 * (see FileLock's platform notes). So within this JVM a second open must never open the lock file
 * of a held store, not even to read it: a static registry of held directories refuses it first.
 */

/**
 * The identity and lock of an on-disk store directory, held from open to close.
 *
 * <p>Thread-safe. {@link #open} blocks on file I/O; it never waits for a lock held by someone else
 * but fails at once.
 */
final class StoreDirectory implements AutoCloseable {
  /** The marker file that makes a directory a replikon store. */
  static final String MARKER = "REPLIKON-STORE";
  /** Our lock file. */
  static final String LOCK = "replikon.lock";
  /**
   * The on-disk format this code reads and writes. 3: signed commits (commit format 2, a
   * signatures column); 2: large chunks in chunk files, the chunk column's entries tagged (1 had
   * every chunk in RocksDB).
   */
  static final int FORMAT_VERSION = 3;

  private static final String MARKER_TMP = MARKER + ".tmp";
  private static final String MARKER_HEADER = "replikon store";
  private static final String VERSION_KEY = "format-version=";
  private static final Set<Object> HELD = ConcurrentHashMap.newKeySet();

  private enum Kind { MISSING, EMPTY, STORE }

  private final Path path;
  private final Object key;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean released;

  private StoreDirectory(Path path, Object key, FileChannel channel, FileLock lock) {
    this.path = path;
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /** Returns the absolute, normalized directory. */
  Path path() {
    return path;
  }

  /**
   * Checks that {@code directory} is a replikon store (or creates one there, if allowed) and locks
   * it.
   *
   * @throws ReplikonException {@code NOT_A_STORE}, {@code STORE_MISSING}, {@code STORE_VERSION},
   *     {@code STORE_LOCKED} or {@code STORE_IO}
   */
  static StoreDirectory open(Path directory, boolean createIfMissing) {
    Path dir = directory.toAbsolutePath().normalize();
    Kind before = inspect(dir);
    if (before != Kind.STORE && !createIfMissing) {
      throw missing(dir);
    }
    if (before == Kind.MISSING) {
      try {
        PrivateFiles.createDirectories(dir);
      } catch (IOException e) {
        throw new ReplikonException(Reason.STORE_IO,
            "cannot create store directory " + dir + ": " + e, e);
      }
    }
    Object key = identity(dir);
    if (!HELD.add(key)) {
      throw new ReplikonException(Reason.STORE_LOCKED, "store " + dir
          + " is already open in this process (pid " + ProcessHandle.current().pid()
          + "); close it first or use another --store");
    }
    FileChannel channel = null;
    try {
      Path lockFile = dir.resolve(LOCK);
      channel = openLock(lockFile);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // the registry should prevent this; report it as held all the same
      }
      if (lock == null) {
        throw new ReplikonException(Reason.STORE_LOCKED, "store " + dir + " is in use by "
            + holder(channel) + " (lock file " + lockFile + "); stop that process or use another"
            + " --store");
      }
      Kind now = inspect(dir);
      if (now != Kind.STORE) {
        if (!createIfMissing) {
          throw missing(dir);
        }
        writeMarker(dir);
      }
      writeHolder(channel);
      return new StoreDirectory(dir, key, channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      HELD.remove(key);
      throw new ReplikonException(Reason.STORE_IO, "cannot lock store " + dir + ": " + e, e);
    } catch (RuntimeException | Error e) {
      closeQuietly(channel);
      HELD.remove(key);
      throw e;
    }
  }

  /**
   * Opens (creating, 600) the lock file, never through a symbolic link: a link there (which would
   * let whoever planted it have this process truncate and write the file it points at) is refused.
   */
  private static FileChannel openLock(Path lockFile) throws IOException {
    if (Files.isSymbolicLink(lockFile)) {
      throw symlinkedLock(lockFile);
    }
    try {
      return PrivateFiles.open(lockFile, Set.of(StandardOpenOption.CREATE,
          StandardOpenOption.READ, StandardOpenOption.WRITE));
    } catch (FileSystemException e) {
      if (Files.isSymbolicLink(lockFile)) { // planted between the check and the open: ELOOP
        throw symlinkedLock(lockFile);
      }
      throw e;
    }
  }

  private static ReplikonException symlinkedLock(Path lockFile) {
    return new ReplikonException(Reason.STORE_IO, "the lock file " + lockFile + " is a symbolic"
        + " link; replikon never follows one there (it would write to the file the link names)."
        + " Check who created it, remove the link and open the store again");
  }

  /** Releases the lock. Idempotent. */
  @Override
  public synchronized void close() {
    if (released) {
      return;
    }
    released = true;
    try {
      lock.release();
    } catch (IOException e) {
      // closing the channel below releases the lock as well
    } finally {
      closeQuietly(channel);
      HELD.remove(key);
    }
  }

  /** Looks at the directory without changing it; refuses what is not a store. */
  private static Kind inspect(Path dir) {
    if (!Files.exists(dir)) {
      return Kind.MISSING;
    }
    if (!Files.isDirectory(dir)) {
      throw new ReplikonException(Reason.NOT_A_STORE, dir + " is not a directory, so it cannot"
          + " be a replikon store; it was left untouched. Use another --store");
    }
    Path marker = dir.resolve(MARKER);
    if (Files.exists(marker)) {
      checkVersion(dir, marker);
      return Kind.STORE;
    }
    List<String> names;
    try (Stream<Path> entries = Files.list(dir)) {
      names = entries.map(p -> p.getFileName().toString())
          .filter(n -> !n.equals(LOCK) && !n.equals(MARKER_TMP)).sorted().limit(3).toList();
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot list store directory " + dir + ": "
          + e, e);
    }
    if (!names.isEmpty()) {
      throw new ReplikonException(Reason.NOT_A_STORE, dir + " is not a replikon store (it holds "
          + String.join(", ", names) + (names.size() == 3 ? ", ..." : "") + " but no " + MARKER
          + " file); it was left untouched. Use an empty or new directory as --store");
    }
    return Kind.EMPTY;
  }

  private static void checkVersion(Path dir, Path marker) {
    List<String> lines;
    try {
      lines = Files.readAllLines(marker, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot read " + marker + ": " + e, e);
    }
    String version = lines.stream().map(String::strip).filter(l -> l.startsWith(VERSION_KEY))
        .map(l -> l.substring(VERSION_KEY.length()).strip()).findFirst().orElse(null);
    if (!String.valueOf(FORMAT_VERSION).equals(version)) {
      throw new ReplikonException(Reason.STORE_VERSION, "store " + dir + " has format version "
          + (version == null ? "(none readable)" : version) + " in " + marker
          + "; this replikon reads version " + FORMAT_VERSION + " only"
          + ("2".equals(version) ? " (version 2 holds unsigned commits, which peers of protocol 2"
              + " refuse: collect into a new store, or replicate from a peer that has them signed)"
              : ""));
    }
  }

  private static ReplikonException missing(Path dir) {
    return new ReplikonException(Reason.STORE_MISSING, "no replikon store exists at " + dir
        + "; create one first (open it with creation allowed) or check --store");
  }

  /** Returns what identifies the directory in this JVM: its file key, else its real path. */
  private static Object identity(Path dir) {
    try {
      Object fileKey = Files.readAttributes(dir, BasicFileAttributes.class).fileKey();
      return fileKey != null ? fileKey : dir.toRealPath();
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot read store directory " + dir + ": "
          + e, e);
    }
  }

  private static void writeMarker(Path dir) throws IOException {
    Path tmp = dir.resolve(MARKER_TMP);
    byte[] text = (MARKER_HEADER + "\n" + VERSION_KEY + FORMAT_VERSION + "\n")
        .getBytes(StandardCharsets.UTF_8);
    Files.deleteIfExists(tmp); // a leftover of a crash, or a link: removed, never followed
    try (FileChannel out = PrivateFiles.open(tmp, Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE))) {
      ByteBuffer buffer = ByteBuffer.wrap(text);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
    Files.move(tmp, dir.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes who holds the lock, through the locked channel (never another descriptor). */
  private static void writeHolder(FileChannel channel) throws IOException {
    ProcessHandle self = ProcessHandle.current();
    String started = self.info().startInstant().orElse(Instant.now()).toString();
    byte[] text = ("pid=" + self.pid() + "\nhost=" + hostName() + "\nstarted=" + started + "\n")
        .getBytes(StandardCharsets.UTF_8);
    channel.truncate(0);
    ByteBuffer buffer = ByteBuffer.wrap(text);
    long position = 0;
    while (buffer.hasRemaining()) {
      position += channel.write(buffer, position);
    }
    channel.force(false);
  }

  /** Describes the holder written in the lock file, as well as it can be read. */
  private static String holder(FileChannel channel) {
    String pid = null;
    String host = null;
    String started = null;
    try {
      long size = Math.min(channel.size(), 4096);
      ByteBuffer buffer = ByteBuffer.allocate((int) size);
      while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
        // keep reading
      }
      for (String line : new String(buffer.array(), 0, buffer.position(),
          StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("pid=")) {
          pid = line.substring(4).strip();
        } else if (line.startsWith("host=")) {
          host = line.substring(5).strip();
        } else if (line.startsWith("started=")) {
          started = line.substring(8).strip();
        }
      }
    } catch (IOException e) {
      // fall through to the anonymous description
    }
    if (pid == null || pid.isEmpty()) {
      return "another process";
    }
    return "process " + pid + (host == null ? "" : " on host " + host)
        + (started == null ? "" : " (started " + started + ")");
  }

  private static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // nothing left to release
    }
  }

  /** Returns true if RocksDB has created its database in {@code dir}. */
  static boolean hasDatabase(Path dir) {
    return Files.exists(dir.resolve("CURRENT"));
  }
}
