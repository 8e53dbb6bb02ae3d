package io.replikon.storage;

import com.sun.nio.file.ExtendedOpenOption;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/*
 * Design note. Chunks are nearly all of what a store holds (every transaction of every commit), and
 * RocksDB handled each of their bytes many times: a JNI copy into the write batch, the write-ahead
 * log, the memtable, then a blob file when the memtable was flushed. Chunks are immutable,
 * content-addressed and never deleted, so they need none of an LSM tree's machinery. Here they are
 * appended to segment files (chunks/00000001.chunks, ...; a new one after 256 MiB) through one
 * reused direct buffer, and RocksDB keeps a 20-byte reference to each (segment, offset, length,
 * CRC-32C) in the same atomic batch as the commit that names it.
 *
 * Order. The bytes are written and forced (fdatasync) before the batch that references them is
 * written, in SYNC and BATCH durability alike: the kernel may write RocksDB's log back, or RocksDB
 * flush its memtable, at any time, so a reference may become durable before the next sync(), and
 * it must then point at durable bytes. A crash between the two leaves unreferenced bytes at the end
 * of a segment: never read, and the next append goes after them. A new segment's directory entry
 * is forced as well. With durability NONE nothing is forced.
 *
 * Direct I/O. When appends are forced, they bypass the page cache (O_DIRECT): the buffer goes to
 * the device by DMA, so the kernel neither copies every byte into its cache (a third of a
 * subscribing peer's engine thread went into that copy) nor has dirty pages for the force to wait
 * on. O_DIRECT wants the buffer, the file offset and the length aligned to the device's block, so
 * each append is padded with zeros to a whole block (a segment holds at most one block of padding
 * per append) and the next one starts at the following block. A file system that refuses O_DIRECT
 * (tmpfs, some network file systems), when the file is opened or at the first write, gets
 * ordinary buffered appends from then on, as does durability NONE. Reads still go through the
 * page cache, which keeps what several subscribers catching up on the same history read.
 *
 * Reads are positional (pread) on one channel per segment, opened on first use; the CRC of every
 * read is checked, so a damaged file fails with STORE_IO rather than handing out wrong bytes, and
 * a reference is checked against the segment's size before its bytes are allocated.
 *
 * Damage at open. The size each segment had when the store was last closed cleanly (CloseRecord)
 * is a lower bound on what it must hold, since appends were forced: a segment that is missing or
 * shorter fails the open (check). Bytes past the last reference after a crash are not damage.
 * Every file and directory is created owner-only (PrivateFiles), never through a link.
 */

/**
 * Append-only files for large chunk values, referenced from the store's {@link Column#CHUNKS}
 * entries. Thread-safe: appends are serialized, reads run concurrently with them.
 */
final class ChunkFiles implements AutoCloseable {
  /** The directory, inside the store directory, that holds the segments. */
  static final String DIRECTORY = "chunks";
  /** A new segment is started when the current one would grow past this. */
  static final long SEGMENT_BYTES = 256L << 20;
  /** The size of a reference: segment (4), offset (8), length (4), CRC-32C (4). */
  static final int REFERENCE_BYTES = 20;
  private static final Pattern SEGMENT_NAME = Pattern.compile("(\\d{8})\\.chunks");
  private static final int BUFFER_BYTES = 4 << 20;
  /** The alignment of direct appends: the device block, at least 4 KiB. */
  private static final int MIN_ALIGNMENT = 4096;

  private final Path dir;
  private final boolean force;
  private final long segmentBytes;
  private final Opener opener;
  private final Map<Integer, FileChannel> readers = new ConcurrentHashMap<>();
  /** The size of each segment after the last append to it that succeeded (forced if asked). */
  private final Map<Integer, Long> appended = new TreeMap<>(); // guarded by this
  // guarded by this
  private ByteBuffer buffer;
  private final CRC32C crc = new CRC32C();
  private int segment;
  private FileChannel out;
  /** Whether {@link #out} writes past the page cache; then {@link #size} stays block-aligned. */
  private boolean direct;
  /** The block size direct appends align to; 1 for buffered appends. */
  private int alignment = 1;
  private long size;
  /** Bytes of the current append already written at {@link #size}. */
  private long written;
  private boolean closed;

