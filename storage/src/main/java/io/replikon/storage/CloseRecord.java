package io.replikon.storage;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/*
 * Design note. RocksDB replays its write-ahead log at open and, in its default recovery mode, stops
 * at the first damaged record without a word: a log cut in half or with flipped bytes lost synced
 * writes silently. Only something outside the log can tell a lost synced write from a torn tail
 * that was never synced. This record is that: written (and fsynced) at every clean close, after
 * everything the store holds is durable, it names the last RocksDB sequence number and the size of
 * every chunk segment. Both only grow, so the record stays a lower bound through any number of
 * later crashes: an open that recovers less than it names has lost writes that were on disk.
 * What was written after the last clean close and lost in a crash is not covered (RocksDB's own
 * checks catch damage inside the log; a cut at a record boundary after a crash looks like a torn
 * tail).
 */

/**
 * What a store held when it was last closed cleanly: a lower bound that a later open checks.
 * Immutable; {@link #read} and {@link #write} block on file I/O.
 *
 * @param sequence the RocksDB sequence number at close
 * @param segments the size of each chunk segment at close, by number (empty when chunks are not
 *     forced, durability NONE)
 */
record CloseRecord(long sequence, Map<Integer, Long> segments) {
  /** The file, in the store directory. */
  static final String FILE = "replikon.closed";
  private static final String TMP = FILE + ".tmp";
  private static final String SEQUENCE = "sequence=";
  private static final String SEGMENT = "segment.";
  /** A bound on the file: far more than any real record (a line per 256 MiB segment). */
  private static final long MAX_BYTES = 1 << 20;

  CloseRecord {
    segments = Map.copyOf(segments);
  }

  /**
   * Reads the record of {@code dir}, or empty if the store was never closed cleanly by a version
   * that writes one.
   *
   * @throws ReplikonException {@code STORE_IO} if the file cannot be read or is damaged
   */
  static Optional<CloseRecord> read(Path dir) {
    Path file = dir.resolve(FILE);
    List<String> lines;
    try {
      if (Files.isSymbolicLink(file) || (Files.exists(file) && Files.size(file) > MAX_BYTES)) {
        throw damaged(file, "it is a symbolic link or larger than " + MAX_BYTES + " bytes");
      }
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot read " + file + ": " + e, e);
    }
    Long sequence = null;
    Map<Integer, Long> segments = new TreeMap<>();
    try {
      for (String line : lines) {
        if (line.startsWith(SEQUENCE)) {
          sequence = Long.parseLong(line.substring(SEQUENCE.length()));
        } else if (line.startsWith(SEGMENT)) {
          int eq = line.indexOf('=');
          segments.put(Integer.parseInt(line.substring(SEGMENT.length(), eq)),
              Long.parseLong(line.substring(eq + 1)));
        }
      }
    } catch (RuntimeException e) {
      throw damaged(file, "a line does not parse (" + e.getMessage() + ")");
    }
    if (sequence == null) {
      throw damaged(file, "it names no sequence");
    }
    return Optional.of(new CloseRecord(sequence, segments));
  }

  /** Writes this record into {@code dir}, replacing the previous one atomically, and syncs it. */
  void write(Path dir) throws IOException {
    StringBuilder text = new StringBuilder(SEQUENCE).append(sequence).append('\n');
    new TreeMap<>(segments).forEach((n, size) ->
        text.append(SEGMENT).append(n).append('=').append(size).append('\n'));
    Path tmp = dir.resolve(TMP);
    Files.deleteIfExists(tmp);
    try (FileChannel out = PrivateFiles.open(tmp, Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE))) {
      ByteBuffer b = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        out.write(b);
      }
      out.force(true);
    }
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static ReplikonException damaged(Path file, String why) {
    return new ReplikonException(Reason.STORE_IO, file + " is damaged: " + why + ". If the store"
        + " itself is sound, delete this file to open it without the check of what its last"
        + " clean close held");
  }
}
