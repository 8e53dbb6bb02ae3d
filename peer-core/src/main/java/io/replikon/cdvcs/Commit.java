package io.replikon.cdvcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import io.replikon.trust.VerifyingKey;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.Hash;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A CDVCS commit: its ordered parents (first parent first), the chunks holding its transactions,
 * who made it (a name and the key that signs it) and when, and the CDVCS it was made in.
 *
 * <p>Its value is the map {@code {parents, chunks, author, ts, crdt: "cdvcs", address: {user, id},
 * signer, version: 2}} with hashes as 32-byte byte strings, {@code signer} the 32 bytes of an
 * Ed25519 public key and {@code ts} in milliseconds since the epoch; its id is the hash of the
 * canonical encoding of that value. So the id covers the signer, the author and the time as well
 * as the content (replikativ hashed only the transactions and parents). The signer's signature of
 * the id travels and is stored beside the value ({@link Update.Entry#signature()}), so any peer can
 * check who made the commit, however many peers relayed it.
 *
 * <p>Immutable and thread-safe.
 *
 * @param parents the parents, first parent first; empty for a root
 * @param chunks the chunks of transactions, in order; empty for a root or a plain merge
 * @param author who made the commit
 * @param ts when, in milliseconds since the epoch (from the injected clock)
 * @param address the CDVCS the commit was made in
 * @param signer the key whose signature of the id must travel with the commit
 */
public record Commit(List<Hash> parents, List<Hash> chunks, String author, long ts,
    Address address, VerifyingKey signer) {
  /** The value of the {@code crdt} field. */
  public static final String CRDT = "cdvcs";
  /** The version of the commit format. */
  public static final int VERSION = 2;

  /** Copies the lists and checks the arguments. */
  public Commit {
    parents = List.copyOf(parents);
    chunks = List.copyOf(chunks);
    Objects.requireNonNull(author, "author");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(signer, "signer");
  }

  /** Returns the value of this commit, whose hash is its id. */
  public JsonNode toValue() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode value = f.objectNode();
    value.set("parents", hashes(parents));
    value.set("chunks", hashes(chunks));
    value.put("author", author);
    value.put("ts", ts);
    value.put("crdt", CRDT);
    value.set("address", address.toValue());
    value.put("signer", signer.bytes());
    value.put("version", VERSION);
    return value;
  }

  /** Returns the canonical encoding of this commit's value. */
  public byte[] encode() {
    return CanonicalCbor.encode(toValue());
  }

  /** Returns the id of this commit: the hash of its canonical encoding. */
  public Hash id() {
    return Hash.sha256(encode());
  }

  /**
   * Reads a commit from its value.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE}, saying which field is wrong, if
   *     the value is not a commit of this version
   */
  public static Commit fromValue(JsonNode value) {
    if (!value.isObject()) {
      throw malformed("a commit is a map");
    }
    if (!CRDT.equals(text(value, "crdt"))) {
      throw malformed("field crdt is not \"cdvcs\"");
    }
    JsonNode version = value.get("version");
    if (version == null || !version.isIntegralNumber() || !version.canConvertToInt()
        || version.asInt() != VERSION) {
      throw malformed("field version is not " + VERSION + (version != null && version.asInt() == 1
          ? " (a commit of format 1 is unsigned: made by a replikon before protocol 2)" : ""));
    }
    JsonNode ts = value.get("ts");
    if (ts == null || !ts.isIntegralNumber() || !ts.canConvertToLong()) {
      throw malformed("field ts is not an integer");
    }
    Address address;
    try {
      address = Address.fromValue(value.get("address"));
    } catch (ReplikonException e) {
      throw malformed("field address: " + e.getMessage());
    }
    JsonNode signer = value.get("signer");
    if (signer == null || !signer.isBinary()) {
      throw malformed("field signer is not a byte string");
    }
    VerifyingKey key;
    try {
      key = VerifyingKey.of(signer.binaryValue());
    } catch (ReplikonException | IOException e) {
      throw malformed("field signer: " + e.getMessage());
    }
    if (value.size() != 8) {
      throw malformed("a commit has exactly the fields parents, chunks, author, ts, crdt, "
          + "address {user, id}, signer and version");
    }
    return new Commit(readHashes(value, "parents"), readHashes(value, "chunks"),
        text(value, "author"), ts.asLong(), address, key);
  }

  /**
   * Decodes a commit from its canonical encoding. Only the canonical encoding is accepted, so a
   * commit has one id: the same commit in other bytes (unsorted keys, longer heads, indefinite
   * lengths) is refused, and so is any field beyond those of the format.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the bytes are not the
   *     canonical encoding of a commit
   */
  public static Commit decode(byte[] bytes) {
    if ((bytes.length == 0 || (bytes[0] & 0xe0) != 0xa0)) {
      throw malformed("a commit is a map");
    }
    try {
      CanonicalCbor.requireCanonical(bytes);
    } catch (ReplikonException e) {
      throw malformed("not in canonical form: " + e.getMessage());
    }
    return fromValue(CanonicalCbor.decode(bytes));
  }

  private static ArrayNode hashes(List<Hash> hashes) {
    ArrayNode out = JsonNodeFactory.instance.arrayNode(hashes.size());
    for (Hash h : hashes) {
      out.add(h.toValue());
    }
    return out;
  }

  private static List<Hash> readHashes(JsonNode value, String field) {
    JsonNode list = value.get(field);
    if (list == null || !list.isArray()) {
      throw malformed("field " + field + " is not a list");
    }
    List<Hash> out = new ArrayList<>(list.size());
    for (JsonNode item : list) {
      try {
        out.add(Hash.fromValue(item));
      } catch (ReplikonException e) {
        throw malformed("field " + field + ": " + e.getMessage());
      }
    }
    return out;
  }

  private static String text(JsonNode value, String field) {
    JsonNode node = value.get(field);
    if (node == null || !node.isTextual()) {
      throw malformed("field " + field + " is not a string");
    }
    return node.asText();
  }

  private static ReplikonException malformed(String what) {
    return new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE, "not a commit: " + what);
  }
}
