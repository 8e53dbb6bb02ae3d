package io.replikon.collector;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design note: a file is its own journal, so where to resume is a byte offset. Each submission
 * carries the cursor "offset after its last line, its line number, the file's path" and is marked
 * replayable: the collector does not copy it into its journal, and commits it whole with its
 * cursor. On start, a file whose path matches the collector's cursor is read from that offset, so
 * a restart neither loses nor repeats a line. Standard input cannot be read twice: its
 * submissions are journaled. Lines are parsed and encoded in parallel, a batch at a
 * time, and up to WINDOW batches are on their way to the journal at once.
 */
/** Reads JSON lines from a file or standard input (see {@link JsonLinesConfig}). */
final class JsonLinesSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(JsonLinesSource.class);
  private static final int BATCH = 1_000;
  private static final int WINDOW = 4;
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final JsonLinesConfig config;
  private volatile boolean closed;
  private long skipped;

  JsonLinesSource(JsonLinesConfig config) {
    this.config = config;
  }

  @Override
  public String describe() {
    return "jsonl " + config.file().map(Path::toString).orElse("stdin")
        + (config.follow() ? " (following)" : "");
  }

  /** Returns how many lines were not JSON and were skipped. */
  long skipped() {
    return skipped;
  }

  @Override
  public void run(Intake intake) throws IOException, InterruptedException {
    if (config.file().isEmpty()) {
      read(new LineReader(System.in, 0, 0), intake, null);
      return;
    }
    Path file = config.file().get();
    long offset = 0;
    long line = 0;
    String path = file.toAbsolutePath().normalize().toString();
    byte[] cursor = intake.cursor().orElse(null);
    if (cursor != null && cursor.length > 16) {
      ByteBuffer b = ByteBuffer.wrap(cursor);
      long at = b.getLong();
      long lineAt = b.getLong();
      String from = new String(cursor, 16, cursor.length - 16, StandardCharsets.UTF_8);
      if (from.equals(path)) {
        offset = at;
        line = lineAt;
      }
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "no such file: " + file);
    }
    try (channel) {
      if (channel.size() < offset) {
        LOG.warn("{} is shorter ({} bytes) than where the collector stopped reading it ({});"
            + " reading it from the start", file, channel.size(), offset);
        offset = 0;
        line = 0;
      } else if (offset > 0) {
        LOG.info("{}: resuming at line {} (byte {})", file, line + 1, offset);
      }
      channel.position(offset);
      byte[] pathBytes = path.getBytes(StandardCharsets.UTF_8);
      read(new LineReader(Channels.newInputStream(channel), offset, line), intake, pathBytes);
    }
  }

  private void read(LineReader reader, Intake intake, byte[] path)
      throws IOException, InterruptedException {
    ArrayDeque<CompletableFuture<Accepted>> inFlight = new ArrayDeque<>();
    int[] from = new int[BATCH];
    int[] to = new int[BATCH];
    long[] numbers = new long[BATCH];
    while (!closed) {
      int count = reader.fill(from, to, numbers);
      if (count > 0) {
        byte[] cursor = path == null ? null : ByteBuffer.allocate(16 + path.length)
            .putLong(reader.offset()).putLong(reader.lineNumber()).put(path).array();
        List<byte[]> encoded = encode(reader.block(), from, to, numbers, count);
        if (!encoded.isEmpty()) {
          while (inFlight.size() >= WINDOW) {
            await(inFlight.removeFirst());
          }
          intake.awaitCapacity();
          Submission s = Submission.of(encoded);
          // A file is its own journal: its lines can be read again from the committed offset.
          inFlight.add(intake.submit(cursor == null ? s : s.withCursor(cursor).asReplayable()));
        }
      }
      if (reader.atEnd()) {
        if (!config.follow()) {
          break;
        }
        Thread.sleep(config.pollInterval().toMillis());
      }
    }
    while (!inFlight.isEmpty()) {
      await(inFlight.removeFirst());
    }
    if (skipped > 0) {
      LOG.warn("{}: skipped {} lines (each reported above with its number)",
          describe(), skipped);
    }
  }

  private static void await(CompletableFuture<Accepted> f) {
    try {
      f.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  /**
   * Parses and encodes the lines {@code block[from[i], to[i])} in parallel; malformed lines are
   * reported and left out.
   */
  private List<byte[]> encode(byte[] block, int[] from, int[] to, long[] numbers, int count) {
    byte[][] out = new byte[count][];
    String[] errors = new String[count];
    IntStream.range(0, count).parallel().forEach(i -> {
      try {
        out[i] = SourceSupport.encodedJson(config.fn(), block, from[i], to[i] - from[i]);
      } catch (ReplikonException e) {
        errors[i] = e.getMessage();
      }
    });
    List<byte[]> encoded = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      if (out[i] != null) {
        encoded.add(out[i]);
      } else {
        skipped++;
        LOG.warn("{} line {}: skipped: {}", config.file().map(Path::toString)
            .orElse("stdin"), numbers[i], errors[i]);
      }
    }
    return encoded;
  }

  private static boolean isBlank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c != ' ' && c != '\t' && c != '\r') {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    closed = true;
  }

  /**
   * Splits a stream into lines without copying them: lines are handed out as ranges of one block
   * that holds them, valid until the next {@link #fill}. Keeps the byte offset after the last
   * whole line. A last line without its newline is held back until the newline arrives (a writer
   * may be mid-line), except at the end of a stream that is not followed.
   */
  private final class LineReader {
    private static final int BLOCK_BYTES = 8 << 20;
    private final InputStream in;
    private byte[] buffer = new byte[BLOCK_BYTES];
    /** The first byte not yet handed out as part of a line. */
    private int start;
    /** The end of what was read. */
    private int end;
    private boolean atEnd;
    private long offset;
    private long lineNumber;

    LineReader(InputStream in, long offset, long lineNumber) {
      this.in = in;
      this.offset = offset;
      this.lineNumber = lineNumber;
    }

    /** Returns the byte offset after the last line handed out. */
    long offset() {
      return offset;
    }

    /** Returns the number of the last line handed out, from 1. */
    long lineNumber() {
      return lineNumber;
    }

    /** Returns the block the ranges of the last {@link #fill} point into. */
    byte[] block() {
      return buffer;
    }

    /** Returns whether the last {@link #fill} found the end of what the stream holds now. */
    boolean atEnd() {
      return atEnd;
    }

    /**
     * Reads up to {@code from.length} whole lines that are not blank, and puts their ranges in
     * {@link #block} and their numbers into the arrays; returns how many. Fewer when the stream
     * has no more now ({@link #atEnd}) or the block is full. The ranges of the previous call are
     * invalid from now on.
     */
    int fill(int[] from, int[] to, long[] numbers) throws IOException {
      compact();
      atEnd = false;
      int count = 0;
      int scan = start;
      while (count < from.length) {
        int newline = indexOfNewline(buffer, scan, end);
        if (newline >= 0) {
          lineNumber++;
          offset += newline + 1 - start;
          if (!isBlank(buffer, start, newline)) {
            from[count] = start;
            to[count] = newline;
            numbers[count++] = lineNumber;
          }
          start = newline + 1;
          scan = start;
          continue;
        }
        scan = end;
        if (end == buffer.length) {
          if (count > 0) {
            break; // hand these out; the next fill makes room
          }
          compact();
          if (end == buffer.length) { // one line longer than the block
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
          }
          scan = end;
        }
        int n = in.read(buffer, end, buffer.length - end);
        if (n <= 0) {
          atEnd = true;
          if (end > start && !config.follow()) { // the last line, without its newline
            lineNumber++;
            offset += end - start;
            if (!isBlank(buffer, start, end)) {
              from[count] = start;
              to[count] = end;
              numbers[count++] = lineNumber;
            }
            start = end;
          }
          break;
        }
        end += n;
      }
      return count;
    }

    /** Moves what is not handed out yet to the front of the block. */
    private void compact() {
      if (start > 0) {
        System.arraycopy(buffer, start, buffer, 0, end - start);
        end -= start;
        start = 0;
      }
    }
  }

  /** Returns the index of the first newline in {@code b[i, stop)}, or -1; eight bytes a step. */
  static int indexOfNewline(byte[] b, int i, int stop) {
    while (stop - i >= 8) {
      long w = (long) LONG.get(b, i) ^ 0x0a0a0a0a0a0a0a0aL;
      long zero = (w - 0x0101010101010101L) & ~w & 0x8080808080808080L;
      if (zero != 0) { // borrows only reach bytes above a zero byte: the lowest flag is exact
        return i + (Long.numberOfTrailingZeros(zero) >>> 3);
      }
      i += 8;
    }
    for (; i < stop; i++) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
