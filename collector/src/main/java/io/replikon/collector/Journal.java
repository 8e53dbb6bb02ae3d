package io.replikon.collector;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: the write-ahead journal.
 *
 * Events are durable once they are in the journal; the CDVCS commit comes later, in a batch. The
 * journal is a directory of segment files, each named by the sequence number of its first event,
 * holding records back to back:
 *
 *   u32 body length | u32 CRC-32C of the body | body
 *   body = u64 first seq | u32 event count | u64 key hash (0: none) | u32 cursor length | cursor
 *          | per event: u32 length | the encoded transaction
 *
 * Group commit: appenders only queue their record and a future; one writer thread drains the
 * queue, writes every queued record, fsyncs once, tells the listener (in sequence order) and then
 * completes the futures. Under load, hundreds of submissions share one fsync. The writer copies
 * records straight from the events' arrays into one direct buffer of its own (WRITE_BUFFER),
 * written out each time it fills and at the end of the group: one copy of the bytes off the heap,
 * nothing allocated per group, whatever the group's size. The CRC of a record is computed from
 * the events' arrays before it is copied, so a record may span several writes.
 *
 * Exactly once: the collector stores the sequence number of the last event it committed in the
 * same atomic write as the commit (a Checkpoint). On open, the journal hands back every event after
 * that number; events up to it are never committed again. Segments whose events are all committed
 * are deleted. A record cut short by a crash (its length runs past the end, or its CRC fails) was
 * never acknowledged: the file is truncated before it.
 *
 * Idempotency keys of submissions are kept in keys.log (u64 key hash | u32 count per entry),
 * written and fsynced with the records, and compacted to the newest KEYS_KEPT entries when it has
 * twice as many.
 */
/**
 * The collector's write-ahead journal (see the design note in the source). Thread-safe:
 * {@link #append} may be called from any thread; the listener runs on the journal's writer thread.
 */
