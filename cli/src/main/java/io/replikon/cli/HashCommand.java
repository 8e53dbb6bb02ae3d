package io.replikon.cli;

import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * {@code replikon hash}: prints the canonical CBOR encoding and the SHA-256 hash of each JSON value
 * read from stdin, one value per line.
 */
@Command(
    name = "hash",
    header = "Print the canonical CBOR encoding and the SHA-256 hash of JSON values.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Reads JSON values from stdin, one per line, in UTF-8, and prints for each a line",
      "",
      "  <canonical CBOR, lowercase hex> <SHA-256 of those bytes, lowercase hex>",
      "",
      "The encoding is the one replikon hashes values with: CBOR with the deterministic "
          + "encoding of RFC 8949 (section 4.2.1). Integers keep their exact value, however "
          + "large; a number with a fraction or an exponent (1.0, 1e3) is a 64-bit float, and "
          + "one too large for a float (1e400) is an error. JSON becomes CBOR here exactly as "
          + "in the collector's ingest and in replikon transact.",
      "",
      "Blank lines (empty, or only spaces and tabs) are skipped: they print nothing, and still "
          + "count in line numbers.",
      "",
      "A line that is not exactly one JSON value (bad JSON, invalid UTF-8, a second value after "
          + "the first, a key twice in one object) prints 'replikon hash: line N: <reason>' on "
          + "stderr, and the command goes on with the next line.",
      "",
      "Example:",
      "  echo '{\"b\":1,\"aa\":2}' | replikon hash"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Every line was hashed or blank.",
      "1:At least one line failed, or stdin or stdout failed.",
      "2:Invalid command line.",
      "141:Stdout was closed before the end (as in replikon hash < file | head)."
    })
final class HashCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(HashCommand.class);
  private static final int BUFFER_SIZE = 1 << 16;
  /** The exit status a shell shows for a command killed by SIGPIPE (128 + 13). */
  private static final int EXIT_STDOUT_CLOSED = 141;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final Io io;
  private final JsonLineParser parser = new JsonLineParser();

  HashCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() throws IOException {
    long started = System.nanoTime();
    // Not closed: stdout stays open for whoever runs the command (a test, another command).
    OutputStream out = new BufferedOutputStream(io.out(), BUFFER_SIZE);
    Lines lines = new Lines(out);
    try {
      hashAll(io.in(), out, lines);
    } catch (StdoutClosed e) {
      LOG.debug("stdout was closed after {} lines; stopping", lines.number);
      return EXIT_STDOUT_CLOSED;
    }
    LOG.debug(
        "{} lines, {} values hashed, {} failed, in {} ms",
        lines.number,
        lines.hashed,
        lines.failed,
        (System.nanoTime() - started) / 1_000_000);
    return lines.failed == 0 ? 0 : 1;
  }

  private static void hashAll(InputStream in, OutputStream out, Lines lines) throws IOException {
    byte[] buffer = new byte[BUFFER_SIZE];
    while (true) {
      if (available(in) == 0) {
        // About to wait for input: show what is done (interactive use, streams that trickle).
        flush(out);
      }
      int n = read(in, buffer);
      if (n < 0) {
        break;
      }
      lines.split(buffer, n);
    }
    lines.finish();
    flush(out);
  }

  private static int available(InputStream in) throws IOException {
    try {
      return in.available();
    } catch (IOException e) {
      throw new IOException("cannot read stdin: " + e.getMessage(), e);
    }
  }

  private static int read(InputStream in, byte[] buffer) throws IOException {
    try {
      return in.read(buffer);
    } catch (IOException e) {
      throw new IOException("cannot read stdin: " + e.getMessage(), e);
    }
  }

  private static void flush(OutputStream out) throws IOException {
    try {
      out.flush();
    } catch (IOException e) {
      throw stdoutFailed(e);
    }
  }

  private static IOException stdoutFailed(IOException e) {
    // The reader went away (replikon hash < big | head): stop quietly, as Unix tools do on SIGPIPE.
    if ("Broken pipe".equals(e.getMessage())) {
      return new StdoutClosed(e);
    }
    return new IOException("cannot write to stdout: " + e.getMessage(), e);
  }

  /** Splits the input into lines and handles each; keeps a line that spans reads. */
  private final class Lines {
    private final OutputStream out;
    long number;
    long hashed;
    long failed;
    private byte[] partial = new byte[BUFFER_SIZE];
    private int partialLength;
    private byte[] line = new byte[256];

    Lines(OutputStream out) {
      this.out = out;
    }

    void split(byte[] buffer, int length) throws IOException {
      int start = 0;
      for (int i = 0; i < length; i++) {
        if (buffer[i] == '\n') {
          if (partialLength == 0) {
            handle(buffer, start, i - start);
          } else {
            append(buffer, start, i - start);
            handle(partial, 0, partialLength);
            partialLength = 0;
          }
          start = i + 1;
        }
      }
      append(buffer, start, length - start);
    }

    void finish() throws IOException {
      if (partialLength > 0) {
        handle(partial, 0, partialLength);
        partialLength = 0;
      }
    }

    private void append(byte[] bytes, int offset, int length) {
      if (partialLength + length > partial.length) {
        partial = Arrays.copyOf(partial, Math.max(2 * partial.length, partialLength + length));
      }
      System.arraycopy(bytes, offset, partial, partialLength, length);
      partialLength += length;
    }

    private void handle(byte[] bytes, int offset, int length) throws IOException {
      number++;
      if (JsonLineParser.isBlank(bytes, offset, length)) {
        return;
      }
      byte[] cbor;
      try {
        cbor = parser.encode(bytes, offset, length);
      } catch (ReplikonException e) {
        fail(e.getMessage());
        return;
      }
      write(cbor, Hash.sha256(cbor));
      hashed++;
    }

    private void fail(String reason) {
      failed++;
      io.err().println("replikon hash: line " + number + ": " + Main.oneLine(reason));
    }

    private void write(byte[] cbor, Hash hash) throws IOException {
      int length = 2 * cbor.length + 1 + 2 * Hash.BYTES + 1;
      if (line.length < length) {
        line = new byte[Math.max(length, 2 * line.length)];
      }
      int pos = hex(cbor, 0, cbor.length, line, 0);
      line[pos++] = ' ';
      byte[] digest = hash.toBytes();
      pos = hex(digest, 0, digest.length, line, pos);
      line[pos++] = '\n';
      try {
        out.write(line, 0, pos);
      } catch (IOException e) {
        throw stdoutFailed(e);
      }
    }
  }

  private static int hex(byte[] bytes, int offset, int length, byte[] out, int pos) {
    for (int i = offset; i < offset + length; i++) {
      out[pos++] = HEX[(bytes[i] >> 4) & 0xf];
      out[pos++] = HEX[bytes[i] & 0xf];
    }
    return pos;
  }

  /** Stdout was closed by its reader. */
  private static final class StdoutClosed extends IOException {
    private static final long serialVersionUID = 1L;

    StdoutClosed(IOException cause) {
      super("stdout was closed", cause);
    }
  }
}
