package io.replikon.client.realize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.ByteBuilder;
import io.replikon.value.CborJson;
import io.replikon.value.Hash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The JSON lines sink: one line {@code {"commit", "tx", "fn", "params"}} per applied transaction,
 * for one address per file.
 *
 * <p>Exactly-once by length: a batch's lines are appended and fsynced, then the sidecar
 * {@code <file>.applied} is replaced atomically with the new length and applied-log. On open the
 * file is truncated back to the recorded length, dropping what a crash left after the last
 * recorded batch; if the sidecar is missing the file must be empty (it is then created first).
 * Lines are written as the batch fills (every {@link #FLUSH_BYTES}), at the file's recorded end
 * and beyond; a batch that does not commit is truncated away.
 *
 * <p>A file that is not a regular file (a character device such as {@code /dev/null}, a FIFO)
 * cannot be truncated nor fsynced: lines are only written to it, in order, and the applied-log is
 * kept in memory (no sidecar is read or written), so every sink opened on it starts from the
 * beginning, at-least-once.
 *
 * <p>A transaction with {@link Handler#recordOnly()} is written straight from its encoding
 * ({@link CborJson}); one with another handler as a Jackson tree the handler may add to. The
 * lines are the same bytes either way.
 */
final class JsonLinesSink implements Sink<ObjectNode> {
  /** How many bytes of lines a batch holds before it writes them to the file. */
  static final int FLUSH_BYTES = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Path sidecarPath;
  private final FileChannel channel;
  private final FileOpener files;
  /** False for a device or FIFO: no sidecar, no truncation, no fsync. */
  private final boolean regular;
  private final ByteBuilder lines = new ByteBuilder(FLUSH_BYTES + (FLUSH_BYTES >> 2));
  private Sidecar sidecar;
  /** The line prefix {@code {"commit":"<hex>","tx":} of the commit written last, and its id. */
  private byte[] commitPrefix;
  private Hash prefixCommit;
  /** {@code ,"fn":"<fn>","params":} for the fn written last, and that fn. */
  private byte[] fnInfix;
  private String infixFn;

  private JsonLinesSink(Path file, Path sidecarPath, FileChannel channel, FileOpener files,
      boolean regular, Sidecar sidecar) {
    this.file = file;
    this.files = files;
    this.sidecarPath = sidecarPath;
    this.channel = channel;
    this.regular = regular;
    this.sidecar = sidecar;
  }

  static JsonLinesSink open(Path file) {
    return open(file, FileOpener.DEFAULT);
  }

  /** Opens the sink as {@link #open(Path)}, its files through {@code files} (a test's seam). */
  static JsonLinesSink open(Path file, FileOpener files) {
    Path sidecarPath = file.resolveSibling(file.getFileName() + ".applied");
    try {
      if (Files.exists(file) && !Files.isRegularFile(file)) {
        // a device or a FIFO (symbolic links followed): write only, log in memory
        FileChannel channel = files.open(file, StandardOpenOption.WRITE);
        return new JsonLinesSink(file, sidecarPath, channel, files, false, Sidecar.EMPTY);
      }
      Sidecar sidecar = Sidecar.read(sidecarPath).orElse(null);
      if (sidecar == null) {
        if (Files.exists(file) && Files.size(file) > 0) {
          throw new ReplikonException(Reason.INVALID_INPUT, file + " is not empty and has no "
              + "applied-log " + sidecarPath + ": it was not written by this sink");
        }
        sidecar = Sidecar.EMPTY;
        sidecar.write(sidecarPath, files);
      }
      FileChannel channel = files.open(file, StandardOpenOption.CREATE,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      try {
        long size = channel.size();
        if (size < sidecar.length()) {
          throw new ReplikonException(Reason.STORE_IO, file + " has " + size + " bytes, fewer "
              + "than the " + sidecar.length() + " recorded as applied: it was cut; reset it");
        }
        if (size > sidecar.length()) {
          channel.truncate(sidecar.length());
          channel.force(true);
        }
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      return new JsonLinesSink(file, sidecarPath, channel, files, true, sidecar);
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot open " + file + ": " + e, e);
    }
  }

  @Override
  public AppliedLog load(Address address) {
    sidecar.check(address, file);
    return sidecar.log();
  }

  @Override
  public Batch<ObjectNode> begin(Address address) {
    sidecar.check(address, file);
    lines.clear(FLUSH_BYTES + (FLUSH_BYTES >> 2));
    return new Batch<>() {
      /** Where this batch's lines start: the recorded length. */
      final long start = sidecar.length();
      /** Where the lines not written yet go. */
      long at = start;
      ObjectNode pending;
      boolean done;

      @Override
      public ObjectNode record(AppliedTransaction t) {
        flushPending();
        pending = JsonNodeFactory.instance.objectNode();
        pending.put("commit", t.commit().hex());
        pending.put("tx", t.index());
        pending.put("fn", t.fn());
        pending.set("params", t.transaction().params());
        return pending;
      }

      @Override
      public void recordOnly(AppliedTransaction t) {
        flushPending();
        if (!t.encoded()) {
          record(t);
          return;
        }
        writeLine(t);
        if (lines.size() >= FLUSH_BYTES) {
          write();
        }
      }

      private void flushPending() {
        if (pending != null) {
          try {
            lines.write(JSON.writeValueAsBytes(pending));
          } catch (JsonProcessingException e) {
            throw new ReplikonException(Reason.INVALID_INPUT, "a line cannot be written as "
                + "JSON: " + e.getMessage(), e);
          }
          lines.write('\n');
          pending = null;
          if (lines.size() >= FLUSH_BYTES) {
            write();
          }
        }
      }

      /** Writes the lines held to the file. */
      private void write() {
        try {
          ByteBuffer b = lines.asByteBuffer();
          while (b.hasRemaining()) {
            at += regular ? channel.write(b, at) : channel.write(b);
          }
          lines.clear();
        } catch (IOException e) {
          throw new ReplikonException(Reason.STORE_IO, "cannot append to " + file + ": " + e, e);
        }
      }

      @Override
      public void commit(AppliedLog log) {
        flushPending();
        try {
          write();
          if (regular) {
            channel.force(false);
            Sidecar next = sidecar.with(address, at, log);
            next.write(sidecarPath, files);
            sidecar = next;
          } else {
            sidecar = sidecar.with(address, at, log);
          }
          done = true;
        } catch (IOException | RuntimeException e) {
          truncateTo(start, e);
          throw e instanceof ReplikonException r ? r : new ReplikonException(Reason.STORE_IO,
              "cannot append to " + file + ": " + e, e);
        }
      }

      @Override
      public void close() {
        if (!done) {
          done = true;
          pending = null;
          lines.clear();
          if (at != start) {
            truncateTo(start, null);
          }
        }
      }
    };
  }

  /** Appends the line of {@code t}, its params transcoded from their encoding. */
  private void writeLine(AppliedTransaction t) {
    if (!t.commit().equals(prefixCommit)) {
      commitPrefix = ("{\"commit\":\"" + t.commit().hex() + "\",\"tx\":")
          .getBytes(StandardCharsets.US_ASCII);
      prefixCommit = t.commit();
    }
    if (!t.fn().equals(infixFn)) {
      ByteBuilder b = new ByteBuilder(32);
      b.writeAscii(",\"fn\":");
      CborJson.writeString(t.fn(), b);
      b.writeAscii(",\"params\":");
      fnInfix = b.toByteArray();
      infixFn = t.fn();
    }
    lines.write(commitPrefix);
    lines.writeDecimal(t.index());
    lines.write(fnInfix);
    t.writeParamsJson(lines);
    lines.write('}');
    lines.write('\n');
  }

  /** Cuts the file back to {@code length} after a failed batch (a regular file only). */
  private void truncateTo(long length, Exception cause) {
    if (!regular) {
      return;
    }
    try {
      channel.truncate(length);
    } catch (IOException suppressed) {
      if (cause != null) {
        cause.addSuppressed(suppressed); // the next open truncates back anyway
      }
    }
  }

  @Override
  public void reset(Address address) {
    sidecar.check(address, file);
    Sidecar empty = Sidecar.EMPTY;
    if (!regular) {
      sidecar = empty;
      return;
    }
    empty.write(sidecarPath, files); // first: a crash after it truncates the file on the next open
    sidecar = empty;
    try {
      channel.truncate(0);
      channel.force(true);
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot truncate " + file + ": " + e, e);
    }
  }

  @Override
  public boolean exactlyOnce() {
    return regular;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot close " + file + ": " + e, e);
    }
  }
}
