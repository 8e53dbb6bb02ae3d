package io.replikon.protocol;

import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Writes the canonical CBOR of a message straight from its fields, as a list of pieces: small
 * pieces for headers, integers and hashes, and the arrays of large byte strings (commit values,
 * chunks, slices) by reference, not copied. Writing the pieces one after the other gives the
 * frame; a transport can hand them to the socket as they are.
 *
 * <p>The caller writes map keys in canonical order (shorter keys first, then bytewise); the tests
 * check the result against the canonical encoding of the same message as a tree.
 */
final class FrameWriter {
  /** Byte strings of at least this many bytes become pieces of their own. */
  static final int BY_REFERENCE = 2048;
  private static final int PIECE = 1024;

  private final List<ByteBuffer> pieces = new ArrayList<>();
  private byte[] buffer = new byte[PIECE];
  private int start;
  private int position;
  private long length;

  /** Returns the encoding of a text key or value of ASCII characters (fewer than 24). */
  static byte[] text(String ascii) {
    byte[] chars = ascii.getBytes(StandardCharsets.US_ASCII);
    if (chars.length >= 24) {
      throw new IllegalArgumentException("not a short text: " + ascii);
    }
    byte[] out = new byte[chars.length + 1];
    out[0] = (byte) (0x60 | chars.length);
    System.arraycopy(chars, 0, out, 1, chars.length);
    return out;
  }

  /** Writes the head of a data item: major type and argument, in the shortest form. */
  void head(int major, long argument) {
    ensure(9);
    int m = major << 5;
    byte[] b = buffer;
    int p = position;
    if (argument >= 0 && argument < 24) {
      b[p++] = (byte) (m | argument);
    } else if (argument >= 0 && argument <= 0xff) {
      b[p++] = (byte) (m | 24);
      b[p++] = (byte) argument;
    } else if (argument >= 0 && argument <= 0xffff) {
      b[p++] = (byte) (m | 25);
      b[p++] = (byte) (argument >>> 8);
      b[p++] = (byte) argument;
    } else if (argument >= 0 && argument <= 0xffffffffL) {
      b[p++] = (byte) (m | 26);
      for (int shift = 24; shift >= 0; shift -= 8) {
        b[p++] = (byte) (argument >>> shift);
      }
    } else {
      b[p++] = (byte) (m | 27); // an unsigned 64-bit argument (negative as a long)
      for (int shift = 56; shift >= 0; shift -= 8) {
        b[p++] = (byte) (argument >>> shift);
      }
    }
    position = p;
  }

  /** Writes an integer. */
  void integer(long value) {
    if (value >= 0) {
      head(0, value);
    } else {
      head(1, ~value); // -1 - value
    }
  }

  void bool(boolean value) {
    ensure(1);
    buffer[position++] = (byte) (value ? 0xf5 : 0xf4);
  }

  /** Writes bytes that are already encoded (a key, a text, an address). */
  void raw(byte[] encoded) {
    ensure(encoded.length);
    System.arraycopy(encoded, 0, buffer, position, encoded.length);
    position += encoded.length;
  }

  void hash(Hash hash) {
    ensure(2 + Hash.BYTES);
    buffer[position++] = 0x58;
    buffer[position++] = Hash.BYTES;
    hash.writeTo(buffer, position);
    position += Hash.BYTES;
  }

  void hashes(Collection<Hash> hashes) {
    head(4, hashes.size());
    for (Hash h : hashes) {
      hash(h);
    }
  }

  /** Writes a byte string; a large one by reference to {@code bytes}, which must not change. */
  void bytes(byte[] bytes) {
    head(2, bytes.length);
    if (bytes.length < BY_REFERENCE) {
      raw(bytes);
      return;
    }
    cut();
    pieces.add(ByteBuffer.wrap(bytes));
    length += bytes.length;
  }

  /** Returns the bytes written so far. */
  long length() {
    return length + position - start;
  }

  /** Returns the pieces, in order. */
  List<ByteBuffer> finish() {
    cut();
    return pieces;
  }

  private void cut() {
    if (position > start) {
      pieces.add(ByteBuffer.wrap(buffer, start, position - start).slice());
      length += position - start;
      start = position;
    }
  }

  private void ensure(int n) {
    if (buffer.length - position < n) {
      cut();
      buffer = new byte[Math.max(PIECE, n)];
      start = 0;
      position = 0;
    }
  }
}
