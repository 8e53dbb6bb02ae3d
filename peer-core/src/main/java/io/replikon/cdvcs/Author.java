package io.replikon.cdvcs;

import io.replikon.trust.SigningKey;
import java.util.Objects;

/**
 * Who makes commits: a name shown in logs (the commit's {@code author}) and the key that signs
 * them (the commit's {@code signer}). The key is what peers check; the name is a label.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name the author's name, as commits carry it
 * @param key the key that signs the commits
 */
public record Author(String name, SigningKey key) {
  /** Checks the arguments. */
  public Author {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(key, "key");
  }
}
