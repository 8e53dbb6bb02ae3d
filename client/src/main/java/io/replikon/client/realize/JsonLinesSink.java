package io.replikon.client.realize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
 */
final class JsonLinesSink implements Sink<ObjectNode> {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Path sidecarPath;
  private final FileChannel channel;
  private Sidecar sidecar;

  private JsonLinesSink(Path file, Path sidecarPath, FileChannel channel, Sidecar sidecar) {
    this.file = file;
    this.sidecarPath = sidecarPath;
    this.channel = channel;
    this.sidecar = sidecar;
  }

  static JsonLinesSink open(Path file) {
    Path sidecarPath = file.resolveSibling(file.getFileName() + ".applied");
    try {
      Sidecar sidecar = Sidecar.read(sidecarPath).orElse(null);
      if (sidecar == null) {
        if (Files.exists(file) && Files.size(file) > 0) {
          throw new ReplikonException(Reason.INVALID_INPUT, file + " is not empty and has no "
              + "applied-log " + sidecarPath + ": it was not written by this sink");
        }
        sidecar = Sidecar.EMPTY;
        sidecar.write(sidecarPath);
      }
      FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE,
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
      return new JsonLinesSink(file, sidecarPath, channel, sidecar);
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
    return new Batch<>() {
      final ByteArrayOutputStream lines = new ByteArrayOutputStream();
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

      private void flushPending() {
        if (pending != null) {
          try {
            lines.writeBytes(JSON.writeValueAsBytes(pending));
          } catch (JsonProcessingException e) {
            throw new ReplikonException(Reason.INVALID_INPUT, "a line cannot be written as "
                + "JSON: " + e.getMessage(), e);
          }
          lines.write('\n');
          pending = null;
        }
      }

      @Override
      public void commit(AppliedLog log) {
        flushPending();
        long start = sidecar.length();
        try {
          ByteBuffer b = ByteBuffer.wrap(lines.toByteArray());
          long at = start;
          while (b.hasRemaining()) {
            at += channel.write(b, at);
          }
          channel.force(false);
          Sidecar next = sidecar.with(address, at, log);
          next.write(sidecarPath);
          sidecar = next;
          done = true;
        } catch (IOException | RuntimeException e) {
          truncateTo(start, e);
          throw e instanceof ReplikonException r ? r : new ReplikonException(Reason.STORE_IO,
              "cannot append to " + file + ": " + e, e);
        }
      }

      @Override
      public void close() {
        done = true;
      }
    };
  }

  private void truncateTo(long length, Exception cause) {
    try {
      channel.truncate(length);
    } catch (IOException suppressed) {
      cause.addSuppressed(suppressed); // the next open truncates back anyway
    }
  }

  @Override
  public void reset(Address address) {
    sidecar.check(address, file);
    Sidecar empty = Sidecar.EMPTY;
    empty.write(sidecarPath); // first: a crash after it truncates the file on the next open
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
    return true;
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
