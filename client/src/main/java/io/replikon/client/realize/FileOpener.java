package io.replikon.client.realize;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * How the file sinks open channels and rename files: a seam for tests, which record the order of
 * writes, forces and renames and keep only what was forced at a simulated crash. Production uses
 * {@link #DEFAULT}: {@link FileChannel#open(Path, OpenOption...)} and an atomic
 * {@link Files#move}.
 */
interface FileOpener {
  FileOpener DEFAULT = FileChannel::open;

  /** Opens {@code path} as {@link FileChannel#open(Path, OpenOption...)} does. */
  FileChannel open(Path path, OpenOption... options) throws IOException;

  /** Renames {@code from} over {@code to}, atomically. */
  default void move(Path from, Path to) throws IOException {
    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