final class Journal implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
  static final int KEYS_KEPT = 1_000_000;
  private static final long SEGMENT_BYTES = 64L << 20;
  private static final int HEADER = 8;
  private static final String SUFFIX = ".log";
  private static final String KEYS = "keys.log";
  private static final int KEY_ENTRY = 12;
  /** The writer's buffer: records are copied into it and written out whenever it fills. */
  static final int WRITE_BUFFER = 4 << 20;

  /** One journaled submission. */
  record Entry(long firstSeq, List<byte[]> events, byte[] cursor, long keyHash) {
    long lastSeq() {
      return firstSeq + events.size() - 1;
    }
  }

  /** What {@link #open} found: the events not committed yet and the keys remembered. */
  record Recovered(List<Entry> uncommitted, Optional<byte[]> lastCursor) {}

  private record Append(List<byte[]> events, byte[] cursor, long keyHash,
      CompletableFuture<Entry> done) {}

  private final Path dir;
  private final Consumer<Entry> durable;
  private final LinkedBlockingQueue<Append> queue = new LinkedBlockingQueue<>();
  /** First seq of each segment -> last seq in it (the open one included). Guarded by this. */
  private final TreeMap<Long, Long> segments = new TreeMap<>();
  private final Thread writer;
  private final KeyWindow keyWindow;
  /** Writer thread only: one copy of the events off the heap, reused for every group. */
  private final ByteBuffer out = ByteBuffer.allocateDirect(WRITE_BUFFER);
  private final ByteBuffer recordHead = ByteBuffer.allocate(HEADER + 24);
  private final byte[] lengthBytes = new byte[4];
  private FileChannel keys;
  private long keysWritten;
  private FileChannel segment;
  private long segmentFirst;
  private long nextSeq;
  private volatile boolean closed;
  /** Set when a failed write could not be undone: every later append fails with it. */
  private ReplikonException damaged;

  private Journal(Path dir, long nextSeq, Consumer<Entry> durable, KeyWindow keyWindow,
      long keysWritten) throws IOException {
    this.dir = dir;
    this.keyWindow = keyWindow;
    this.durable = durable;
    this.nextSeq = nextSeq;
    this.keys = FileChannel.open(dir.resolve(KEYS), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    this.keysWritten = keysWritten;
    this.writer = new Thread(this::writeLoop, "replikon-journal");
    this.writer.setDaemon(true);
  }

  /**
   * Opens (or creates) the journal in {@code dir}, hands back what is not committed and the keys
   * remembered, and starts its writer.
   *
   * @param committedSeq the seq of the last event committed (from the checkpoint), 0 if none
   * @param keyWindow filled with the remembered idempotency keys; the caller adds each new key
   *     to it from {@code durable}
   * @param durable told of each journaled entry, in order, on the writer thread
   * @param recovered told, before the writer starts, what was journaled and not committed
   * @throws ReplikonException {@code STORE_IO} if the directory cannot be read or written,
   *     {@code STORE_IO} also if a segment other than the newest is damaged
   */
  static Journal open(Path dir, long committedSeq, KeyWindow keyWindow, Consumer<Entry> durable,
      Consumer<Recovered> recovered) {
    try {
      Files.createDirectories(dir);
      List<Path> files;
      try (Stream<Path> list = Files.list(dir)) {
        files = list.filter(p -> p.getFileName().toString().endsWith(SUFFIX)
                && !p.getFileName().toString().equals(KEYS))
            .sorted().toList();
      }
      List<Entry> uncommitted = new ArrayList<>();
      List<Entry> allEntries = new ArrayList<>();
      TreeMap<Long, Long> found = new TreeMap<>();
      byte[] lastCursor = null;
      long lastSeq = committedSeq;
      for (int i = 0; i < files.size(); i++) {
        Path file = files.get(i);
        long first = Long.parseLong(file.getFileName().toString().replace(SUFFIX, ""));
        List<Entry> entries = new ArrayList<>();
        long valid = read(file, entries);
        allEntries.addAll(entries);
        if (valid < Files.size(file)) {
          if (i < files.size() - 1) {
            throw new ReplikonException(Reason.STORE_IO, "journal segment " + file
                + " is damaged at byte " + valid + " and is not the newest one");
          }
          LOG.warn("journal {}: a record cut short at byte {} (of {}) was never acknowledged;"
              + " truncating it", file, valid, Files.size(file));
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(valid);
            ch.force(true);
          }
        }
        long last = first - 1;
        for (Entry e : entries) {
          last = e.lastSeq();
          if (e.cursor().length > 0) {
            lastCursor = e.cursor();
          }
          if (e.lastSeq() > committedSeq) {
            int skip = (int) Math.max(0, committedSeq - e.firstSeq() + 1);
            uncommitted.add(skip == 0 ? e : new Entry(e.firstSeq() + skip,
                e.events().subList(skip, e.events().size()), e.cursor(), e.keyHash()));
          }
        }
        lastSeq = Math.max(lastSeq, last);
        found.put(first, last);
      }
      long keysWritten = readKeys(dir.resolve(KEYS), keyWindow);
      keysWritten += restoreKeys(dir.resolve(KEYS), keyWindow, allEntries);
      Journal journal = new Journal(dir, lastSeq + 1, durable, keyWindow, keysWritten);
      synchronized (journal) {
        journal.segments.putAll(found);
      }
      recovered.accept(new Recovered(uncommitted, Optional.ofNullable(lastCursor)));
      journal.release(committedSeq);
      journal.writer.start();
      return journal;
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot open the journal in " + dir + ": " + e,
          e);
    }
  }

  /** Reads the records of one segment into {@code out}; returns the length of its valid part. */
  private static long read(Path file, List<Entry> out) throws IOException {
    ByteBuffer all;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      all = ByteBuffer.allocate((int) size);
      while (all.hasRemaining() && ch.read(all) >= 0) {
        // read it all
      }
      all.flip();
    }
    long valid = 0;
    while (all.remaining() >= HEADER) {
      int length = all.getInt(all.position());
      int crc = all.getInt(all.position() + 4);
      if (length < 24 || length > all.remaining() - HEADER) {
        break;
      }
      CRC32C check = new CRC32C();
      check.update(all.array(), all.position() + HEADER, length);
      if ((int) check.getValue() != crc) {
        break;
      }
      all.position(all.position() + HEADER);
      long firstSeq = all.getLong();
      int count = all.getInt();
      long keyHash = all.getLong();
      byte[] cursor = new byte[all.getInt()];
      all.get(cursor);
      List<byte[]> events = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        byte[] event = new byte[all.getInt()];
        all.get(event);
        events.add(event);
      }
      out.add(new Entry(firstSeq, events, cursor, keyHash));
      valid = all.position();
    }
    return valid;
  }

  private static long readKeys(Path file, KeyWindow window) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    byte[] all = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(all);
    long n = all.length / KEY_ENTRY;
    for (long i = 0; i < n; i++) {
      window.put(b.getLong(), b.getInt());
    }
    return n;
  }

  /**
   * Adds to keys.log (and the window) the keys of journaled entries it lacks: the writer fsyncs a
   * group's records before their keys, so a crash between the two leaves keys only in the records.
   * Their submissions were never acknowledged, but a retry must still be known as a repeat, and
   * the key must outlive the segment once it is committed and deleted.
   */
  private static long restoreKeys(Path file, KeyWindow window, List<Entry> entries)
      throws IOException {
    List<Entry> missing = new ArrayList<>();
    for (Entry e : entries) {
      if (e.keyHash() != 0 && window.get(e.keyHash()) < 0) {
        window.put(e.keyHash(), e.events().size());
        missing.add(e);
      }
    }
    if (missing.isEmpty()) {
      return 0;
    }
    ByteBuffer out = ByteBuffer.allocate(missing.size() * KEY_ENTRY);
    missing.forEach(e -> out.putLong(e.keyHash()).putInt(e.events().size()));
    out.flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      while (out.hasRemaining()) {
        ch.write(out);
      }
      ch.force(false);
    }
    LOG.info("journal {}: restored {} idempotency keys written before their key entries",
        file.getParent(), missing.size());
    return missing.size();
  }

  /**
   * Queues events for the writer; the future completes once they are written and fsynced (and the
   * listener has seen them), or fails with {@code STORE_IO} or {@code STORE_CLOSED}.
   */
  CompletableFuture<Entry> append(List<byte[]> events, byte[] cursor, long keyHash) {
    CompletableFuture<Entry> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new ReplikonException(Reason.STORE_CLOSED,
          "the journal in " + dir + " is closed"));
      return done;
    }
    queue.add(new Append(events, cursor, keyHash, done));
    return done;
  }

  /** Deletes the segments whose events are all committed ({@code seq <= committedSeq}). */
  synchronized void release(long committedSeq) {
    var it = segments.entrySet().iterator();
    while (it.hasNext()) {
      var s = it.next();
      boolean open = segment != null && s.getKey() == segmentFirst;
      if (!open && s.getValue() <= committedSeq) {
        try {
          Files.deleteIfExists(segmentPath(s.getKey()));
          it.remove();
        } catch (IOException e) {
          LOG.warn("cannot delete committed journal segment {}: {}", segmentPath(s.getKey()),
              e.toString());
        }
      }
    }
  }

  private Path segmentPath(long first) {
    return dir.resolve(String.format("%020d", first) + SUFFIX);
  }

  private void writeLoop() {
    List<Append> group = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      try {
        group.add(queue.take());
        queue.drainTo(group);
      } catch (InterruptedException e) {
        continue; // only close() stops the writer, through its marker
      }
      stopping = group.removeIf(a -> a.events() == null);
      writeGroup(group);
      group.clear();
    }
    ReplikonException late = new ReplikonException(Reason.STORE_CLOSED,
        "the journal in " + dir + " is closed");
    for (Append a = queue.poll(); a != null; a = queue.poll()) {
      a.done().completeExceptionally(late);
    }
  }

  private void writeGroup(List<Append> group) {
    if (group.isEmpty()) {
      return;
    }
    if (damaged != null) {
      group.forEach(a -> a.done().completeExceptionally(damaged));
      return;
    }
    List<Entry> entries = new ArrayList<>(group.size());
    long segmentBefore = -1;
    long keysBefore = -1;
    try {
      compactKeys();
      ensureSegment();
      segmentBefore = segment.size();
      keysBefore = keys.size();
      long seq = nextSeq;
      ByteBuffer keyOut = ByteBuffer.allocate(group.size() * KEY_ENTRY);
      out.clear();
      for (Append a : group) {
        Entry entry = new Entry(seq, a.events(), a.cursor(), a.keyHash());
        putRecord(seq, a);
        if (a.keyHash() != 0) {
          keyOut.putLong(a.keyHash()).putInt(a.events().size());
        }
        seq += a.events().size();
        entries.add(entry);
      }
      drain();
      segment.force(false);
      keyOut.flip();
      if (keyOut.hasRemaining()) {
        while (keyOut.hasRemaining()) {
          keys.write(keyOut);
        }
        keys.force(false);
        keysWritten += group.stream().filter(a -> a.keyHash() != 0).count();
      }
      nextSeq = seq;
      synchronized (this) {
        segments.put(segmentFirst, seq - 1);
      }
    } catch (IOException | RuntimeException e) {
      ReplikonException failure = new ReplikonException(Reason.STORE_IO,
          "cannot write the journal in " + dir + ": " + e, e);
      LOG.error("{}", failure.getMessage());
      cutBack(segmentBefore, keysBefore, failure);
      group.forEach(a -> a.done().completeExceptionally(failure));
      return;
    }
    for (Entry e : entries) {
      durable.accept(e);
    }
    for (int i = 0; i < group.size(); i++) {
      group.get(i).done().complete(entries.get(i));
    }
  }

  /**
   * Copies one record into the write buffer (writing the buffer out whenever it fills). The CRC is
   * computed from the events' own arrays first, so a record never needs to be whole in memory.
   * Writer thread only.
   */
  private void putRecord(long seq, Append a) throws IOException {
    long length = 24L + a.cursor().length;
    for (byte[] e : a.events()) {
      length += 4 + e.length;
    }
    if (length > Integer.MAX_VALUE - HEADER) {
      throw new IllegalArgumentException("a submission of " + length + " bytes");
    }
    recordHead.clear();
    recordHead.putInt(0).putInt(0).putLong(seq).putInt(a.events().size()).putLong(a.keyHash())
        .putInt(a.cursor().length);
    CRC32C crc = new CRC32C();
    crc.update(recordHead.array(), HEADER, 24);
    crc.update(a.cursor());
    for (byte[] e : a.events()) {
      lengthBytes[0] = (byte) (e.length >>> 24);
      lengthBytes[1] = (byte) (e.length >>> 16);
      lengthBytes[2] = (byte) (e.length >>> 8);
      lengthBytes[3] = (byte) e.length;
      crc.update(lengthBytes);
      crc.update(e);
    }
    recordHead.putInt(0, (int) length).putInt(4, (int) crc.getValue());
    put(recordHead.array(), 0, HEADER + 24);
    put(a.cursor(), 0, a.cursor().length);
    for (byte[] e : a.events()) {
      if (out.remaining() < 4) {
        drain();
      }
      out.putInt(e.length);
      put(e, 0, e.length);
    }
  }

  /** Copies bytes into the write buffer, writing it out whenever it fills. Writer thread only. */
  private void put(byte[] bytes, int from, int length) throws IOException {
    int at = from;
    int end = from + length;
    while (at < end) {
      if (!out.hasRemaining()) {
        drain();
      }
      int n = Math.min(out.remaining(), end - at);
      out.put(bytes, at, n);
      at += n;
    }
  }

  /**
   * After a failed group write (a full disk, say): cuts the segment and keys.log back to their
   * length before the group, so that what the next group appends is not hidden behind a partial
   * record (which {@link #open} would truncate, acknowledged records after it included), and so
   * that no record of the failed group, whose submitters were told it failed, is committed later.
   * If even that fails, the journal refuses every later append until the process restarts.
   */
  private void cutBack(long segmentBefore, long keysBefore, ReplikonException failure) {
    try {
      if (segment != null && segmentBefore >= 0) {
        segment.truncate(segmentBefore);
        segment.force(false);
      }
      if (keysBefore >= 0) {
        keys.truncate(keysBefore);
        keys.force(false);
      }
    } catch (IOException | RuntimeException e) {
      damaged = new ReplikonException(Reason.STORE_IO, "the journal in " + dir + " could not be"
          + " cut back after a failed write (" + e + "); restart the collector", failure);
      LOG.error("{}", damaged.getMessage());
    }
  }

  /** Writes out what the buffer holds and empties it. Writer thread only. */
  private void drain() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      segment.write(out);
    }
    out.clear();
  }

  /** Opens a new segment when there is none or the open one is full. Writer thread only. */
  private void ensureSegment() throws IOException {
    if (segment != null && segment.size() < SEGMENT_BYTES) {
      return;
    }
    if (segment != null) {
      segment.close();
    }
    segmentFirst = nextSeq;
    segment = FileChannel.open(segmentPath(segmentFirst), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    synchronized (this) {
      segments.put(segmentFirst, segmentFirst - 1);
    }
    forceDirectory();
  }

  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync directory {}: {}", dir, e.toString()); // not supported everywhere
    }
  }

  /**
   * Rewrites keys.log with the entries {@code keyWindow} remembers once the file holds twice
   * {@link #KEYS_KEPT} entries: written aside, fsynced, then moved over the old file. Writer thread
   * only; the window holds every key written so far, because the listener saw them.
   */
  private void compactKeys() throws IOException {
    if (keysWritten < 2L * KEYS_KEPT) {
      return;
    }
    Path tmp = dir.resolve(KEYS + ".tmp");
    long[] hashes = keyWindow.hashesOldestFirst();
    ByteBuffer all = ByteBuffer.allocate(hashes.length * KEY_ENTRY);
    for (long h : hashes) {
      all.putLong(h).putInt(keyWindow.get(h));
    }
    all.flip();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      while (all.hasRemaining()) {
        ch.write(all);
      }
      ch.force(true);
    }
    keys.close();
    Files.move(tmp, dir.resolve(KEYS), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    forceDirectory();
    keys = FileChannel.open(dir.resolve(KEYS), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    keysWritten = hashes.length;
    LOG.info("journal {}: idempotency keys compacted to the newest {}", dir, hashes.length);
  }

  /** Stops the writer after it wrote what was queued, and closes the files. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(new Append(null, new byte[0], 0, new CompletableFuture<>()));
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (segment != null) {
        segment.close();
      }
      keys.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
