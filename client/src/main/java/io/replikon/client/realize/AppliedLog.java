package io.replikon.client.realize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a sink has applied of one CDVCS. The applied commits are always closed under ancestry
 * (parents are applied before children), so they are kept as their frontier, the maximal applied
 * commits, plus the position inside the one commit that may be partly applied.
 *
 * <p>Its {@linkplain #encode() encoding} is the canonical CBOR of
 * {@code {frontier: [hash bytes, sorted], partial: null | {commit: hash bytes, applied: n}}}:
 * sinks store it next to their data, in the same atomic write.
 *
 * <p>Immutable and thread-safe.
 *
 * @param frontier the maximal fully applied commits; empty if nothing is applied
 * @param partial the commit whose first transactions are applied but not all of them, if any
 */
public record AppliedLog(Set<Hash> frontier, Optional<Position> partial) {
  /** The log of a sink that has applied nothing. */
  public static final AppliedLog EMPTY = new AppliedLog(Set.of(), Optional.empty());

  /** Copies the frontier (sorted, so equal logs encode alike) and checks the arguments. */
  public AppliedLog {
    frontier = java.util.Collections.unmodifiableSet(new TreeSet<>(frontier));
    Objects.requireNonNull(partial, "partial");
    if (partial.isPresent() && frontier.contains(partial.get().commit())) {
      throw new IllegalArgumentException("a partly applied commit cannot be in the frontier");
    }
  }

  /**
   * A position inside a commit: its first {@code applied} transactions are applied.
   *
   * @param commit the commit
   * @param applied how many of its transactions are applied, at least 1
   */
  public record Position(Hash commit, int applied) {
    /** Checks the arguments. */
    public Position {
      Objects.requireNonNull(commit, "commit");
      if (applied < 1) {
        throw new IllegalArgumentException("a partial position has applied >= 1, got " + applied);
      }
    }
  }

  /** Returns true if nothing is applied. */
  public boolean isEmpty() {
    return frontier.isEmpty() && partial.isEmpty();
  }

  /**
   * Returns the log after {@code commit}, whose parents are all applied, has been applied in full:
   * its parents leave the frontier, it enters it, and no commit is partly applied.
   */
  public AppliedLog advance(Hash commit, Collection<Hash> parents) {
    Set<Hash> next = new TreeSet<>(frontier);
    next.removeAll(parents);
    next.add(commit);
    return new AppliedLog(next, Optional.empty());
  }

  /** Returns the log with {@code applied} transactions of {@code commit} applied. */
  public AppliedLog within(Hash commit, int applied) {
    return new AppliedLog(frontier, Optional.of(new Position(commit, applied)));
  }

  /** Returns the canonical CBOR encoding of this log. */
  public byte[] encode() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode value = f.objectNode();
    ArrayNode hashes = value.putArray("frontier");
    for (Hash h : frontier) {
      hashes.add(h.toValue());
    }
    if (partial.isPresent()) {
      ObjectNode p = value.putObject("partial");
      p.set("commit", partial.get().commit().toValue());
      p.put("applied", partial.get().applied());
    } else {
      value.putNull("partial");
    }
    return CanonicalCbor.encode(value);
  }

  /**
   * Decodes a log written by {@link #encode()}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the bytes are not one
   */
  public static AppliedLog decode(byte[] bytes) {
    JsonNode value = CanonicalCbor.decode(bytes);
    JsonNode hashes = value.path("frontier");
    JsonNode partial = value.path("partial");
    if (!value.isObject() || value.size() != 2 || !hashes.isArray()
        || !(partial.isNull() || partial.isObject())) {
      throw malformed("a map {frontier, partial}");
    }
    List<Hash> frontier = new ArrayList<>(hashes.size());
    for (JsonNode h : hashes) {
      frontier.add(Hash.fromValue(h));
    }
    Optional<Position> position = Optional.empty();
    if (partial.isObject()) {
      JsonNode applied = partial.path("applied");
      if (partial.size() != 2 || !applied.canConvertToInt() || applied.asInt() < 1) {
        throw malformed("partial is {commit, applied >= 1}");
      }
      position = Optional.of(new Position(Hash.fromValue(partial.get("commit")), applied.asInt()));
    }
    try {
      return new AppliedLog(Set.copyOf(frontier), position);
    } catch (IllegalArgumentException e) {
      throw malformed(e.getMessage());
    }
  }

  private static ReplikonException malformed(String what) {
    return new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
        "not an applied-log: expected " + what);
  }
}
