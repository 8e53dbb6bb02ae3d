package io.replikon.collector;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.io.InputStream;
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
    List<byte[]> lines = new ArrayList<>(BATCH);
    List<Long> numbers = new ArrayList<>(BATCH);
    while (!closed) {
      byte[] line = reader.next();
      if (line != null) {
        if (!isBlank(line)) {
          lines.add(line);
          numbers.add(reader.lineNumber());
        }
        if (lines.size() < BATCH) {
          continue;
        }
      }
      if (!lines.isEmpty()) {
        byte[] cursor = path == null ? null : ByteBuffer.allocate(16 + path.length)
            .putLong(reader.offset()).putLong(reader.lineNumber()).put(path).array();
        List<byte[]> encoded = encode(lines, numbers);
        lines.clear();
        numbers.clear();
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
      if (line == null) {
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

  /** Parses and encodes a batch in parallel; malformed lines are reported and left out. */
  private List<byte[]> encode(List<byte[]> lines, List<Long> numbers) {
    byte[][] out = new byte[lines.size()][];
    String[] errors = new String[lines.size()];
    IntStream.range(0, lines.size()).parallel().forEach(i -> {
      try {
        out[i] = SourceSupport.encodedJson(config.fn(), lines.get(i));
      } catch (ReplikonException e) {
        errors[i] = e.getMessage();
      }
    });
    List<byte[]> encoded = new ArrayList<>(lines.size());
    for (int i = 0; i < out.length; i++) {
      if (out[i] != null) {
        encoded.add(out[i]);
      } else {
        skipped++;
        LOG.warn("{} line {}: skipped: {}", config.file().map(Path::toString)
            .orElse("stdin"), numbers.get(i), errors[i]);
      }
    }
    return encoded;
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
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
   * Splits a stream into lines, keeping the byte offset after the last whole line. A last line
   * without its newline is held back until the newline arrives (a writer may be mid-line), except
   * at the end of a stream that is not followed.
   */
  private final class LineReader {
    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private final java.io.ByteArrayOutputStream carry = new java.io.ByteArrayOutputStream();
    private int start;
    private int end;
    private long offset;
    private long lineNumber;

    LineReader(InputStream in, long offset, long lineNumber) {
      this.in = in;
      this.offset = offset;
      this.lineNumber = lineNumber;
    }

    /** Returns the byte offset after the last line returned. */
    long offset() {
      return offset;
    }

    /** Returns the number of the last line returned, from 1. */
    long lineNumber() {
      return lineNumber;
    }

    /** Returns the next whole line without its newline, or null if none is there now. */
    byte[] next() throws IOException {
      while (true) {
        for (int i = start; i < end; i++) {
          if (buffer[i] == '\n') {
            byte[] line = take(i);
            start = i + 1;
            offset += line.length + 1;
            lineNumber++;
            return line;
          }
        }
        carry.write(buffer, start, end - start);
        start = 0;
        end = 0;
        int n = in.read(buffer, 0, buffer.length);
        if (n <= 0) {
          if (carry.size() > 0 && !config.follow()) {
            byte[] line = carry.toByteArray(); // the last line, without its newline
            carry.reset();
            offset += line.length;
            lineNumber++;
            return line;
          }
          return null;
        }
        end = n;
      }
    }

    private byte[] take(int upTo) {
      if (carry.size() == 0) {
        return Arrays.copyOfRange(buffer, start, upTo);
      }
      carry.write(buffer, start, upTo - start);
      byte[] line = carry.toByteArray();
      carry.reset();
      return line;
    }
  }
}
