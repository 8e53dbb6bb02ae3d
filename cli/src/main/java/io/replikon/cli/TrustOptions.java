package io.replikon.cli;

import io.replikon.client.PeerConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The options of a process that serves as a peer, on who may write and read it: {@code --writers},
 * {@code --readers} and {@code --open}, shared by {@code peer} and {@code collect}.
 */
final class TrustOptions {
  private static final Logger LOG = LoggerFactory.getLogger(TrustOptions.class);

  @Option(names = "--open", defaultValue = "${env:REPLIKON_OPEN:-false}",
      description = "Accept commits from anyone who can reach the port: lets a server peer listen "
          + "on an address other than loopback without --writers ($REPLIKON_OPEN=true).")
  boolean open;

  @Option(names = "--writers", paramLabel = "FILE", defaultValue = "${env:REPLIKON_WRITERS}",
      description = "Lines 'USER ed25519:KEY' (several keys per user, # comments); a commit to "
          + "USER/... is accepted only when signed by a key listed for USER; reloaded on SIGHUP "
          + "($REPLIKON_WRITERS).")
  Path writers;

  @Option(names = "--readers", paramLabel = "FILE|*", defaultValue = "${env:REPLIKON_READERS}",
      description = "The same lines, or '*' (any key that proves itself): a connection must prove "
          + "a listed key in the handshake before it may subscribe or publish; reloaded on SIGHUP "
          + "($REPLIKON_READERS).")
  String readers;

  /** Refuses a listener beyond loopback without {@code --writers} or {@code --open}. */
  void requireWritersOrOpen(CommandSpec spec, String host) {
    Exposure.requireWritersOrOpen(spec, host, writers, open);
  }

  /**
   * Reads the trust files and returns {@code config} with their policy, reloaded on SIGHUP.
   *
   * @throws io.replikon.error.ReplikonException {@code INVALID_INPUT} naming a bad file or line
   */
  PeerConfig apply(PeerConfig config) {
    TrustFiles files = new TrustFiles(Optional.ofNullable(writers), Optional.ofNullable(readers));
    LOG.info("trust: {}", files.describe());
    if (files.any() && HangupSignal.onHangup(files::reload)) {
      LOG.info("kill -HUP {} reloads the trust files", ProcessHandle.current().pid());
    }
    return config.withAccess(files);
  }

  /** The options as the configuration log line shows them. */
  @Override
  public String toString() {
    return "open=" + open + " writers=" + (writers == null ? "-" : writers) + " readers="
        + (readers == null ? "-" : readers);
  }
}
