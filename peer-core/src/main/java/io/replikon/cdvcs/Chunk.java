package io.replikon.cdvcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import io.replikon.value.JsonCbor;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunk: a list of transactions, at most {@link #MAX_BYTES} in its canonical encoding, stored
 * under the hash of that encoding. Commits name their chunks, so a commit of 60,000 tweets is a
 * small value plus about a hundred chunks, and nothing on the wire or in the store is unbounded.
 *
 * <p>Immutable; do not change {@code bytes}.
 *
 * @param id the hash of {@code bytes}
 * @param bytes the canonical encoding of the list of transactions
 * @param transactionCount how many transactions the chunk holds
 */
public record Chunk(Hash id, byte[] bytes, int transactionCount) {
  /** The largest encoded chunk: 1 MiB. */
  public static final int MAX_BYTES = 1 << 20;

  /**
   * Splits transactions into chunks of at most 1 MiB, in order, filling each chunk before starting
   * the next. The encoding of a chunk is the encoding of the list of its transactions, so it is
   * built from each transaction's encoding without encoding anything twice.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if one transaction alone does not
   *     fit in a chunk (the message names it and its size)
   */
  public static List<Chunk> split(List<Transaction> transactions) {
    List<byte[]> encoded = new ArrayList<>(transactions.size());
    for (int i = 0; i < transactions.size(); i++) {
      byte[] tx = encode(transactions.get(i));
      if (tx.length + headerSize(1) > MAX_BYTES) {
        throw tooLarge(i, transactions.get(i).fn(), tx.length);
      }
      encoded.add(tx);
    }
    return splitEncoded(encoded);
  }

  /**
   * Returns the canonical encoding of {@code [fn, params]}: what {@link #splitEncoded} takes, so
   * that a caller can encode transactions on threads of its own, as they arrive.
   */
  public static byte[] encode(Transaction transaction) {
    return CanonicalCbor.encode(transaction.toValue());
  }

  /**
   * Returns the canonical encoding of {@code [fn, params]} where {@code params} is the JSON value
   * in {@code json[offset, offset + length)}: the bytes {@link #encode} gives for the tree Jackson
   * reads from that text, without building the tree ({@link JsonCbor}).
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT}, saying what is wrong and where,
   *     if the text is not one JSON value (duplicate keys included)
   * @throws IllegalArgumentException if {@code fn} is empty
   */
  public static byte[] encodeJson(String fn, byte[] json, int offset, int length) {
    return JsonCbor.encode(transactionPrefix(fn), json, offset, length);
  }

  /**
   * As {@link #encodeJson}, one transaction per element if the JSON value is an array, else one
   * for the value: for bodies that hold one event or an array of events. The whole text is checked
   * before anything is returned; an empty array gives none.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} as {@link #encodeJson}
   * @throws IllegalArgumentException if {@code fn} is empty
   */
  public static List<byte[]> encodeJsonElements(String fn, byte[] json, int offset, int length) {
    return JsonCbor.encodeElements(transactionPrefix(fn), json, offset, length);
  }

  /** The last prefix made: sources use one fn for every event. */
  private static volatile Prefix lastPrefix = new Prefix("", new byte[0]);

  private record Prefix(String fn, byte[] bytes) {}

  /** The encoding of a transaction up to its params: a two-element array header and fn. */
  private static byte[] transactionPrefix(String fn) {
    if (fn.isEmpty()) {
      throw new IllegalArgumentException("a transaction needs a function name");
    }
    Prefix last = lastPrefix;
    if (last.fn().equals(fn)) {
      return last.bytes(); // read only: JsonCbor copies it
    }
    byte[] name = CanonicalCbor.encode(JsonNodeFactory.instance.textNode(fn));
    byte[] prefix = new byte[name.length + 1];
    prefix[0] = (byte) 0x82;
    System.arraycopy(name, 0, prefix, 1, name.length);
    lastPrefix = new Prefix(fn, prefix);
    return prefix;
  }

  /**
   * Splits transactions already encoded by {@link #encode} (or {@link #encodeJson}) into chunks
   * of at most 1 MiB, in order, as {@link #split} does. The encodings are trusted to be canonical
   * {@code [fn, params]} arrays (only their first byte is checked); peers verify every chunk by
   * its hash, not its contents.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if one transaction alone does not
   *     fit in a chunk
   * @throws IllegalArgumentException if an encoding is not a two-element array
   */
  public static List<Chunk> splitEncoded(List<byte[]> encoded) {
    List<Chunk> out = new ArrayList<>();
    List<byte[]> pending = new ArrayList<>();
    long pendingBytes = 0;
    for (int i = 0; i < encoded.size(); i++) {
      byte[] tx = encoded.get(i);
      if (tx.length == 0 || (tx[0] & 0xff) != 0x82) {
        throw new IllegalArgumentException("encoding " + i + " is not a [fn, params] array");
      }
      if (tx.length + headerSize(1) > MAX_BYTES) {
        throw tooLarge(i, null, tx.length);
      }
      if (pendingBytes + tx.length + headerSize(pending.size() + 1) > MAX_BYTES) {
        out.add(of(pending, pendingBytes));
        pending.clear();
        pendingBytes = 0;
      }
      pending.add(tx);
      pendingBytes += tx.length;
    }
    if (!pending.isEmpty()) {
      out.add(of(pending, pendingBytes));
    }
    return out;
  }

  private static ReplikonException tooLarge(int index, String fn, int length) {
    return new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
        "transaction " + index + (fn == null ? "" : " (" + fn + ")") + " is " + length
            + " bytes encoded; a chunk holds at most " + MAX_BYTES + " bytes");
  }

  /**
   * Decodes the transactions of a chunk.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the bytes are not a list of
   *     transactions
   */
  public static List<Transaction> decode(byte[] bytes) {
    JsonNode list = CanonicalCbor.decode(bytes);
    if (!list.isArray()) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a chunk is a list of transactions");
    }
    List<Transaction> out = new ArrayList<>(list.size());
    for (JsonNode tx : list) {
      out.add(Transaction.fromValue(tx));
    }
    return out;
  }

  /**
   * Checks, in one pass that allocates nothing, that {@code bytes} is a chunk as it arrives from a
   * peer: the canonical encoding of a list of transactions {@code [fn, params]}, {@code fn} a
   * non-empty text, at most {@link #MAX_BYTES}. What {@link #decode} would accept, and canonical
   * so that the chunk has one id.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE}, saying what is wrong, if not
   */
  public static void checkEncoding(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      throw malformed("a chunk of " + bytes.length + " bytes is over the limit of " + MAX_BYTES);
    }
    if (bytes.length == 0 || (bytes[0] & 0xe0) != 0x80) {
      throw malformed("a chunk is a list of transactions");
    }
    int count = countTransactions(bytes);
    int info = bytes[0] & 0x1f;
    int p = info < 24 ? 1 : 1 + (1 << (info - 24));
    if (p != headerSize(count)) {
      throw malformed("a chunk's list header is not in its shortest form");
    }
    for (int i = 0; i < count; i++) {
      if (p >= bytes.length || (bytes[p] & 0xff) != 0x82 || p + 1 >= bytes.length
          || (bytes[p + 1] & 0xe0) != 0x60 || (bytes[p + 1] & 0xff) == 0x60) {
        throw malformed("transaction " + i + " of a chunk is not [fn, params] with a non-empty "
            + "string fn");
      }
      p = CanonicalCbor.canonicalItemEnd(bytes, p + 1, bytes.length);
      if (p >= bytes.length) {
        throw malformed("transaction " + i + " of a chunk is cut short");
      }
      p = CanonicalCbor.canonicalItemEnd(bytes, p, bytes.length);
    }
    if (p != bytes.length) {
      throw malformed((bytes.length - p) + " trailing byte(s) after a chunk's transactions");
    }
  }

  private static ReplikonException malformed(String what) {
    return new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE, what);
  }

  /**
   * Returns the number of transactions in an encoded chunk, read from the list's header alone.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the bytes do not start with a
   *     definite-length list
   */
  public static int countTransactions(byte[] bytes) {
    if (bytes.length == 0 || (bytes[0] & 0xe0) != 0x80) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a chunk does not start with a list");
    }
    int info = bytes[0] & 0x1f;
    if (info < 24) {
      return info;
    }
    int width = switch (info) {
      case 24 -> 1;
      case 25 -> 2;
      case 26 -> 4;
      default -> throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a chunk's list length is out of range");
    };
    if (bytes.length < 1 + width) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a chunk's list header is truncated");
    }
    long n = 0;
    for (int i = 1; i <= width; i++) {
      n = n << 8 | (bytes[i] & 0xff);
    }
    if (n > Integer.MAX_VALUE) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "a chunk's list length is out of range");
    }
    return (int) n;
  }

  /** Chunks are equal when their ids are: the id is the hash of the bytes. */
  @Override
  public boolean equals(Object other) {
    return other instanceof Chunk c && c.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "Chunk[" + id.shortHex() + ", " + transactionCount + " transactions, " + bytes.length
        + " bytes]";
  }

  private static Chunk of(List<byte[]> transactions, long bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) bytes + 5);
    writeListHeader(out, transactions.size());
    for (byte[] tx : transactions) {
      out.writeBytes(tx);
    }
    byte[] encoded = out.toByteArray();
    return new Chunk(Hash.sha256(encoded), encoded, transactions.size());
  }

  private static int headerSize(int count) {
    return count < 24 ? 1 : count < 0x100 ? 2 : count < 0x10000 ? 3 : 5;
  }

  private static void writeListHeader(ByteArrayOutputStream out, int count) {
    if (count < 24) {
      out.write(0x80 | count);
    } else if (count < 0x100) {
      out.write(0x98);
      out.write(count);
    } else if (count < 0x10000) {
      out.write(0x99);
      out.write(count >>> 8);
      out.write(count);
    } else {
      out.write(0x9a);
      out.write(count >>> 24);
      out.write(count >>> 16);
      out.write(count >>> 8);
      out.write(count);
    }
  }
}
