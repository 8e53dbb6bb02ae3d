package io.replikon.client;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.PrivateFiles;
import io.replikon.trust.SigningKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Private keys in files: written once as PKCS#8 PEM, mode 600, never over an existing file; read
 * back with a clear error for anything else. A store keeps its own key in {@value #STORE_KEY}.
 *
 * <p>Stateless and thread-safe; every call blocks on file I/O.
 */
public final class KeyFiles {
  /** The name of a store's own key, in the store directory. */
  public static final String STORE_KEY = "identity.key";
  private static final Logger LOG = LoggerFactory.getLogger(KeyFiles.class);
  /** The largest key file read: a PEM key is about 120 bytes. */
  private static final long MAX_BYTES = 64 << 10;

  private KeyFiles() {}

  /**
   * Writes {@code key} to a new file {@code file} (mode 600), refusing to overwrite one.
   *
   * @throws ReplikonException {@code INVALID_INPUT} if the file exists, {@code STORE_IO} if it
   *     cannot be written
   */
  public static void write(Path file, SigningKey key) {
    try (FileChannel out = PrivateFiles.open(file,
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
      ByteBuffer pem = ByteBuffer.wrap(key.toPem().getBytes(StandardCharsets.US_ASCII));
      while (pem.hasRemaining()) {
        out.write(pem);
      }
      out.force(true);
    } catch (FileAlreadyExistsException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, file + " exists already; a key file is"
          + " never overwritten (move it away, or choose another --out)");
    } catch (IOException e) {
      throw new ReplikonException(Reason.STORE_IO, "cannot write the key " + file + ": " + e, e);
    }
  }

  /**
   * Reads a private key file (PKCS#8 PEM). A file that others may read is read, with a warning.
   *
   * @throws ReplikonException {@code INVALID_INPUT}, naming the file, if it is missing, too large
   *     or not an Ed25519 key in PKCS#8 PEM
   */
  public static SigningKey read(Path file) {
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new ReplikonException(Reason.INVALID_INPUT, file + " is not a key file: larger"
            + " than " + (MAX_BYTES >> 10) + " KiB");
      }
      warnIfOthersMayRead(file);
      return SigningKey.fromPem(Files.readString(file, StandardCharsets.US_ASCII),
          file.toString());
    } catch (NoSuchFileException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "no key file " + file
          + " (make one with: replikon keygen --out " + file + ")");
    } catch (IOException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "cannot read the key " + file + ": " + e,
          e);
    }
  }

  /**
   * Returns the key of a store: read from {@value #STORE_KEY} in its directory, or made and
   * written there on first use; a new key for each run of an in-memory peer (empty).
   */
  public static SigningKey ofStore(Optional<Path> storeDirectory) {
    if (storeDirectory.isEmpty()) {
      return SigningKey.generate();
    }
    Path file = storeDirectory.get().resolve(STORE_KEY);
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return read(file);
    }
    SigningKey key = SigningKey.generate();
    try {
      write(file, key);
    } catch (ReplikonException e) {
      if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        return read(file); // made by another process between the check and the write
      }
      throw e;
    }
    LOG.info("made a key for the store {}: {} (public key {})", storeDirectory.get(), file,
        key.verifyingKey());
    return key;
  }

  private static void warnIfOthersMayRead(Path file) throws IOException {
    if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return;
    }
    Set<PosixFilePermission> modes = Files.getPosixFilePermissions(file);
    if (modes.contains(PosixFilePermission.GROUP_READ)
        || modes.contains(PosixFilePermission.OTHERS_READ)) {
      LOG.warn("the key file {} may be read by other users; chmod 600 {}", file, file);
    }
  }
}
