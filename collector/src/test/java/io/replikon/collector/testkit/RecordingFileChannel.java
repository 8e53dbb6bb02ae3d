package io.replikon.collector.testkit;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A file channel over a real one that records every write, truncate and force into a shared
 * {@link Disk}, with lost-unsynced-writes semantics: what a crash would keep of a file is its
 * content at its last force ({@link Disk#crashImage}); a file never forced is lost whole.
 */
public final class RecordingFileChannel extends FileChannel {

  /** The files opened through {@link #open}, and what a crash would keep of each. */
  public static final class Disk {
    private final List<String> operations = new ArrayList<>();
    private final Map<Path, byte[]> forced = new LinkedHashMap<>();

    /** Opens {@code file} through a recording channel. */
    public FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
      return new RecordingFileChannel(this, file, FileChannel.open(file, options));
    }

    /** Returns the operations so far, as {@code "write NAME"}, {@code "force NAME"}, ... */
    public synchronized List<String> operations() {
      return List.copyOf(operations);
    }

    /** Records an operation of the test's own ({@code "ack"}) among the file operations. */
    public synchronized void mark(String what) {
      operations.add(what);
    }

    /**
     * Writes into {@code into} what a crash now would leave: each file that still exists under
     * its name, with its content as of its last force.
     */
    public synchronized void crashImage(Path into) throws IOException {
      Files.createDirectories(into);
      for (Map.Entry<Path, byte[]> f : forced.entrySet()) {
        if (Files.exists(f.getKey())) {
          Files.write(into.resolve(f.getKey().getFileName()), f.getValue());
        }
      }
    }

    private synchronized void record(String op, Path file) {
      operations.add(op + " " + file.getFileName());
    }

    private synchronized void forced(Path file) throws IOException {
      forced.put(file, Files.readAllBytes(file));
      operations.add("force " + file.getFileName());
    }
  }

  private final Disk disk;
  private final Path file;
  private final FileChannel real;

  private RecordingFileChannel(Disk disk, Path file, FileChannel real) {
    this.disk = disk;
    this.file = file;
    this.real = real;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return real.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return real.read(dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    disk.record("write", file);
    return real.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    disk.record("write", file);
    return real.write(srcs, offset, length);
  }

  @Override
  public long position() throws IOException {
    return real.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    real.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return real.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    disk.record("truncate", file);
    real.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    real.force(metaData);
    disk.forced(file);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target)
      throws IOException {
    return real.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count)
      throws IOException {
    disk.record("write", file);
    return real.transferFrom(src, position, count);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return real.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    disk.record("write", file);
    return real.write(src, position);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    throw new UnsupportedOperationException("mapped writes cannot be recorded");
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return real.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return real.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    real.close();
  }
}
