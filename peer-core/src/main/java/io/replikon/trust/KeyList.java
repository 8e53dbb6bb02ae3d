package io.replikon.trust;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A list of users and their keys, as a trust file holds it ({@code --writers}, {@code --readers}):
 * one {@code USER ed25519:KEY} per line, several lines (keys) per user, blank lines and {@code #}
 * comments ignored. A reader list may hold the line {@code *}: any key that proves itself.
 *
 * <pre>
 * # who may write
 * alice   ed25519:5iH1hZ5cR0n7F2q6bqyT0W9k3J6mGQzv0w8YtZ1J6mA
 * alice   ed25519:Qm9iLXNlY29uZC1rZXktZm9yLWFsaWNlLTAwMDAwMDA   # her laptop
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class KeyList {
  /** The largest trust file read, in bytes. */
  public static final int MAX_FILE_BYTES = 16 << 20;

  private final Map<String, Set<VerifyingKey>> byUser;
  private final Map<VerifyingKey, String> userOf;
  private final boolean anyKey;

  private KeyList(Map<String, Set<VerifyingKey>> byUser, boolean anyKey) {
    this.byUser = byUser;
    this.anyKey = anyKey;
    Map<VerifyingKey, String> users = new LinkedHashMap<>();
    byUser.forEach((user, keys) -> keys.forEach(k -> users.putIfAbsent(k, user)));
    this.userOf = users;
  }

  /** Returns a list that holds the line {@code *} only: any key that proves itself. */
  public static KeyList anyKey() {
    return new KeyList(Map.of(), true);
  }

  /**
   * Parses the text of a trust file.
   *
   * @param source what to call the text in errors (the file name)
   * @param allowAnyKey whether the line {@code *} may appear (reader lists)
   * @throws ReplikonException {@code INVALID_INPUT} naming the source and line of the first
   *     line that is not {@code USER ed25519:KEY} (or {@code *} where allowed)
   */
  public static KeyList parse(String text, String source, boolean allowAnyKey) {
    Map<String, Set<VerifyingKey>> byUser = new LinkedHashMap<>();
    boolean any = false;
    String[] lines = text.split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n];
      int hash = line.indexOf('#');
      line = (hash >= 0 ? line.substring(0, hash) : line).strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = source + ":" + (n + 1) + ": ";
      if (line.equals("*")) {
        if (!allowAnyKey) {
          throw new ReplikonException(Reason.INVALID_INPUT, where + "'*' (any key) is for a"
              + " readers file; a writers file names each key");
        }
        any = true;
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length != 2) {
        throw new ReplikonException(Reason.INVALID_INPUT, where + "expected USER ed25519:KEY"
            + (allowAnyKey ? " or *" : "") + ", got " + fields.length + " fields");
      }
      VerifyingKey key;
      try {
        key = VerifyingKey.parse(fields[1]);
      } catch (ReplikonException e) {
        throw new ReplikonException(Reason.INVALID_INPUT, where + e.getMessage());
      }
      byUser.computeIfAbsent(fields[0], u -> new LinkedHashSet<>()).add(key);
    }
    byUser.replaceAll((u, keys) -> Collections.unmodifiableSet(keys));
    return new KeyList(Collections.unmodifiableMap(byUser), any);
  }

  /**
   * Reads and parses a trust file.
   *
   * @throws ReplikonException {@code INVALID_INPUT} if it cannot be read or parsed, naming it
   */
  public static KeyList read(Path file, boolean allowAnyKey) {
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ReplikonException(Reason.INVALID_INPUT, file + ": larger than "
            + (MAX_FILE_BYTES >> 20) + " MiB; a trust file lists keys, one a line");
      }
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), allowAnyKey);
    } catch (MalformedInputException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, file + ": not UTF-8 text", e);
    } catch (IOException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "cannot read " + file + ": " + e, e);
    }
  }

  /** Returns true if the list holds {@code *}: any key. */
  public boolean allowsAnyKey() {
    return anyKey;
  }

  /** Returns the keys listed for {@code user} (empty if none). */
  public Set<VerifyingKey> keysOf(String user) {
    return byUser.getOrDefault(user, Set.of());
  }

  /** Returns true if {@code key} is listed for {@code user}. */
  public boolean allows(String user, VerifyingKey key) {
    return keysOf(user).contains(key);
  }

  /** Returns true if {@code key} is listed for any user, or the list holds {@code *}. */
  public boolean contains(VerifyingKey key) {
    return anyKey || userOf.containsKey(key);
  }

  /** Returns the first user {@code key} is listed for. */
  public Optional<String> userOf(VerifyingKey key) {
    return Optional.ofNullable(userOf.get(key));
  }

  /** Returns the users listed. */
  public Set<String> users() {
    return byUser.keySet();
  }

  /** Returns how many (user, key) lines the list holds, not counting {@code *}. */
  public int size() {
    return byUser.values().stream().mapToInt(Set::size).sum();
  }

  @Override
  public String toString() {
    return size() + " keys of " + byUser.size() + " users" + (anyKey ? ", and any key" : "");
  }
}
