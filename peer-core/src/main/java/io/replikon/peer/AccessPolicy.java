package io.replikon.peer;

import io.replikon.cdvcs.Address;
import io.replikon.trust.KeyList;
import io.replikon.trust.VerifyingKey;
import java.util.Objects;
import java.util.Optional;

/**
 * Who may write and who may read, on this peer. Every peer refuses a commit whose signature does
 * not verify, and a commit to a self-certifying address ({@code ed25519:KEY/UUID}) not signed by
 * that key, whatever its policy; the policy adds what is configured:
 *
 * <ul>
 *   <li>writers (from {@code --writers}): a commit to {@code USER/...} only when signed by a key
 *       listed for {@code USER};
 *   <li>readers (from {@code --readers}): a connection proves a listed key in its handshake before
 *       it may subscribe or publish.
 * </ul>
 *
 * <p>Immutable and thread-safe. A peer that reloads its lists swaps the whole policy.
 *
 * @param writers who may write which user's addresses; empty: anyone (signatures still checked)
 * @param readers which keys may read; empty: anyone, without a proof
 */
public record AccessPolicy(Optional<KeyList> writers, Optional<KeyList> readers) {
  private static final AccessPolicy OPEN = new AccessPolicy(Optional.empty(), Optional.empty());

  /** Checks the arguments. */
  public AccessPolicy {
    Objects.requireNonNull(writers, "writers");
    Objects.requireNonNull(readers, "readers");
  }

  /** Returns the policy that lets any valid signature write and anyone read. */
  public static AccessPolicy open() {
    return OPEN;
  }

  /**
   * Returns why a commit to {@code address} signed by {@code signer} is refused, or empty if it
   * may enter. The signature itself is checked before this.
   */
  public Optional<String> writeRefusal(Address address, VerifyingKey signer) {
    String user = address.user();
    if (VerifyingKey.isKeyUser(user)) {
      return signer.ownsUser(user) ? Optional.empty() : Optional.of(address
          + " is a self-certifying address: only the key " + shortUser(user)
          + " may write it, and this commit is signed by " + signer);
    }
    if (writers.isPresent() && !writers.get().allows(user, signer)) {
      return Optional.of("the key " + signer + " is not listed for user '" + shortUser(user)
          + "' in this peer's writers file");
    }
    return Optional.empty();
  }

  /** Returns true if a connection must prove a key before it may subscribe or publish. */
  public boolean readsNeedProof() {
    return readers.isPresent();
  }

  /** Returns why {@code key}, proven on a connection, may not read, or empty if it may. */
  public Optional<String> readRefusal(VerifyingKey key) {
    if (readers.isPresent() && !readers.get().contains(key)) {
      return Optional.of("the key " + key + " is not listed in this peer's readers file");
    }
    return Optional.empty();
  }

  private static String shortUser(String user) {
    return user.length() <= 80 ? user : user.substring(0, 80) + "...";
  }
}
