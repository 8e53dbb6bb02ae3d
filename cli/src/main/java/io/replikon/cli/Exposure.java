package io.replikon.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The protected default (as Redis's protected mode): a peer listens on loopback unless told
 * otherwise, and on any other address only with {@code --writers FILE} or an explicit
 * {@code --open}.
 */
final class Exposure {
  private static final Logger LOG = LoggerFactory.getLogger(Exposure.class);

  /** The default of {@code --host}: loopback. */
  static final String DEFAULT_HOST = "127.0.0.1";

  private Exposure() {}

  /**
   * Returns the first address {@code host} resolves to that is not a loopback address (a
   * wildcard such as {@code 0.0.0.0} or {@code ::}, a LAN address, a name that resolves to one),
   * or empty when every address it resolves to is loopback.
   *
   * @throws UnknownHostException when {@code host} does not resolve
   */
  static Optional<InetAddress> beyondLoopback(String host) throws UnknownHostException {
    for (InetAddress address : InetAddress.getAllByName(host)) {
      if (!address.isLoopbackAddress()) {
        return Optional.of(address);
      }
    }
    return Optional.empty();
  }

  /**
   * Refuses a WebSocket listener on {@code host} when it is reachable from beyond this machine and
   * neither {@code --writers} nor {@code --open} was given. Call it before anything is created.
   *
   * @throws ParameterException naming both flags when refused, or when {@code host} does not
   *     resolve
   */
  static void requireWritersOrOpen(CommandSpec spec, String host, Path writers, boolean open) {
    Optional<InetAddress> exposed = resolve(spec, "--host", host);
    if (exposed.isEmpty()) {
      if (open) {
        LOG.debug("--open has no effect on {}, a loopback address", host);
      }
      return;
    }
    if (writers == null && !open) {
      throw new ParameterException(spec.commandLine(), "refusing to listen on "
          + describe(host, exposed.get()) + ": without --writers FILE anyone who can reach this "
          + "port can write into any CDVCS. Give --writers FILE to accept commits only from listed "
          + "keys, or --open to accept anyone.");
    }
    if (writers == null) {
      LOG.warn("listening on {} with --open: anyone who can reach this port can write into any "
          + "CDVCS", describe(host, exposed.get()));
    }
  }

  /**
   * Logs a warning when the status port, on {@code host}, is reachable from beyond this machine.
   * It is read-only, so it needs no {@code --open}.
   *
   * @throws ParameterException when {@code host} does not resolve
   */
  static void warnIfStatusReadable(CommandSpec spec, String host) {
    resolve(spec, "--http-host", host).ifPresent(address -> LOG.warn("the HTTP port listens on "
        + "{}: /health, /metrics and the status page are readable by anyone who can reach it "
        + "(--http-host 127.0.0.1 keeps it local)", describe(host, address)));
  }

  /** Resolves {@code host} as {@link #beyondLoopback}, a usage error when it does not resolve. */
  static Optional<InetAddress> resolve(CommandSpec spec, String flag, String host) {
    try {
      return beyondLoopback(host);
    } catch (UnknownHostException e) {
      throw new ParameterException(spec.commandLine(), flag + " " + host
          + ": no such host or address");
    }
  }

  /** {@code host}, followed by the address it resolved to when it is a name. */
  static String describe(String host, InetAddress address) {
    boolean name = !host.contains(":") && host.chars().anyMatch(Character::isLetter);
    return name ? host + " (" + address.getHostAddress() + ")" : host;
  }
}
