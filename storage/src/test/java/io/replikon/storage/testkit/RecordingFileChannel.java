package io.replikon.storage.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/*
 * Design note. A crash keeps of a file what was forced, and any unforced write may or may not be
 * there: the tests here take the harshest reading, lost-unsynced-writes, in which every write
 * since the last force is gone. A name (a file created, a rename) survives as of the last force of
 * its directory (ext4 or XFS without data journaling promise no more). Each file has one model
 * shared by every channel the journal opened on it, under whatever name it has now: its contents
 * now and its contents as of its last force. The journal keeps, in order, every open, write,
 * force, truncate and rename of every channel, and marks a test adds (say, "the database batch is
 * written now"), so a test can check the order of writes and forces across files and against
 * other events; after each event it keeps what a crash then would leave, so a test can crash at
 * every point. A file the journal had not seen before is taken as durable, name and contents, as
 * it is when the journal first sees it (and so, too, if it changed behind the journal's back).
 */

/**
 * A {@link FileChannel} that passes every call to a real one and records, in a shared
 * {@link Journal}, its writes, forces and truncations; it can be told to fail writes (a full
 * disk). For tests of what a crash keeps: the one such helper of the project.
 *
 * <p>Thread-safe as far as the channel it wraps is; the journal is thread-safe. Transfers into the
 * channel and memory mapping are refused (they would bypass the record).
 *
 * <p>Other modules' tests use it through the storage module's test jar:
 * {@code <dependency><groupId>io.replikon</groupId><artifactId>replikon-storage</artifactId>
 * <type>test-jar</type><scope>test</scope></dependency>}.
 */
public final class RecordingFileChannel extends FileChannel {

  /** Something that happened to a file, or a mark a test set, in the order it happened. */
  public sealed interface Event permits Open, Write, Force, Truncate, Rename, Mark {
    /**
     * Returns the event in a line for assertions, with file names only: {@code "open a.log"},
     * {@code "write a.log"}, {@code "force a.log"} (a directory too), {@code "truncate a.log"},
     * {@code "rename a.tmp to a"}, or a mark's label.
     */
    String describe();
  }

  /** {@code file} opened (a directory's opening is not recorded). */
  public record Open(Path file) implements Event {
    @Override
    public String describe() {
      return "open " + file.getFileName();
    }
  }

  /** {@code length} bytes written at {@code position} of {@code file}. */
  public record Write(Path file, long position, int length) implements Event {
    @Override
    public String describe() {
      return "write " + file.getFileName();
    }
  }

  /** {@code file} (or a directory) forced (metadata too if {@code metaData}). */
  public record Force(Path file, boolean metaData) implements Event {
    @Override
    public String describe() {
      return "force " + file.getFileName();
    }
  }

  /** {@code file} truncated to {@code size}. */
  public record Truncate(Path file, long size) implements Event {
    @Override
    public String describe() {
      return "truncate " + file.getFileName();
    }
  }

  /** {@code from} renamed over {@code to}, through {@link Journal#move}. */
  public record Rename(Path from, Path to) implements Event {
    @Override
    public String describe() {
      return "rename " + from.getFileName() + " to " + to.getFileName();
    }
  }

  /** A test's own event, in order with the others. */
  public record Mark(String label) implements Event {
    @Override
    public String describe() {
      return label;
    }
  }

  /** The shared record of every channel it opened, and their files' models. Thread-safe. */
  public static final class Journal {
    private final List<Event> events = new ArrayList<>();
    /** The names of files as they are now, and the models behind them. */
    private final Map<Path, Model> names = new HashMap<>();
    /** The names as of their directory's last force (or as first seen, if already there). */
    private final Map<Path, Model> durableNames = new HashMap<>();
    /** After event i (index i + 1; index 0: before any), what a crash keeps: name to contents. */
    private final List<Map<Path, byte[]>> kept = new ArrayList<>(List.of(Map.of()));
    private Predicate<Path> failing = p -> false;
    private String failure = "";

    /**
     * Opens {@code file} as {@link FileChannel#open(Path, OpenOption...)} does, recording it. A
     * file it creates has no durable name until its directory is forced; a directory opened here
     * records a force as a force of its names.
     */
    public RecordingFileChannel open(Path file, OpenOption... options) throws IOException {
      return open(file, new HashSet<>(Arrays.asList(options)));
    }

