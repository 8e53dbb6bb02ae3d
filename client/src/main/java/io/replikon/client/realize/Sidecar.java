package io.replikon.client.realize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.CanonicalCbor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A small file holding an applied-log (and, for a data file, its committed length), replaced
 * atomically: written to a temporary file, fsynced, renamed over the old one, and the directory
 * fsynced. A reader sees the old or the new content, never a mix.
 *
 * <p>Content: the canonical CBOR of {@code {address: string | null, length: n, log: bytes}}.
 *
 * @param address the address the log belongs to, once one is recorded
 * @param length the committed length of the data file it accompanies (0 if none)
 * @param log the applied-log
 */
record Sidecar(Optional<Address> address, long length, AppliedLog log) {
  static final Sidecar EMPTY = new Sidecar(Optional.empty(), 0, AppliedLog.EMPTY);

  /** Reads the sidecar at {@code path}, if there is one. */
  static Optional<Sidecar> read(Path path) {
    if (!Files.exists(path)) {
      return Optional.empty();
    }
    try {
      JsonNode value = CanonicalCbor.decode(Files.readAllBytes(path));
      JsonNode address = value.path("address");
      JsonNode length = value.path("length");
      JsonNode log = value.path("log");
      if (!length.canConvertToLong() || length.asLong() < 0 || !log.isBinary()
          || !(address.isNull() || address.isTextual())) {
        throw new ReplikonException(Reason.MALFORMED_VALUE,
            "not an applied-log sidecar: " + path);
      }
      return Optional.of(new Sidecar(
          address.isNull() ? Optional.empty() : Optional.of(Address.parse(address.asText())),
          length.asLong(), AppliedLog.decode(((BinaryNode) log).binaryValue())));
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot read " + path + ": " + e, e);
    }
  }

  /** Replaces the sidecar at {@code path} with this one, atomically and durably. */
  void write(Path path) {
    write(path, FileOpener.DEFAULT);
  }

  /** Replaces the sidecar at {@code path} as {@link #write(Path)}, through {@code files}. */
  void write(Path path, FileOpener files) {
    ObjectNode value = JsonNodeFactory.instance.objectNode();
    if (address.isPresent()) {
      value.put("address", address.get().toString());
    } else {
      value.putNull("address");
    }
    value.put("length", length);
    value.put("log", log.encode());
    byte[] bytes = CanonicalCbor.encode(value);
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    try {
      try (FileChannel c = files.open(tmp, StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          c.write(b);
        }
        c.force(true);
      }
      files.move(tmp, path);
      syncDirectory(path.toAbsolutePath().getParent(), files);
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot write " + path + ": " + e, e);
    }
  }

  /** Makes a rename in {@code dir} durable (where the platform allows opening a directory). */
  static void syncDirectory(Path dir, FileOpener files) {
    try (FileChannel d = files.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some platforms (Windows) cannot open a directory; the rename is still atomic there.
    }
  }

  Sidecar with(Address a, long newLength, AppliedLog newLog) {
    return new Sidecar(Optional.of(a), newLength, newLog);
  }

  /** Checks that this sidecar may hold the log of {@code a}. */
  void check(Address a, Path where) {
    if (address.isPresent() && !address.get().equals(a)) {
      throw new ReplikonException(Reason.INVALID_INPUT, where + " realizes " + address.get()
          + ", not " + a + "; use another file");
    }
  }
}
