package io.replikon.cdvcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.replikon.error.ReplikonException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;

/**
 * The address of a CRDT: the user it belongs to and an id. Written {@code user/uuid}, e.g.
 * {@code alice@example.org/12d49511-e733-4007-937b-460c3794fae9}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param user an e-mail address, a name or a public-key fingerprint: 1 to 255 UTF-8 bytes, no
 *     control characters
 * @param id the CRDT's id
 */
public record Address(String user, UUID id) implements Comparable<Address> {
  /** The largest user name, in UTF-8 bytes. */
  public static final int MAX_USER_BYTES = 255;

  /** Checks the user name. */
  public Address {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(id, "id");
    int bytes = user.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > MAX_USER_BYTES) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "a user name has 1 to 255 UTF-8 bytes, got " + bytes + ": '" + abbreviate(user) + "'");
    }
    for (int i = 0; i < user.length(); i++) {
      if (Character.isISOControl(user.charAt(i))) {
        throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
            "a user name has no control characters: '" + abbreviate(user) + "'");
      }
    }
  }

  /**
   * Parses {@code user/uuid}; the id is what follows the last slash.
   *
   * @throws ReplikonException with reason {@code INVALID_INPUT} and a message showing the expected
   *     form if {@code text} is not an address
   */
  public static Address parse(String text) {
    int slash = text.lastIndexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "not a CRDT address: '" + text + "' (expected USER/UUID, e.g. "
              + "alice/12d49511-e733-4007-937b-460c3794fae9)");
    }
    String idText = text.substring(slash + 1);
    UUID id;
    try {
      id = UUID.fromString(idText);
    } catch (IllegalArgumentException e) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "not a UUID: '" + idText + "' in address '" + text + "'", e);
    }
    if (!id.toString().equalsIgnoreCase(idText)) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          "not a UUID in canonical form: '" + idText + "' in address '" + text + "'");
    }
    return new Address(text.substring(0, slash), id);
  }

  /**
   * Returns the binary key of this address in the store: the user's UTF-8 bytes behind a one-byte
   * length, then the 16 bytes of the id. No key is a prefix of another.
   */
  public byte[] key() {
    byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(1 + userBytes.length + 16)
        .put((byte) userBytes.length)
        .put(userBytes)
        .putLong(id.getMostSignificantBits())
        .putLong(id.getLeastSignificantBits())
        .array();
  }

  /**
   * Reads an address from the start of a store key written by {@link #key()}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the bytes are not a key
   */
  public static Address fromKey(byte[] key) {
    if (key.length < 1 || key.length < 1 + (key[0] & 0xff) + 16) {
      throw new ReplikonException(
          ReplikonException.Reason.MALFORMED_VALUE, "not an address key (" + key.length + " bytes)");
    }
    int n = key[0] & 0xff;
    ByteBuffer b = ByteBuffer.wrap(key, 1 + n, 16);
    return new Address(new String(key, 1, n, StandardCharsets.UTF_8),
        new UUID(b.getLong(), b.getLong()));
  }

  /** Returns the value of this address: the map {@code {user, id}}, the id as a UUID string. */
  public ObjectNode toValue() {
    ObjectNode value = JsonNodeFactory.instance.objectNode();
    value.put("user", user);
    value.put("id", id.toString());
    return value;
  }

  /**
   * Reads an address from its value {@code {user, id}}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the value is not an address
   */
  public static Address fromValue(JsonNode value) {
    if (value == null || !value.isObject() || value.size() != 2 || !value.path("user").isTextual()
        || !value.path("id").isTextual()) {
      throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
          "an address is a map {user, id} of two strings");
    }
    String idText = value.get("id").asText();
    try {
      UUID id = UUID.fromString(idText);
      if (!id.toString().equals(idText)) {
        throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
            "the id of an address is not a UUID in canonical lowercase 8-4-4-4-12 form: '"
                + abbreviate(idText) + "'");
      }
      return new Address(value.get("user").asText(), id);
    } catch (IllegalArgumentException e) {
      throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
          "the id of an address is not a UUID: '" + abbreviate(idText) + "'", e);
    } catch (ReplikonException e) {
      throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE, e.getMessage(), e);
    }
  }

  private static String abbreviate(String s) {
    String shown = s.length() <= 40 ? s : s.substring(0, 40) + "...";
    return shown.replaceAll("\\p{Cntrl}", "?");
  }

  @Override
  public int compareTo(Address other) {
    int c = user.compareTo(other.user);
    return c != 0 ? c : id.compareTo(other.id);
  }

  @Override
  public String toString() {
    return user + "/" + id;
  }
}