  /** Opens a segment file: the file system, or a test's recording or failing channel. */
  @FunctionalInterface
  interface Opener {
    /** The file system, through {@link PrivateFiles#open}: owner-only, never through a link. */
    Opener FILES = PrivateFiles::open;

    /** Opens {@code file} with {@code options}. */
    FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;
  }

  private ChunkFiles(Path dir, boolean force, long segmentBytes, Opener opener) {
    this.dir = dir;
    this.opener = opener;
    this.force = force;
    this.segmentBytes = segmentBytes;
  }

  /**
   * Opens (creating if needed) the segments in {@code storeDirectory}/chunks; appends go to the
   * newest one.
   *
   * @param force whether appends are forced to disk before they return
   * @throws ReplikonException {@code STORE_IO} if the directory or a segment cannot be opened
   */
  static ChunkFiles open(Path storeDirectory, boolean force) {
    return open(storeDirectory, force, SEGMENT_BYTES, Opener.FILES);
  }

  /** As {@link #open(Path, boolean)}, with segments of {@code segmentBytes} (for tests). */
  static ChunkFiles open(Path storeDirectory, boolean force, long segmentBytes) {
    return open(storeDirectory, force, segmentBytes, Opener.FILES);
  }

  /** As {@link #open(Path, boolean)}, opening segments through {@code opener}. */
  static ChunkFiles open(Path storeDirectory, boolean force, long segmentBytes, Opener opener) {
    Path dir = storeDirectory.resolve(DIRECTORY);
    ChunkFiles files = new ChunkFiles(dir, force, segmentBytes, opener);
    try {
      PrivateFiles.createDirectories(dir);
      int newest = 0;
      try (Stream<Path> list = Files.list(dir)) {
        for (Path p : (Iterable<Path>) list::iterator) {
          var m = SEGMENT_NAME.matcher(p.getFileName().toString());
          if (m.matches()) {
            newest = Math.max(newest, Integer.parseInt(m.group(1)));
          }
        }
      }
      if (force) {
        files.alignment = alignment(dir);
      }
      files.buffer = ByteBuffer.allocateDirect(BUFFER_BYTES + files.alignment)
          .alignedSlice(files.alignment);
      files.openForAppend(Math.max(1, newest), force);
      return files;
    } catch (IOException e) {
      files.close();
      throw new ReplikonException(Reason.STORE_IO, "cannot open the chunk files in " + dir + ": "
          + e.getMessage(), e);
    }
  }

  /** The device block of the file system holding {@code dir}, at least {@link #MIN_ALIGNMENT}. */
  private static int alignment(Path dir) {
    try {
      long block = Files.getFileStore(dir).getBlockSize();
      return block > MIN_ALIGNMENT && block <= BUFFER_BYTES && Long.bitCount(block) == 1
          ? (int) block : MIN_ALIGNMENT;
    } catch (IOException | UnsupportedOperationException e) {
      return MIN_ALIGNMENT;
    }
  }

