package io.replikon.collector;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 * are deleted. A record cut short by a crash (its length runs past the end, or its CRC fails) at
 * the end of the newest segment, with no valid record after it, was never acknowledged: the file
 * is truncated before it. A record that fails its check with valid records after it (found by
 * trying every later offset: length, CRC, layout and a rising seq must all check) is damage to
 * acknowledged data: open refuses, naming the file and the offset, unless asked to repair, which
 * rewrites the segment with its valid records only, counts the events lost (the gap in seqs) and
 * forgets the idempotency keys of their submissions, so a client's retry is taken, not called a
 * repeat.
 *
 * Idempotency keys of submissions are kept in keys.log (a header "rpkkeys2", then u64 key hash |
 * u32 count | u64 fingerprint of the events | u64 first seq per entry; a file without the header
 * holds the older 12-byte entries and is rewritten at open), written and fsynced after the
 * records, and compacted to the newest KEYS_KEPT entries when it has twice as many.
 *
 * Files are created 600 and the directory 700 on POSIX file systems, through one opener
 * (ChannelOpener), which tests replace to record writes and forces.
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
  /** keys.log starts with this; a file without it holds 12-byte entries (hash, count). */
  private static final byte[] KEYS_MAGIC = "rpkkeys2".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_ENTRY = 28;
  private static final int OLD_KEY_ENTRY = 12;
  /** The writer's buffer: records are copied into it and written out whenever it fills. */
  static final int WRITE_BUFFER = 4 << 20;

  /**
   * One journaled submission.
   *
   * @param fingerprint {@link KeyWindow#fingerprint} of the events when there is a key, else 0
   */
  record Entry(long firstSeq, List<byte[]> events, byte[] cursor, long keyHash,
      long fingerprint) {
    Entry(long firstSeq, List<byte[]> events, byte[] cursor, long keyHash) {
      this(firstSeq, events, cursor, keyHash, 0);
    }

    long lastSeq() {
      return firstSeq + events.size() - 1;
    }
  }

  /** What {@link #open} found: the events not committed yet and the keys remembered. */
  record Recovered(List<Entry> uncommitted, Optional<byte[]> lastCursor) {}

  private record Append(List<byte[]> events, byte[] cursor, long keyHash, long fingerprint,
      CompletableFuture<Entry> done) {}

  private final Path dir;
  private final ChannelOpener opener;
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
      long keysWritten, ChannelOpener opener) throws IOException {
    this.dir = dir;
    this.opener = opener;
    this.keyWindow = keyWindow;
    this.durable = durable;
    this.nextSeq = nextSeq;
    this.keys = opener.open(dir.resolve(KEYS), APPENDING);
    this.keysWritten = keysWritten;
    this.writer = new Thread(this::writeLoop, "replikon-journal");
    this.writer.setDaemon(true);
  }

  /** Opens files for the journal: the seam through which tests record writes and forces. */
  @FunctionalInterface
  interface ChannelOpener {
    FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;
  }

  private static final Set<StandardOpenOption> APPENDING =
      Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

  /**
   * Opens with {@link PrivateFiles#open}: a file it creates is 600 on a POSIX file system (from
   * its creation, so it is never readable by others even for a moment), and never through a
   * symbolic link.
   */
  static final ChannelOpener FILES = PrivateFiles::open;

  /**
   * As {@link #open(Path, long, KeyWindow, Consumer, Consumer, boolean, ChannelOpener)}, refusing a
   * damaged journal, with real files.
   */
  static Journal open(Path dir, long committedSeq, KeyWindow keyWindow, Consumer<Entry> durable,
      Consumer<Recovered> recovered) {
    return open(dir, committedSeq, keyWindow, durable, recovered, false, FILES);
  }

  /**
   * Opens (or creates) the journal in {@code dir}, hands back what is not committed and the keys
   * remembered, and starts its writer. The directory is created 700 on a POSIX file system.
   *
   * <p>A record that fails its check with no valid record after it, at the end of the newest
   * segment, was cut short by a crash before its group was fsynced, so never acknowledged: it is
   * truncated silently. Damage with valid records after it (in its segment or a later one) is
   * corruption of records that were acknowledged: refused, unless {@code repair}.
   *
   * @param committedSeq the seq of the last event committed (from the checkpoint), 0 if none
   * @param keyWindow filled with the remembered idempotency keys; the caller adds each new key
   *     to it from {@code durable}
   * @param durable told of each journaled entry, in order, on the writer thread
   * @param recovered told, before the writer starts, what was journaled and not committed
   * @param repair drop damaged records (counted in the log), keep the valid ones after them, and
   *     forget the idempotency keys of the submissions dropped, so that a retry is accepted
   * @param opener opens every file the journal writes
   * @throws ReplikonException {@code STORE_IO} if the directory cannot be read or written, or if
   *     it is damaged and not {@code repair} (the message names the file and the byte offset)
   */
  static Journal open(Path dir, long committedSeq, KeyWindow keyWindow, Consumer<Entry> durable,
      Consumer<Recovered> recovered, boolean repair, ChannelOpener opener) {
    try {
      PrivateFiles.createDirectories(dir);
      List<Path> files;
      try (Stream<Path> list = Files.list(dir)) {
        files = list.filter(p -> p.getFileName().toString().endsWith(SUFFIX)
                && !p.getFileName().toString().equals(KEYS))
            .sorted().toList();
      }
      List<Scan> scans = new ArrayList<>();
      for (Path file : files) {
        scans.add(scan(file));
      }
      List<long[]> lost = checkDamage(dir, scans, repair);
      List<Entry> uncommitted = new ArrayList<>();
      List<Entry> allEntries = new ArrayList<>();
      TreeMap<Long, Long> found = new TreeMap<>();
      byte[] lastCursor = null;
      long lastSeq = committedSeq;
      for (Scan scan : scans) {
        List<Entry> entries = scan.entries();
        allEntries.addAll(entries);
        long last = scan.first() - 1;
        for (Entry e : entries) {
          last = e.lastSeq();
          if (e.cursor().length > 0) {
            lastCursor = e.cursor();
          }
          if (e.lastSeq() > committedSeq) {
            int skip = (int) Math.max(0, committedSeq - e.firstSeq() + 1);
            uncommitted.add(skip == 0 ? e : new Entry(e.firstSeq() + skip,
                e.events().subList(skip, e.events().size()), e.cursor(), e.keyHash(),
                e.fingerprint()));
          }
        }
        lastSeq = Math.max(lastSeq, last);
        found.put(scan.first(), last);
      }
      for (long[] range : lost) { // never reuse the seq of an acknowledged event
        lastSeq = Math.max(lastSeq, range[1] == Long.MAX_VALUE ? range[0] - 1 : range[1]);
      }
      long keysWritten = readKeys(dir, keyWindow, allEntries, lost, opener);
      Journal journal = new Journal(dir, lastSeq + 1, durable, keyWindow, keysWritten, opener);
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

  /** A byte range of a segment that holds no valid record; {@code tail}: none after it there. */
  private record Damage(long from, long to, boolean tail) {}

  /** What one segment holds: its valid records (with their byte ranges) and its damage. */
  private record Scan(Path file, long first, long size, List<Entry> entries, List<long[]> spans,
      List<Damage> damage) {}

  /**
   * Decides what the damage found means. A tail damage of the newest segment is a torn write:
   * truncated. Any other damage refuses the open, or with {@code repair} is cut out (the segment
   * rewritten with its valid records only). Returns the seq ranges {@code [from, to]} of the
   * events lost (to = {@code Long.MAX_VALUE} when no valid record follows to bound it).
   */
  private static List<long[]> checkDamage(Path dir, List<Scan> scans, boolean repair)
      throws IOException {
    List<long[]> lost = new ArrayList<>();
    long previousSeq = 0;
    for (int i = 0; i < scans.size(); i++) {
      Scan scan = scans.get(i);
      boolean newest = i == scans.size() - 1;
      int entry = 0;
      for (Damage d : scan.damage()) {
        while (entry < scan.entries().size() && scan.spans().get(entry)[0] < d.from()) {
          previousSeq = scan.entries().get(entry++).lastSeq();
        }
        previousSeq = Math.max(previousSeq, scan.first() - 1);
        if (d.tail() && newest) {
          continue; // a torn write: truncated below
        }
        if (!repair) {
          throw new ReplikonException(Reason.STORE_IO, "journal segment " + scan.file()
              + " is damaged at byte " + d.from() + " (" + (d.to() - d.from()) + " bytes), and"
              + " valid records follow: events acknowledged to clients may be lost. Copy the"
              + " journal directory " + dir + " aside, then start with --repair-journal to drop"
              + " the damaged records (and forget their idempotency keys) and keep the rest");
        }
        long nextSeq = nextFirstSeq(scans, i, entry);
        lost.add(new long[] {previousSeq + 1, nextSeq == Long.MAX_VALUE ? nextSeq : nextSeq - 1});
        LOG.warn("journal repair: dropping the damaged bytes {}..{} of {}: the events {}..{} ({})"
                + " are lost", d.from(), d.to(), scan.file(), previousSeq + 1,
            nextSeq == Long.MAX_VALUE ? "the end" : String.valueOf(nextSeq - 1),
            nextSeq == Long.MAX_VALUE ? "an unknown count" : (nextSeq - 1 - previousSeq)
                + " events");
      }
      if (scan.damage().isEmpty()) {
        continue;
      }
      if (scan.damage().size() == 1 && scan.damage().get(0).tail() && newest) {
        Damage d = scan.damage().get(0);
        LOG.warn("journal {}: a record cut short at byte {} (of {}) was never acknowledged;"
            + " truncating it", scan.file(), d.from(), scan.size());
        try (FileChannel ch = FileChannel.open(scan.file(), StandardOpenOption.WRITE)) {
          ch.truncate(d.from());
          ch.force(true);
        }
        continue;
      }
      rewrite(scan);
    }
    if (!lost.isEmpty()) {
      long events = 0;
      for (long[] range : lost) {
        events += range[1] == Long.MAX_VALUE ? 0 : range[1] - range[0] + 1;
      }
      LOG.warn("journal repair: dropped {} damaged ranges of records in {}; events lost: {}; their"
          + " idempotency keys are forgotten, so a retry of those submissions is accepted",
          lost.size(), dir, events);
    }
    return lost;
  }

  /** The first seq of the next valid record after entry {@code entry} of scan {@code i}. */
  private static long nextFirstSeq(List<Scan> scans, int i, int entry) {
    for (int k = i; k < scans.size(); k++) {
      List<Entry> entries = scans.get(k).entries();
      int from = k == i ? entry : 0;
      if (from < entries.size()) {
        return entries.get(from).firstSeq();
      }
    }
    return Long.MAX_VALUE;
  }

  /** Rewrites a damaged segment with its valid records only: aside, fsynced, moved over. */
  private static void rewrite(Scan scan) throws IOException {
    Path tmp = scan.file().resolveSibling(scan.file().getFileName() + ".repair");
    try (FileChannel in = FileChannel.open(scan.file(), StandardOpenOption.READ);
        FileChannel out = FILES.open(tmp, Set.of(StandardOpenOption.CREATE,
            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))) {
      for (long[] span : scan.spans()) {
        long at = span[0];
        while (at < span[1]) {
          at += in.transferTo(at, span[1] - at, out);
        }
      }
      out.force(true);
    }
    Files.move(tmp, scan.file(), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads the records of one segment. Where a record fails its check, looks for the next valid
   * record after it (a record whose length, CRC and layout all check, with a seq after the last
   * one read): the bytes in between are damage, and the valid records after it are read on.
   */
  private static Scan scan(Path file) throws IOException {
    long first = Long.parseLong(file.getFileName().toString().replace(SUFFIX, ""));
    ByteBuffer all;
    long size;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      size = ch.size();
      if (size > Integer.MAX_VALUE - 8) {
        throw new ReplikonException(Reason.STORE_IO, "journal segment " + file + " is " + size
            + " bytes; a segment holds at most about " + SEGMENT_BYTES);
      }
      all = ByteBuffer.allocate((int) size);
      while (all.hasRemaining() && ch.read(all) >= 0) {
        // read it all
      }
      all.flip();
    }
    List<Entry> entries = new ArrayList<>();
    List<long[]> spans = new ArrayList<>();
    List<Damage> damage = new ArrayList<>();
    int at = 0;
    int limit = all.limit();
    long lastSeq = first - 1;
    while (at < limit) {
      Entry e = parse(all, at, lastSeq, Long.MAX_VALUE);
      if (e != null) {
        int end = at + HEADER + all.getInt(at);
        entries.add(e);
        spans.add(new long[] {at, end});
        lastSeq = e.lastSeq();
        at = end;
        continue;
      }
      // Each event takes at least 4 bytes: what follows n damaged bytes starts at most n / 4
      // events further on. Checked before the CRC, so that the bytes of events in a torn tail
      // cannot make this search compute a CRC over megabytes at every offset.
      int next = at + 1;
      while (next < limit && parse(all, next, lastSeq, lastSeq + 1 + (next - at) / 4) == null) {
        next++;
      }
      damage.add(new Damage(at, next, next >= limit));
      at = next;
    }
    return new Scan(file, first, size, entries, spans, damage);
  }

  /**
   * Returns the record at {@code at} if it is whole and valid: length within the segment, first
   * seq in {@code (afterSeq, atMostSeq]}, CRC, and a layout that fills the length exactly; else
   * null. The cheap checks come before the CRC.
   */
  private static Entry parse(ByteBuffer all, int at, long afterSeq, long atMostSeq) {
    int limit = all.limit();
    if (limit - at < HEADER + 24) {
      return null;
    }
    int length = all.getInt(at);
    if (length < 24 || length > limit - at - HEADER) {
      return null;
    }
    int p = at + HEADER;
    int end = p + length;
    long firstSeq = all.getLong(p);
    int count = all.getInt(p + 8);
    long keyHash = all.getLong(p + 12);
    int cursorLength = all.getInt(p + 20);
    p += 24;
    if (firstSeq <= afterSeq || firstSeq > atMostSeq || count < 1 || cursorLength < 0
        || cursorLength > end - p || count > (end - p - cursorLength) / 4) {
      return null;
    }
    CRC32C check = new CRC32C();
    check.update(all.array(), at + HEADER, length);
    if ((int) check.getValue() != all.getInt(at + 4)) {
      return null;
    }
    byte[] cursor = new byte[cursorLength];
    all.get(p, cursor);
    p += cursorLength;
    List<byte[]> events = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      if (end - p < 4) {
        return null;
      }
      int n = all.getInt(p);
      p += 4;
      if (n < 0 || n > end - p) {
        return null;
      }
      byte[] event = new byte[n];
      all.get(p, event);
      p += n;
      events.add(event);
    }
    if (p != end) {
      return null;
    }
    return new Entry(firstSeq, events, cursor, keyHash,
        keyHash == 0 ? 0 : KeyWindow.fingerprint(events));
  }

  /**
   * Fills {@code window} from keys.log, less the keys of submissions in {@code lost}; adds the keys
   * of journaled entries it lacks: the writer fsyncs a group's records before their keys, so a
   * crash between the two leaves keys only in the records (their submissions were never
   * acknowledged, but a retry must still be known as a repeat, and the key must outlive the
   * segment once it is committed and deleted). Rewrites keys.log when it is in the old format,
   * ends in a partial entry, or lost keys; else appends the restored keys. Returns how many
   * entries keys.log holds.
   */
  private static long readKeys(Path dir, KeyWindow window, List<Entry> entries, List<long[]> lost,
      ChannelOpener opener) throws IOException {
    Path file = dir.resolve(KEYS);
    boolean rewrite = false;
    long forgotten = 0;
    long inFile = 0;
    if (Files.exists(file)) {
      byte[] all = Files.readAllBytes(file);
      ByteBuffer b = ByteBuffer.wrap(all);
      boolean current = all.length >= KEYS_MAGIC.length
          && Arrays.equals(all, 0, KEYS_MAGIC.length, KEYS_MAGIC, 0, KEYS_MAGIC.length);
      int entry = current ? KEY_ENTRY : OLD_KEY_ENTRY;
      b.position(current ? KEYS_MAGIC.length : 0);
      rewrite = !current || b.remaining() % entry != 0;
      while (b.remaining() >= entry) {
        long hash = b.getLong();
        int count = b.getInt();
        long fingerprint = current ? b.getLong() : 0;
        long firstSeq = current ? b.getLong() : 0;
        if (hash == 0 || isLost(firstSeq, lost)) {
          forgotten++;
          continue;
        }
        window.put(hash, count, fingerprint, firstSeq);
        inFile++;
      }
    } else {
      rewrite = true; // a new file starts with its header
    }
    rewrite |= forgotten > 0;
    List<Entry> missing = new ArrayList<>();
    for (Entry e : entries) {
      if (e.keyHash() != 0 && window.get(e.keyHash()) < 0) {
        window.put(e.keyHash(), e.events().size(), e.fingerprint(), e.firstSeq());
        missing.add(e);
      }
    }
    if (forgotten > 0) {
      LOG.warn("journal {}: forgot {} idempotency keys of dropped submissions", dir, forgotten);
    }
    if (!missing.isEmpty()) {
      LOG.info("journal {}: restored {} idempotency keys written before their key entries",
          dir, missing.size());
    }
    if (rewrite) {
      return writeKeys(dir, window, opener);
    }
    if (missing.isEmpty()) {
      return inFile;
    }
    ByteBuffer out = ByteBuffer.allocate(missing.size() * KEY_ENTRY);
    missing.forEach(e -> putKey(out, e.keyHash(), e.events().size(), e.fingerprint(),
        e.firstSeq()));
    out.flip();
    try (FileChannel ch = opener.open(file, APPENDING)) {
      while (out.hasRemaining()) {
        ch.write(out);
      }
      ch.force(false);
    }
    return inFile + missing.size();
  }

  private static boolean isLost(long firstSeq, List<long[]> lost) {
    for (long[] range : lost) {
      if (firstSeq >= range[0] && firstSeq <= range[1]) {
        return true;
      }
    }
    return false;
  }

  private static void putKey(ByteBuffer out, long hash, int count, long fingerprint,
      long firstSeq) {
    out.putLong(hash).putInt(count).putLong(fingerprint).putLong(firstSeq);
  }

  /**
   * Writes keys.log anew with the keys {@code window} remembers: aside, fsynced, then moved over
   * the old file, and the directory fsynced. Returns how many entries it holds.
   */
  private static long writeKeys(Path dir, KeyWindow window, ChannelOpener opener)
      throws IOException {
    Path tmp = dir.resolve(KEYS + ".tmp");
    ByteBuffer all = ByteBuffer.allocate(KEYS_MAGIC.length + window.size() * KEY_ENTRY);
    all.put(KEYS_MAGIC);
    window.forEachOldestFirst((hash, count, fingerprint, firstSeq) ->
        putKey(all, hash, count, fingerprint, firstSeq));
    all.flip();
    try (FileChannel ch = opener.open(tmp, Set.of(StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))) {
      while (all.hasRemaining()) {
        ch.write(all);
      }
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(KEYS), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    forceDirectory(dir);
    return window.size();
  }

  /**
   * Queues events for the writer (see {@link #append(List, byte[], long, long)}), their
   * fingerprint computed here when they have a key.
   */
  CompletableFuture<Entry> append(List<byte[]> events, byte[] cursor, long keyHash) {
    return append(events, cursor, keyHash, keyHash == 0 ? 0 : KeyWindow.fingerprint(events));
  }

  /**
   * Queues events for the writer; the future completes once they are written and fsynced (and the
   * listener has seen them), or fails with {@code STORE_IO} or {@code STORE_CLOSED}.
   */
  CompletableFuture<Entry> append(List<byte[]> events, byte[] cursor, long keyHash,
      long fingerprint) {
    CompletableFuture<Entry> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new ReplikonException(Reason.STORE_CLOSED,
          "the journal in " + dir + " is closed"));
      return done;
    }
    queue.add(new Append(events, cursor, keyHash, fingerprint, done));
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
        Entry entry = new Entry(seq, a.events(), a.cursor(), a.keyHash(), a.fingerprint());
        putRecord(seq, a);
        if (a.keyHash() != 0) {
          putKey(keyOut, a.keyHash(), a.events().size(), a.fingerprint(), seq);
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
    segment = opener.open(segmentPath(segmentFirst), APPENDING);
    synchronized (this) {
      segments.put(segmentFirst, segmentFirst - 1);
    }
    forceDirectory(dir);
  }

  private static void forceDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync directory {}: {}", dir, e.toString()); // not supported everywhere
    }
  }

  /**
   * Rewrites keys.log with the entries {@code keyWindow} remembers once the file holds twice
   * {@link #KEYS_KEPT} entries ({@link #writeKeys}). Writer thread only; the window holds every
   * key written so far, because the listener saw them.
   */
  private void compactKeys() throws IOException {
    if (keysWritten < 2L * KEYS_KEPT) {
      return;
    }
    keys.close();
    keysWritten = writeKeys(dir, keyWindow, opener);
    keys = opener.open(dir.resolve(KEYS), APPENDING);
    LOG.info("journal {}: idempotency keys compacted to the newest {}", dir, keysWritten);
  }

  /** Stops the writer after it wrote what was queued, and closes the files. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(new Append(null, new byte[0], 0, 0, new CompletableFuture<>()));
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
