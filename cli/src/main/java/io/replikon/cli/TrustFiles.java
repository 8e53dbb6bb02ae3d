package io.replikon.cli;

import io.replikon.error.ReplikonException;
import io.replikon.peer.AccessPolicy;
import io.replikon.trust.KeyList;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access policy of a peer from its trust files ({@code --writers FILE}, {@code --readers
 * FILE|*}), read at start and again on {@link #reload()} (SIGHUP). A reload that fails (a file
 * gone, a bad line) keeps the policy in force and logs why, so a typo never opens the peer.
 *
 * <p>Thread-safe: the engine reads the policy on its thread while a signal reloads it.
 */
final class TrustFiles implements Supplier<AccessPolicy> {
  private static final Logger LOG = LoggerFactory.getLogger(TrustFiles.class);

  private final Optional<Path> writers;
  private final Optional<String> readers;
  private final AtomicReference<AccessPolicy> policy = new AtomicReference<>();

  /**
   * Reads the files.
   *
   * @param readers a file, or {@code *} for any key that proves itself
   * @throws ReplikonException {@code INVALID_INPUT} naming the file and line that is wrong
   */
  TrustFiles(Optional<Path> writers, Optional<String> readers) {
    this.writers = writers;
    this.readers = readers;
    policy.set(read());
  }

  @Override
  public AccessPolicy get() {
    return policy.get();
  }

  /** Returns true if any trust file is given. */
  boolean any() {
    return writers.isPresent() || readers.isPresent();
  }

  /** Reads the files again; on failure keeps the policy in force and logs why. */
  void reload() {
    try {
      policy.set(read());
      LOG.info("reloaded the trust files: {}", describe());
    } catch (ReplikonException e) {
      LOG.error("reloading the trust files failed; the previous lists stay in force: {}",
          e.getMessage());
    }
  }

  /** Says what is in force, for the log. */
  String describe() {
    AccessPolicy p = policy.get();
    return "writers " + p.writers().map(l -> l + " from " + writers.get())
        .orElse("anyone with a valid signature") + "; readers "
        + p.readers().map(l -> l.allowsAnyKey() && l.size() == 0 ? "any key that proves itself"
            : l + " from " + readers.get()).orElse("anyone");
  }

  private AccessPolicy read() {
    Optional<KeyList> w = writers.map(f -> KeyList.read(f, false));
    Optional<KeyList> r = readers.map(f -> f.equals("*") ? KeyList.anyKey()
        : KeyList.read(Path.of(f), true));
    return new AccessPolicy(w, r);
  }
}