    /** Opens {@code file} as {@link FileChannel#open(Path, Set, FileAttribute...)} does. */
    public synchronized RecordingFileChannel open(Path file, Set<? extends OpenOption> options,
        FileAttribute<?>... attributes) throws IOException {
      Path key = key(file);
      boolean existed = Files.exists(key);
      FileChannel channel = FileChannel.open(key, options, attributes);
      return existed ? wrap(key, channel) : created(key, channel);
    }

    /**
     * Wraps {@code channel}, open on {@code file}. A file the journal has not seen is taken as
     * durable, name and contents, as it is now.
     */
    public synchronized RecordingFileChannel wrap(Path file, FileChannel channel)
        throws IOException {
      Path key = key(file);
      if (Files.isDirectory(key)) {
        return new RecordingFileChannel(key, channel, this, true);
      }
      byte[] now = Files.exists(key) ? Files.readAllBytes(key) : new byte[0];
      Model m = names.get(key);
      if (m == null || !Arrays.equals(now, 0, now.length, m.current, 0, m.length)) {
        m = new Model(now); // new to the journal, or changed behind its back
        names.put(key, m);
        durableNames.put(key, m);
      }
      record(new Open(key));
      return new RecordingFileChannel(key, channel, this, false);
    }

    private RecordingFileChannel created(Path key, FileChannel channel) {
      Model m = new Model(new byte[0]);
      m.everDurable = false;
      names.put(key, m);
      record(new Open(key));
      return new RecordingFileChannel(key, channel, this, false);
    }

    /**
     * Renames {@code from} over {@code to} atomically, as {@link Files#move} with
     * {@code ATOMIC_MOVE} and {@code REPLACE_EXISTING} does, recording it: the new name is
     * durable once their directory is forced.
     */
    public synchronized void move(Path from, Path to) throws IOException {
      Path f = key(from);
      Path t = key(to);
      byte[] now = Files.readAllBytes(f);
      Files.move(f, t, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Model m = names.remove(f);
      if (m == null) {
        m = new Model(now); // not seen before: taken as durable as it is
      }
      names.put(t, m);
      record(new Rename(f, t));
    }

    /** Adds a test's mark to the events. */
    public synchronized void mark(String label) {
      record(new Mark(label));
    }

    /** Returns a copy of the events so far, in order. */
    public synchronized List<Event> events() {
      return List.copyOf(events);
    }

    /** Returns how many events happened: crash points are 0 to this, inclusive. */
    public synchronized int size() {
      return events.size();
    }

    /** Returns what a crash now would leave of {@code file}'s contents: those at its last force. */
    public synchronized byte[] durable(Path file) {
      Model m = names.get(key(file));
      return m == null ? new byte[0] : m.durable.clone();
    }

    /** Returns what {@code file} holds now, forced or not. */
    public synchronized byte[] contents(Path file) {
      Model m = names.get(key(file));
      return m == null ? new byte[0] : Arrays.copyOf(m.current, m.length);
    }

    /**
     * Writes into {@code into} the files of {@code dir} as a crash after {@code eventCount}
     * events would leave them (same names: those of the directory's last force before, each with
     * its contents as of its last force), and returns their names. A file the journal first saw
     * after that point is not there.
     */
    public synchronized Set<String> crashAfter(int eventCount, Path dir, Path into)
        throws IOException {
      Path d = key(dir);
      Map<String, byte[]> files = new TreeMap<>();
      kept.get(eventCount).forEach((p, contents) -> {
        if (d.equals(p.getParent())) {
          files.put(p.getFileName().toString(), contents);
        }
      });
      Files.createDirectories(into);
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Files.write(into.resolve(f.getKey()), f.getValue(), StandardOpenOption.CREATE_NEW);
      }
      return files.keySet();
    }

    /**
     * As {@link #crashAfter} now, for code that forces its directory by means the journal does
     * not see: writes into {@code into} each file of {@code dir} the journal opened that is there
     * now under the name it was opened with, with its contents as of its last force; one it
     * created and never forced is not there. Returns their names.
     */
    public synchronized Set<String> crashNowTrustingNames(Path dir, Path into)
        throws IOException {
      Path d = key(dir);
      Map<String, byte[]> files = new TreeMap<>();
      names.forEach((p, m) -> {
        if (d.equals(p.getParent()) && m.everDurable && Files.exists(p)) {
          files.put(p.getFileName().toString(), m.durable);
        }
      });
      Files.createDirectories(into);
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Files.write(into.resolve(f.getKey()), f.getValue(), StandardOpenOption.CREATE_NEW);
      }
      return files.keySet();
    }