  /** Opens segment {@code number} for appends, past the page cache if {@code tryDirect}. */
  private void openForAppend(int number, boolean tryDirect) throws IOException {
    Path file = segmentPath(number);
    boolean created = !Files.exists(file);
    out = null;
    if (tryDirect) {
      try {
        out = opener.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            ExtendedOpenOption.DIRECT));
      } catch (IOException | UnsupportedOperationException refused) {
        out = null; // not on this file system: buffered appends below
      }
    }
    direct = out != null;
    if (!direct) {
      out = opener.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE));
    }
    // Appends start at a block boundary (direct) past whatever the file holds, including bytes a
    // crash left after the last reference (or a failed append wrote).
    size = blockCeiling(out.size());
    segment = number;
    if (created && force) {
      forceDirectory();
    }
  }

  /** The block appends are padded to: the device block for direct appends, else 1 (tests). */
  synchronized int alignment() {
    return direct ? alignment : 1;
  }

  /** {@code n} rounded up to a whole block of direct appends (unchanged for buffered ones). */
  private long blockCeiling(long n) {
    int unit = direct ? alignment : 1;
    return (n + unit - 1) / unit * unit;
  }

  private Path segmentPath(int number) {
    return dir.resolve(String.format("%08d.chunks", number));
  }

  private void forceDirectory() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /**
   * Appends {@code values} and returns a reference to each, in order; forces them to disk first
   * if this was opened with {@code force}. The values of one call go to one segment.
   *
   * @throws ReplikonException {@code STORE_IO} if writing fails; the references of a failed call
   *     are never handed out, so what it wrote is never read
   */
  synchronized byte[][] append(List<byte[]> values) {
    if (closed) {
      throw new ReplikonException(Reason.STORE_CLOSED, "the chunk files in " + dir + " are closed");
    }
    if (!direct) {
      return appendOnce(values);
    }
    try {
      return appendOnce(values);
    } catch (ReplikonException e) {
      if (noSpace(e)) {
        throw e; // not the file system refusing O_DIRECT: buffered appends would fail the same
      }
      // A file system may accept O_DIRECT when the file is opened and refuse the writes: append
      // through the page cache from now on (from where this append started), and try once more.
      try {
        out.close();
        openForAppend(segment, false);
      } catch (IOException reopen) {
        e.addSuppressed(reopen);
        throw e;
      }
      return appendOnce(values);
    }
  }

  private byte[][] appendOnce(List<byte[]> values) {
    long total = 0;
    for (byte[] v : values) {
      total += v.length;
    }
    try {
      if (size > 0 && size + total > segmentBytes) {
        out.close();
        openForAppend(segment + 1, direct);
      }
      byte[][] references = new byte[values.size()][];
      long offset = size;
      written = 0;
      for (int i = 0; i < values.size(); i++) {
        byte[] v = values.get(i);
        crc.reset();
        crc.update(v, 0, v.length);
        references[i] = ByteBuffer.allocate(REFERENCE_BYTES).putInt(segment).putLong(offset)
            .putInt(v.length).putInt((int) crc.getValue()).array();
        for (int from = 0; from < v.length; ) {
          int n = Math.min(buffer.remaining(), v.length - from);
          buffer.put(v, from, n);
          from += n;
          if (!buffer.hasRemaining()) {
            drain();
          }
        }
        offset += v.length;
      }
      if (direct) {
        while (buffer.position() % alignment != 0) {
          buffer.put((byte) 0); // padding to a whole block: never referenced
        }
      }
      drain();
      if (force) {
        out.force(false);
      }
      size = blockCeiling(offset);
      appended.put(segment, size);
      return references;
    } catch (IOException e) {
      // The next append starts at size again and overwrites what this one left; its references
      // are never handed out.
      buffer.clear();
      if (noSpace(e)) {
        throw new ReplikonException(Reason.STORE_IO, "no space left on device: cannot write "
            + total + " bytes of chunks to " + segmentPath(segment) + " of store "
            + dir.getParent() + "; nothing of this write was stored. Free space on that file"
            + " system", e);
      }
      throw new ReplikonException(Reason.STORE_IO, "cannot write chunks to "
          + segmentPath(segment) + ": " + e.getMessage(), e);
    }
  }

  /** Writes the buffer at the append position, after what earlier drains of this append wrote. */
  private void drain() throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      written += out.write(buffer, size + written);
    }
    buffer.clear();
  }

  /**
   * Reads the value {@code reference} names and checks its CRC.
   *
   * @throws ReplikonException {@code STORE_IO} if the segment is missing, too short, or the bytes
   *     do not match their CRC
   * @throws IllegalArgumentException if {@code reference} is not one
   */
  byte[] read(byte[] reference) {
    if (reference.length != REFERENCE_BYTES) {
      throw new IllegalArgumentException("not a chunk reference: " + reference.length + " bytes");
    }
    ByteBuffer r = ByteBuffer.wrap(reference);
    int number = r.getInt();
    long offset = r.getLong();
    int length = r.getInt();
    int expected = r.getInt();
    byte[] value;
    try {
      FileChannel channel = readers.get(number);
      if (channel == null) {
        channel = readers.computeIfAbsent(number, n -> openForRead(segmentPath(n)));
      }
      long fileSize = channel.size();
      if (length < 0 || offset < 0 || offset > fileSize - length) {
        // checked before allocating: a damaged reference must not make us allocate what it says
        throw new ReplikonException(Reason.STORE_IO, "chunk file " + segmentPath(number)
            + " (" + fileSize + " bytes) ends before the " + length + " bytes at offset "
            + offset + " that the store references");
      }
      value = new byte[length];
      ByteBuffer into = ByteBuffer.wrap(value);
      while (into.hasRemaining()) {
        int n = channel.read(into, offset + into.position());
        if (n < 0) {
          throw new ReplikonException(Reason.STORE_IO, "chunk file " + segmentPath(number)
              + " ends before the " + length + " bytes at offset " + offset
              + " that the store references");
        }
      }
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot read " + segmentPath(number) + ": "
          + e.getMessage(), e);
    }
    CRC32C check = new CRC32C();
    check.update(value, 0, length);
    if ((int) check.getValue() != expected) {
      throw new ReplikonException(Reason.STORE_IO, "chunk file " + segmentPath(number)
          + " is damaged: the " + length + " bytes at offset " + offset
          + " do not match their CRC");
    }
    return value;
  }

  private FileChannel openForRead(Path file) {
    try {
      return opener.open(file, Set.of(StandardOpenOption.READ));
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot open chunk file " + file + ": "
          + e.getMessage(), e);
    }
  }

  /** The size of each segment after its last successful append by this instance. */
  synchronized Map<Integer, Long> appended() {
    return new TreeMap<>(appended);
  }

  /**
   * Checks that every segment the store held at its last clean close is still there, at least as
   * long as it was then (appends were forced, so a shorter one lost bytes that were on disk).
   *
   * @param storeDirectory the store directory
   * @param atClose the size of each segment at the last clean close
   * @throws ReplikonException {@code STORE_IO} naming the first segment that is missing or short
   */
  static void check(Path storeDirectory, Map<Integer, Long> atClose) {
    Path dir = storeDirectory.resolve(DIRECTORY);
    for (var e : new TreeMap<>(atClose).entrySet()) {
      Path file = dir.resolve(String.format("%08d.chunks", e.getKey()));
      long size;
      try {
        size = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? Files.size(file) : -1;
      } catch (IOException x) {
        size = -1;
      }
      if (size < e.getValue()) {
        throw new ReplikonException(Reason.STORE_IO, "store " + storeDirectory + " is damaged:"
            + " chunk file " + file + (size < 0 ? " is missing" : " has " + size + " bytes")
            + ", but it held " + e.getValue() + " bytes, all on disk, when the store was last"
            + " closed. Chunks that were stored are lost: restore the store from a backup or"
            + " from a replica (move this directory aside and let the peer fetch its CDVCSs"
            + " from another peer)");
      }
    }
  }

  /** Whether {@code e} or a cause of it is a full file system (ENOSPC). */
  static boolean noSpace(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("no space left on device")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes every segment; idempotent. Appends and reads after this fail. Never throws: every
   * append already handed its bytes to the OS (and forced them if asked), so a failure to close a
   * descriptor loses nothing.
   */
  @Override
  public synchronized void close() {
    closed = true;
    closeQuietly(out);
    readers.values().forEach(ChunkFiles::closeQuietly);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      // nothing is lost: see close()
    }
  }
}
