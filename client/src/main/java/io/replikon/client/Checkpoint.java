package io.replikon.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A caller's own record, stored in the same atomic write as a commit (see
 * {@link Peer#transact(io.replikon.cdvcs.Address, java.util.List, Checkpoint)}): a journal
 * position, a file offset, a stream cursor. After a crash the stored checkpoint says exactly which
 * input the CDVCS holds already, so nothing is committed twice and nothing is lost.
 *
 * @param name what it records, unique per writer (for example {@code collector/USER/UUID})
 * @param value its bytes, at most 64 KiB; the array is not copied, do not change it afterwards
 */
public record Checkpoint(String name, byte[] value) {
  /** The largest value a checkpoint holds. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;

  /** Checks the arguments. */
  public Checkpoint {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a checkpoint needs a name");
    }
    if (value.length > MAX_VALUE_BYTES) {
      throw new IllegalArgumentException("checkpoint " + name + " is " + value.length
          + " bytes; at most " + MAX_VALUE_BYTES);
    }
  }

  /** Returns the store key (meta column) of the checkpoint named {@code name}. */
  static byte[] key(String name) {
    return ("checkpoint/" + name).getBytes(StandardCharsets.UTF_8);
  }
}
