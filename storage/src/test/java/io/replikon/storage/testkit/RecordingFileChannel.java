package io.replikon.storage.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/*
 * Design note. A crash keeps of a file what was forced, and any unforced write may or may not be
 * there: the tests here take the harshest reading, lost-unsynced-writes, in which every write
 * since the last force is gone. Each file has one model shared by every channel the journal opened
 * on it: its contents now and its contents as of the last force. The journal also keeps, in
 * order, every write, force and truncate of every channel, and marks a test adds (say, "the
 * database batch is written now"), so a test can check the order of writes and forces across
 * files and against other events.
 */

/**
 * A {@link FileChannel} that passes every call to a real one and records, in a shared
 * {@link Journal}, its writes, forces and truncations; it can be told to fail writes (a full
 * disk). For tests of what a crash keeps.
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
  public sealed interface Event permits Write, Force, Truncate, Mark {}

  /** {@code length} bytes written at {@code position} of {@code file}. */
  public record Write(Path file, long position, int length) implements Event {}

  /** {@code file} forced (metadata too if {@code metaData}). */
  public record Force(Path file, boolean metaData) implements Event {}

  /** {@code file} truncated to {@code size}. */
  public record Truncate(Path file, long size) implements Event {}

  /** A test's own event, in order with the others. */
  public record Mark(String label) implements Event {}

  /** The shared record of every channel it opened, and their files' models. Thread-safe. */
  public static final class Journal {
    private final List<Event> events = new ArrayList<>();
    private final Map<Path, Model> models = new HashMap<>();
    private Predicate<Path> failing = p -> false;
    private String failure = "";

    /**
     * Wraps {@code channel}, open on {@code file}. The file's model starts from what the file
     * holds now, taken as durable.
     */
    public synchronized RecordingFileChannel wrap(Path file, FileChannel channel)
        throws IOException {
      Path key = file.toAbsolutePath().normalize();
      if (!models.containsKey(key)) {
        byte[] now = Files.exists(key) ? Files.readAllBytes(key) : new byte[0];
        models.put(key, new Model(now));
      }
      return new RecordingFileChannel(key, channel, this);
    }

    /** Adds a test's mark to the events. */
    public synchronized void mark(String label) {
      events.add(new Mark(label));
    }

    /** Returns a copy of the events so far, in order. */
    public synchronized List<Event> events() {
      return List.copyOf(events);
    }

    /** Returns what a crash now would leave of {@code file}: its contents at its last force. */
    public synchronized byte[] durable(Path file) {
      Model m = models.get(file.toAbsolutePath().normalize());
      return m == null ? new byte[0] : m.durable.clone();
    }

    /** Returns what {@code file} holds now, forced or not. */
    public synchronized byte[] contents(Path file) {
      Model m = models.get(file.toAbsolutePath().normalize());
      return m == null ? new byte[0] : Arrays.copyOf(m.current, m.length);
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

    private synchronized void checkWrite(Path file) throws IOException {
      if (failing.test(file)) {
        throw new IOException(failure);
      }
    }

    private synchronized void wrote(Path file, long position, ByteBuffer bytes) {
      int n = bytes.remaining();
      models.get(file).write(position, bytes);
      events.add(new Write(file, position, n));
    }

    private synchronized void forced(Path file, boolean metaData) {
      Model m = models.get(file);
      m.durable = Arrays.copyOf(m.current, m.length);
      events.add(new Force(file, metaData));
    }

    private synchronized void truncated(Path file, long size) {
      Model m = models.get(file);
      m.length = (int) Math.min(m.length, size);
      events.add(new Truncate(file, size));
    }
  }

  /** A file's contents now and at its last force. */
  private static final class Model {
    byte[] current;
    int length;
    byte[] durable;

    Model(byte[] initial) {
      current = initial.clone();
      length = initial.length;
      durable = initial.clone();
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

  private RecordingFileChannel(Path file, FileChannel channel, Journal journal) {
    this.file = file;
    this.channel = channel;
    this.journal = journal;
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
    journal.wrote(file, position, copy.limit(copy.position() + n));
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      while (srcs[i].hasRemaining()) {
        total += write(srcs[i]);
      }
    }
    return total;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    journal.checkWrite(file);
    ByteBuffer copy = src.duplicate();
    int n = channel.write(src, position);
    journal.wrote(file, position, copy.limit(copy.position() + n));
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
    journal.forced(file, metaData);
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
