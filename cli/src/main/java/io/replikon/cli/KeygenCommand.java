package io.replikon.cli;

import io.replikon.client.KeyFiles;
import io.replikon.trust.SigningKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replikon keygen}: writes a new Ed25519 private key and prints its public key, the name
 * by which trust files, logs and self-certifying addresses know it.
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = {
      "Writes a new Ed25519 private key to --out (PKCS#8 PEM, file mode 600; an existing file is "
          + "never overwritten) and prints its public key on stdout, one line "
          + "'ed25519:<base64url>': the name of the key in --writers and --readers files, in logs, "
          + "on the status page, and as the user of a self-certifying address "
          + "(ed25519:KEY/UUID, which only that key may write).",
      "",
      "Give the file to the process that signs (collect, transact, peer, demo: --key FILE) and "
          + "the printed line to the peers that should trust it.",
      "",
      "Example:",
      "  replikon keygen --out alice.key",
      "  echo \"alice $(replikon keygen --out laptop.key)\" >> writers.txt"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Written; the public key printed.",
      "1:Not written: the file exists, or it cannot be written.",
      "2:Invalid command line."
    })
final class KeygenCommand implements Callable<Integer> {
  private final Io io;

  @Option(names = "--out", required = true, paramLabel = "FILE",
      description = "Where to write the new private key; must not exist.")
  private Path out;

  KeygenCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() throws Exception {
    SigningKey key = SigningKey.generate();
    KeyFiles.write(out, key);
    io.out().write((key.verifyingKey() + "\n").getBytes(StandardCharsets.US_ASCII));
    io.out().flush();
    io.err().println("replikon keygen: wrote the private key to " + out + " (mode 600); keep it"
        + " there, give the line above to the peers that should trust it");
    return 0;
  }
}
