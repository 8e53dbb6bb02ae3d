package io.replikon.protocol;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Update;
import io.replikon.value.CanonicalCbor;
import io.replikon.trust.Signature;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the two large kinds of message, {@code publish} and {@code fetch-reply}, straight from a
 * frame, without building a tree of the message first: each byte string is copied once, out of
 * the frame into the array the message keeps.
 *
 * <p>It reads only what it is sure of: a frame in the plain form that every sender writes
 * (definite lengths, the fields of the kind and no others, each once). For anything else (another
 * kind, an unusual but well-formed encoding, or something malformed) it gives up and returns
 * null, and {@link MessageCodec} decodes the frame the general way, which accepts any well-formed
 * encoding and words the errors. So what this reader accepts, the general decoder accepts too,
 * with the same result.
 */
final class FrameReader {
  private static final int MAX_DEPTH = 64;
  private static final byte[][] KEYS = {
      FrameWriter.text("id"), FrameWriter.text("re"), FrameWriter.text("kind"),
      FrameWriter.text("last"), FrameWriter.text("heads"), FrameWriter.text("values"),
      FrameWriter.text("slices"), FrameWriter.text("address"), FrameWriter.text("commits")};
  private static final int ID = 0;
  private static final int RE = 1;
  private static final int KIND = 2;
  private static final int LAST = 3;
  private static final int HEADS = 4;
  private static final int VALUES = 5;
  private static final int SLICES = 6;
  private static final int ADDRESS = 7;
  private static final int COMMITS = 8;
  private static final byte[] PUBLISH = FrameWriter.text("publish");
  private static final byte[] FETCH_REPLY = FrameWriter.text("fetch-reply");

