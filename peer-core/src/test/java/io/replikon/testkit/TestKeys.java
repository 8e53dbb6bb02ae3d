package io.replikon.testkit;

import io.replikon.cdvcs.Author;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;

/**
 * Keys for tests: the same key for the same name in every run (its seed is the SHA-256 of the
 * name), so fixtures and expected ids stay stable.
 */
public final class TestKeys {
  /** Alice, the author most tests commit as. */
  public static final Author ALICE = author("alice");
  /** Bob, a second author. */
  public static final Author BOB = author("bob");
  /**
   * A signature of nothing: for entries of commit graphs that no store or peer checks (the join
   * laws on graphs alone).
   */
  public static final Signature UNCHECKED = Signature.of(new byte[Signature.BYTES]);

  private TestKeys() {}

  /** Returns the key of a name: the same in every run. */
  public static SigningKey key(String name) {
    return SigningKey.fromSeed(Hash.sha256(name.getBytes(StandardCharsets.UTF_8)).toBytes());
  }

  /** Returns an author of that name signing with {@link #key(String)}. */
  public static Author author(String name) {
    return new Author(name, key(name));
  }
}
