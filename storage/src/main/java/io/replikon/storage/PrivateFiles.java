package io.replikon.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;

/**
 * How replikon creates the files and directories it keeps its data in (the store, and the
 * collector's journal): owner-only (directories 700, files 600) on POSIX file systems, set at
 * creation (never a window in which another user can open them), and never through a symbolic
 * link.
 *
 * <p>Stateless and thread-safe. Every call blocks on file I/O.
 */
public final class PrivateFiles {
  private static final FileAttribute<?> DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<?> FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  private PrivateFiles() {}

  /** Creates {@code dir} and its missing parents, each 700 where the file system has modes. */
  public static void createDirectories(Path dir) throws IOException {
    if (posix(nearestExisting(dir))) {
      Files.createDirectories(dir, DIRECTORY);
    } else {
      Files.createDirectories(dir);
    }
  }

  /**
   * Opens {@code file} with {@code options} without following a symbolic link (one there fails
   * the open); a file the open creates is 600 where the file system has modes.
   */
  public static FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
    Set<OpenOption> all = new HashSet<>(options);
    all.add(LinkOption.NOFOLLOW_LINKS);
    return posix(file.getParent()) ? FileChannel.open(file, all, FILE)
        : FileChannel.open(file, all);
  }

  private static boolean posix(Path existing) {
    return existing != null
        && existing.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static Path nearestExisting(Path dir) {
    Path p = dir.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return p;
  }
}