  /** Thrown to give up; carries no stack trace. */
  private static final class GiveUp extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GiveUp() {
      super(null, null, false, false);
    }
  }

  private static final GiveUp GIVE_UP = new GiveUp();

  private final ByteBuffer frame;
  private final int end;
  private int p;

  private FrameReader(ByteBuffer frame) {
    this.frame = frame.duplicate().order(ByteOrder.BIG_ENDIAN);
    this.p = frame.position();
    this.end = frame.limit();
  }

  /** Returns the message in {@code frame} (not consumed), or null to decode it the general way. */
  static Message read(ByteBuffer frame) {
    try {
      return new FrameReader(frame).message();
    } catch (RuntimeException e) {
      return null; // GiveUp, or anything out of the ordinary: the general decoder says what
    }
  }

  private Message message() {
    int n = count(5);
    int[] at = new int[KEYS.length];
    Arrays.fill(at, -1);
    for (int i = 0; i < n; i++) {
      int key = key();
      if (at[key] >= 0) {
        throw GIVE_UP;
      }
      at[key] = p;
      skip(0);
    }
    if (p != end || at[ID] < 0 || at[KIND] < 0) {
      throw GIVE_UP;
    }
    p = at[KIND];
    if (matches(PUBLISH)) {
      return publish(at);
    }
    if (matches(FETCH_REPLY)) {
      return fetchReply(at);
    }
    throw GIVE_UP;
  }

  private Message publish(int[] at) {
    only(at, ID, KIND, HEADS, VALUES, ADDRESS, COMMITS);
    long id = integer(at[ID]);
    p = at[ADDRESS];
    int from = p;
    skip(0);
    byte[] encodedAddress = copy(from, p - from);
    Address address = Address.fromValue(CanonicalCbor.decode(encodedAddress));
    p = at[COMMITS];
    int n = count(4);
    List<Update.Entry> commits = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (count(4) != 3) {
        throw GIVE_UP;
      }
      Hash commit = hash();
      List<Hash> parents = hashList();
      byte[] signature = bytes();
      if (signature.length != Signature.BYTES) {
        throw GIVE_UP;
      }
      commits.add(new Update.Entry(commit, parents, Signature.of(signature)));
    }
    p = at[HEADS];
    Set<Hash> heads = new LinkedHashSet<>(hashList());
    p = at[VALUES];
    n = count(4);
    Map<Hash, byte[]> values = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      if (count(4) != 2) {
        throw GIVE_UP;
      }
      Hash h = hash();
      values.put(h, bytes());
    }
    return new Message.Publish(id, address, commits, heads, values);
  }

  private Message fetchReply(int[] at) {
    only(at, ID, RE, KIND, LAST, SLICES);
    long id = integer(at[ID]);
    long re = integer(at[RE]);
    p = at[LAST];
    int b = next();
    if (b != 0xf4 && b != 0xf5) {
      throw GIVE_UP;
    }
    boolean last = b == 0xf5;
    p = at[SLICES];
    int n = count(4);
    List<Message.Slice> slices = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (count(4) != 4) {
        throw GIVE_UP;
      }
      Hash h = hash();
      long offset = integer(p);
      long total = integer(p);
      slices.add(new Message.Slice(h, offset, total, bytes()));
    }
    return new Message.FetchReply(id, re, slices, last);
  }

  /** Gives up unless exactly the fields {@code wanted} are present. */
  private static void only(int[] at, int... wanted) {
    int present = 0;
    for (int a : at) {
      if (a >= 0) {
        present++;
      }
    }
    if (present != wanted.length) {
      throw GIVE_UP;
    }
    for (int w : wanted) {
      if (at[w] < 0) {
        throw GIVE_UP;
      }
    }
  }

  /** Reads a map key and returns its index in {@link #KEYS}. */
  private int key() {
    int first = frame.get(p) & 0xff;
    if ((first & 0xe0) != 0x60) {
      throw GIVE_UP;
    }
    for (int k = 0; k < KEYS.length; k++) {
      if (matches(KEYS[k])) {
        return k;
      }
    }
    throw GIVE_UP;
  }

  /** Moves past {@code encoded} if the next bytes are exactly it. */
  private boolean matches(byte[] encoded) {
    if (end - p < encoded.length) {
      return false;
    }
    for (int i = 0; i < encoded.length; i++) {
      if (frame.get(p + i) != encoded[i]) {
        return false;
      }
    }
    p += encoded.length;
    return true;
  }

  private int next() {
    if (p >= end) {
      throw GIVE_UP;
    }
    return frame.get(p++) & 0xff;
  }

  /** Reads the argument of a head of major type {@code major} (definite lengths only). */
  private long argument(int major) {
    int first = next();
    if (first >>> 5 != major) {
      throw GIVE_UP;
    }
    return argumentOf(first & 0x1f);
  }

  private long argumentOf(int info) {
    if (info < 24) {
      return info;
    }
    int width = switch (info) {
      case 24 -> 1;
      case 25 -> 2;
      case 26 -> 4;
      case 27 -> 8;
      default -> throw GIVE_UP; // indefinite length or reserved
    };
    if (end - p < width) {
      throw GIVE_UP;
    }
    long v = 0;
    for (int i = 0; i < width; i++) {
      v = v << 8 | (frame.get(p++) & 0xff);
    }
    if (v < 0) {
      throw GIVE_UP; // beyond a long
    }
    return v;
  }

  /** Reads the length of an array (4) or map (5) that fits in the frame. */
  private int count(int major) {
    long n = argument(major);
    if (n > end - p) {
      throw GIVE_UP; // every element takes at least one byte
    }
    return (int) n;
  }

  /** Reads an integer at {@code at}. */
  private long integer(int at) {
    p = at;
    int first = frame.get(p) & 0xff;
    if (first >>> 5 == 0) {
      return argument(0);
    }
    if (first >>> 5 == 1) {
      return ~argument(1);
    }
    throw GIVE_UP;
  }

  private Hash hash() {
    if (end - p < 2 + Hash.BYTES || frame.get(p) != 0x58 || frame.get(p + 1) != Hash.BYTES) {
      throw GIVE_UP;
    }
    p += 2;
    Hash h = new Hash(frame.getLong(p), frame.getLong(p + 8), frame.getLong(p + 16),
        frame.getLong(p + 24));
    p += Hash.BYTES;
    return h;
  }

  private List<Hash> hashList() {
    int n = count(4);
    List<Hash> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(hash());
    }
    return out;
  }

  private byte[] bytes() {
    long n = argument(2);
    if (n > end - p) {
      throw GIVE_UP;
    }
    byte[] out = copy(p, (int) n);
    p += (int) n;
    return out;
  }

  private byte[] copy(int from, int n) {
    byte[] out = new byte[n];
    frame.get(from, out, 0, n);
    return out;
  }

  /** Moves past one data item; gives up on tags, indefinite lengths and deep nesting. */
  private void skip(int depth) {
    if (depth > MAX_DEPTH) {
      throw GIVE_UP;
    }
    int first = next();
    int major = first >>> 5;
    int info = first & 0x1f;
    switch (major) {
      case 0, 1 -> argumentOf(info);
      case 2, 3 -> {
        long n = argumentOf(info);
        if (n > end - p) {
          throw GIVE_UP;
        }
        p += (int) n;
      }
      case 4, 5 -> {
        long n = argumentOf(info);
        if (n > end - p) {
          throw GIVE_UP;
        }
        long items = major == 4 ? n : 2 * n;
        for (long i = 0; i < items; i++) {
          skip(depth + 1);
        }
      }
      case 7 -> {
        switch (info) {
          case 20, 21, 22 -> { } // false, true, null
          case 25 -> p += 2;
          case 26 -> p += 4;
          case 27 -> p += 8;
          default -> throw GIVE_UP;
        }
        if (p > end) {
          throw GIVE_UP;
        }
      }
      default -> throw GIVE_UP; // tags
    }
  }
}
