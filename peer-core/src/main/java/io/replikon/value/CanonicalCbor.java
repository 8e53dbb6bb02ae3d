package io.replikon.value;

import com.fasterxml.jackson.databind.JsonNode;
import io.replikon.error.ReplikonException;
import java.util.Objects;

/**
 * The canonical encoding of values, and their hashes.
 *
 * <p>A value is a Jackson tree of null, booleans, integers (any size), floating point numbers,
 * strings, byte strings ({@code BinaryNode}), arrays and objects; it must not be changed while it
 * is encoded. Its canonical encoding is CBOR with RFC 8949 deterministic encoding (§4.2.1):
 * definite lengths, shortest integer and length forms, map keys sorted bytewise by their encoding
 * (shorter UTF-8 first, then by bytes), floats in the shortest of float16/32/64 that is exact (NaN
 * as {@code f97e00}), and no tags except 2 and 3 for integers outside [-2^64, 2^64 - 1]. Two trees
 * that hold the same value encode to the same bytes whatever their key order or Jackson node
 * classes: {@code IntNode(5)}, {@code LongNode(5)} and {@code BigIntegerNode(5)} all encode as
 * {@code 05}, and {@code FloatNode(1.5f)} and {@code DoubleNode(1.5)} as {@code f93e00}. A
 * {@code DecimalNode} is encoded as the double equal to it and rejected if there is none. Integers
 * and floats stay distinct: {@code 1} and {@code 1.0} encode differently.
 *
 * <p>The hash of a value is SHA-256 over its canonical encoding.
 *
 * <p>Stateless and thread-safe. Each thread reuses one encoder buffer (dropped after a value
 * larger than 16 MiB) and small caches of recently seen map keys and key orders. A null argument
 * is a programming error and throws {@code NullPointerException}.
 */
public final class CanonicalCbor {
  private static final ThreadLocal<CborEncoder> ENCODER = ThreadLocal.withInitial(CborEncoder::new);

  private CanonicalCbor() {}

  /**
   * Returns the canonical encoding of {@code value}.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} if the tree holds something that is
   *     not a value: a {@code POJONode} or {@code MissingNode}, a string with an unpaired
   *     surrogate, a decimal with no exact double, nesting deeper than 512 levels, or an encoding
   *     larger than a Java array
   */
  public static byte[] encode(JsonNode value) {
    Objects.requireNonNull(value, "value");
    CborEncoder encoder = acquire();
    try {
      encoder.write(value);
      return encoder.toByteArray();
    } catch (RuntimeException e) {
      throw failed(encoder, e);
    } finally {
      release(encoder);
    }
  }

  /**
   * Decodes one CBOR data item into a tree; the result is a new tree owned by the caller.
   *
   * <p>Accepts any well-formed encoding of a value (indefinite lengths, wider floats, unsorted
   * keys), not only the canonical one; use {@link #isCanonical} to check that. Integers come back
   * as {@code IntNode}, {@code LongNode} or {@code BigIntegerNode} by size, floats as
   * {@code DoubleNode}, byte strings as {@code BinaryNode}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE}, with a message saying what is
   *     wrong and at which offset, if {@code bytes} is not exactly one well-formed data item of the
   *     value model: truncated, trailing bytes, a tag other than 2 or 3, a simple value other than
   *     false/true/null, a non-text or duplicate map key, invalid UTF-8, nesting deeper than 512
   *     levels, or a length larger than the remaining input
   */
  public static JsonNode decode(byte[] bytes) {
    return CborDecoder.decode(Objects.requireNonNull(bytes, "bytes"));
  }

  /**
   * Decodes the one CBOR data item that fills {@code bytes[offset, offset + length)}, as
   * {@link #decode(byte[])} decodes a whole array; offsets in messages are offsets in
   * {@code bytes}. For a value inside a larger encoding (a transaction's params inside a chunk).
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} as {@link #decode(byte[])}
   * @throws IndexOutOfBoundsException if the range is not inside {@code bytes}
   */
  public static JsonNode decode(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
    return CborDecoder.decode(bytes, offset, offset + length);
  }

  /**
   * A value decoded from inside a larger encoding, and where its encoding ends.
   *
   * @param value the value
   * @param end the offset just after its encoding
   */
  public record Decoded(JsonNode value, int end) {}

  /**
   * Decodes the one CBOR data item that starts at {@code offset} and ends at or before
   * {@code limit}, which may be followed by more: for reading the items of a larger encoding one
   * after the other.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} as {@link #decode(byte[])}
   *     (trailing bytes aside)
   * @throws IndexOutOfBoundsException if the range is not inside {@code bytes}
   */
  public static Decoded decodeItem(byte[] bytes, int offset, int limit) {
    Objects.checkFromToIndex(offset, limit, Objects.requireNonNull(bytes, "bytes").length);
    int[] end = new int[1];
    JsonNode value = CborDecoder.decodeItem(bytes, offset, limit, end);
    return new Decoded(value, end[0]);
  }

  /**
   * Returns SHA-256 over the canonical encoding of {@code value}, without copying the encoding.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} as {@link #encode(JsonNode)}
   */
  public static Hash hash(JsonNode value) {
    Objects.requireNonNull(value, "value");
    CborEncoder encoder = acquire();
    try {
      encoder.write(value);
      return Hash.sha256(encoder.buffer(), 0, encoder.size());
    } catch (RuntimeException e) {
      throw failed(encoder, e);
    } finally {
      release(encoder);
    }
  }

  /**
   * Returns whether {@code bytes} is the canonical encoding of a value: it decodes, and encoding
   * the result gives the same bytes. Returns false (rather than throwing) for malformed input.
   * Checked in one pass without decoding (see {@link #requireCanonical}).
   */
  public static boolean isCanonical(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    try {
      CanonicalCheck.check(bytes, 0, bytes.length);
      return true;
    } catch (ReplikonException e) {
      return false;
    }
  }

  /**
   * Checks that {@code bytes} is the canonical encoding of a value (as {@link #isCanonical}), in
   * one pass over the bytes that allocates nothing (about twice the cost of hashing them, a sixth of
   * decoding and re-encoding). For every value
   * whose id is its hash, so that a value has one id.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE}, saying what and at which
   *     offset, if it is not
   */
  public static void requireCanonical(byte[] bytes) {
    CanonicalCheck.check(Objects.requireNonNull(bytes, "bytes"), 0, bytes.length);
  }

  /**
   * Checks the canonical encoding of the one data item that starts at {@code offset} and ends by
   * {@code limit} (more may follow), as {@link #requireCanonical} does, and returns the offset
   * just after it: for checking the items of a larger canonical encoding one after the other.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if it is not canonical
   * @throws IndexOutOfBoundsException if the range is not inside {@code bytes}
   */
  public static int canonicalItemEnd(byte[] bytes, int offset, int limit) {
    Objects.checkFromToIndex(offset, limit, Objects.requireNonNull(bytes, "bytes").length);
    return CanonicalCheck.itemEnd(bytes, offset, limit);
  }

  private static CborEncoder acquire() {
    CborEncoder encoder = ENCODER.get();
    if (encoder.busy) {
      encoder = new CborEncoder(); // re-entered from inside an encode, e.g. by a custom node
    }
    encoder.busy = true;
    encoder.reset();
    return encoder;
  }

  private static void release(CborEncoder encoder) {
    encoder.busy = false;
  }

  private static RuntimeException failed(CborEncoder encoder, RuntimeException e) {
    encoder.releaseReferences();
    return e;
  }
}