    /**
     * From now on, every write to a file {@code which} accepts fails with an {@link IOException}
     * whose message is {@code message} (say, "No space left on device"), writing nothing.
     */
    public synchronized void failWrites(Predicate<Path> which, String message) {
      this.failing = Objects.requireNonNull(which, "which");
      this.failure = Objects.requireNonNull(message, "message");
    }

    /** Lets writes succeed again. */
    public synchronized void stopFailing() {
      failing = p -> false;
    }

    private static Path key(Path file) {
      return file.toAbsolutePath().normalize();
    }

    private void record(Event e) {
      events.add(e);
      Map<Path, byte[]> now = new HashMap<>();
      durableNames.forEach((p, m) -> now.put(p, m.durable));
      kept.add(now);
    }

    private synchronized void checkWrite(Path file) throws IOException {
      if (failing.test(file)) {
        throw new IOException(failure);
      }
    }

    private synchronized void wrote(Path file, long position, ByteBuffer[] bytes, long n) {
      Model m = names.get(file);
      long at = position;
      long left = n;
      for (ByteBuffer b : bytes) {
        int take = (int) Math.min(left, b.remaining());
        if (m != null) {
          m.write(at, b.duplicate().limit(b.position() + take));
        }
        at += take;
        left -= take;
      }
      record(new Write(file, position, (int) n));
    }

    private synchronized void forced(Path file, boolean metaData, boolean directory) {
      if (directory) {
        durableNames.keySet().removeIf(p -> file.equals(p.getParent()));
        names.forEach((p, m) -> {
          if (file.equals(p.getParent())) {
            durableNames.put(p, m);
          }
        });
      } else {
        Model m = names.get(file);
        if (m != null) { // else renamed away while open: forced under its new name only
          m.durable = Arrays.copyOf(m.current, m.length);
          m.everDurable = true;
        }
      }
      record(new Force(file, metaData));
    }

    private synchronized void truncated(Path file, long size) {
      Model m = names.get(file);
      if (m != null) {
        m.length = (int) Math.min(m.length, size);
      }
      record(new Truncate(file, size));
    }
  }

  /** A file's contents now and at its last force. */
  private static final class Model {
    byte[] current;
    int length;
    byte[] durable;
    /** Whether it had a durable state: there when first seen, or forced since. */
    boolean everDurable;

    Model(byte[] initial) {
      current = initial.clone();
      length = initial.length;
      durable = initial.clone();
      everDurable = true;
    }

    void write(long position, ByteBuffer bytes) {
      int end = Math.toIntExact(position + bytes.remaining());
      if (end > current.length) {
        current = Arrays.copyOf(current, Math.max(end, current.length * 2));
      }
      if (position > length) {
        Arrays.fill(current, length, (int) position, (byte) 0);
      }
      bytes.get(current, (int) position, bytes.remaining());
      length = Math.max(length, end);
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final Journal journal;
  private final boolean directory;

  private RecordingFileChannel(Path file, FileChannel channel, Journal journal,
      boolean directory) {
    this.file = file;
    this.channel = channel;
    this.journal = journal;
    this.directory = directory;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return channel.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return channel.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return channel.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    journal.checkWrite(file);
    long position = channel.position();
    ByteBuffer copy = src.duplicate();
    int n = channel.write(src);
    journal.wrote(file, position, new ByteBuffer[] {copy}, n);
    return n;
  }

  /** One gathering write is one {@link Write} event, as it is one call to the file system. */
  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    journal.checkWrite(file);
    long position = channel.position();
    ByteBuffer[] copies = new ByteBuffer[length];
    for (int i = 0; i < length; i++) {
      copies[i] = srcs[offset + i].duplicate();
    }
    long n = channel.write(srcs, offset, length);
    journal.wrote(file, position, copies, n);
    return n;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    journal.checkWrite(file);
    ByteBuffer copy = src.duplicate();
    int n = channel.write(src, position);
    journal.wrote(file, position, new ByteBuffer[] {copy}, n);
    return n;
  }

  @Override
  public long position() throws IOException {
    return channel.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    channel.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    channel.truncate(size);
    journal.truncated(file, size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    channel.force(metaData);
    journal.forced(file, metaData, directory);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target)
      throws IOException {
    return channel.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) {
    throw new UnsupportedOperationException("transferFrom would bypass the record");
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) {
    throw new UnsupportedOperationException("a mapping would bypass the record");
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return channel.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return channel.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    channel.close();
  }
}
