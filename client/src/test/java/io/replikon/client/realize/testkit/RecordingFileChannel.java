package io.replikon.client.realize.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * A file channel that does what the real one under it does and tells its {@link CrashDisk} of
 * every write, force and truncation. Memory mapping and transfers are refused (the sinks use
 * neither). Not thread-safe.
 */
public final class RecordingFileChannel extends FileChannel {
  private final CrashDisk disk;
  private final FileChannel real;
  private final Path path;
  /** Null for a directory. */
  private final CrashDisk.Inode inode;

  RecordingFileChannel(CrashDisk disk, FileChannel real, Path path, CrashDisk.Inode inode) {
    this.disk = disk;
    this.real = real;
    this.path = path;
    this.inode = inode;
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
    long at = real.position();
    int n = real.write(src);
    disk.wrote(path, at, n);
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long at = real.position();
    long n = real.write(srcs, offset, length);
    disk.wrote(path, at, n);
    return n;
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
    real.truncate(size);
    disk.truncated(path, size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    real.force(metaData);
    if (inode == null) {
      disk.forcedDirectory(path);
    } else {
      disk.forced(path, inode);
    }
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) {
    throw new UnsupportedOperationException("transferTo");
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) {
    throw new UnsupportedOperationException("transferFrom");
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return real.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    int n = real.write(src, position);
    disk.wrote(path, position, n);
    return n;
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) {
    throw new UnsupportedOperationException("map");
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
