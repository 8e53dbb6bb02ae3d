package io.replikon.client.realize.testkit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A disk that loses what was not forced: files are opened through it as
 * {@link RecordingFileChannel}s (on the real file system, so the code under test runs as usual),
 * and it records every open, write, force, truncation and rename, and after each event what a
 * crash at that moment would keep.
 *
 * <p>The model (lost-unsynced-writes, as ext4 or XFS without data journaling promise): a file's
 * content survives a crash as of its last {@code force}; a name (a file created, a rename) as of
 * the last {@code force} of its directory. A write or a truncation that was not forced is lost; a
 * file whose name was never forced is gone; a file renamed over another has, after a crash,
 * either the old content or the content the new one had when last forced, whichever name the
 * directory had at its last force. Paths are compared as given, absolute.
 *
 * <p>Not thread-safe: one test thread. (The "storage" module has a {@code RecordingFileChannel}
 * of its own for its journal; the two should become one test-jar helper.)
 */
public final class CrashDisk {
  /** What happened. */
  public enum Kind { OPEN, WRITE, FORCE, TRUNCATE, RENAME }

  /**
   * One recorded event.
   *
   * @param kind what happened
   * @param path the file (or directory, for a force of one)
   * @param target where a rename went, else null
   * @param position where a write started, the new size of a truncation, else 0
   * @param length how many bytes a write wrote, else 0
   */
  public record Event(Kind kind, Path path, Path target, long position, long length) {
    /** The file name of {@link #path()}, for assertions. */
    public String name() {
      return path.getFileName().toString();
    }
  }

  /** One file's durable content; the volatile content is the real file's. */
  static final class Inode {
    byte[] durable = new byte[0];
  }

  private final List<Event> events = new ArrayList<>();
  /** After event i (index i + 1; index 0: before any), what a crash keeps: path to content. */
  private final List<Map<Path, byte[]>> kept = new ArrayList<>();
  private final Map<Path, Inode> names = new HashMap<>();
  private final Map<Path, Inode> durableNames = new HashMap<>();

  public CrashDisk() {
    kept.add(Map.of());
  }

  /** Opens {@code path} as {@link FileChannel#open(Path, OpenOption...)} does, recording it. */
  public FileChannel open(Path path, OpenOption... options) throws IOException {
    Path p = path.toAbsolutePath();
    FileChannel real = FileChannel.open(p, options);
    if (Files.isDirectory(p)) {
      return new RecordingFileChannel(this, real, p, null);
    }
    Inode inode = names.computeIfAbsent(p, x -> new Inode());
    record(new Event(Kind.OPEN, p, null, 0, 0));
    return new RecordingFileChannel(this, real, p, inode);
  }

  /** Renames {@code from} over {@code to} atomically, recording it. */
  public void move(Path from, Path to) throws IOException {
    Path f = from.toAbsolutePath();
    Path t = to.toAbsolutePath();
    Files.move(f, t, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Inode inode = names.remove(f);
    if (inode == null) {
      inode = new Inode(); // a file not opened through this disk: never forced, nothing durable
    }
    names.put(t, inode);
    record(new Event(Kind.RENAME, f, t, 0, 0));
  }

  void wrote(Path path, long position, long length) {
    record(new Event(Kind.WRITE, path, null, position, length));
  }

  void truncated(Path path, long size) {
    record(new Event(Kind.TRUNCATE, path, null, size, 0));
  }

  /**
   * A file forced: its content as it is now survives. Read by its name (the channel may be
   * write-only): a file must be forced under the name it was opened with.
   */
  void forced(Path path, Inode inode) throws IOException {
    inode.durable = Files.readAllBytes(path);
    record(new Event(Kind.FORCE, path, null, 0, inode.durable.length));
  }

  /** A directory forced: its names as they are now survive. */
  void forcedDirectory(Path dir) {
    durableNames.keySet().removeIf(p -> dir.equals(p.getParent()));
    names.forEach((p, inode) -> {
      if (dir.equals(p.getParent())) {
        durableNames.put(p, inode);
      }
    });
    record(new Event(Kind.FORCE, dir, null, 0, 0));
  }

  private void record(Event e) {
    events.add(e);
    Map<Path, byte[]> now = new LinkedHashMap<>();
    durableNames.forEach((p, inode) -> now.put(p, inode.durable));
    kept.add(Collections.unmodifiableMap(now));
  }

  /** Returns the events so far, in order. */
  public List<Event> events() {
    return List.copyOf(events);
  }

  /** Returns how many events happened: crash points are 0 to this, inclusive. */
  public int size() {
    return events.size();
  }

  /**
   * Writes into {@code into} the files of {@code dir} as a crash after {@code eventCount} events
   * would leave them (same names), and returns their names.
   */
  public Set<String> crashAfter(int eventCount, Path dir, Path into) throws IOException {
    Path d = dir.toAbsolutePath();
    Map<String, byte[]> files = new LinkedHashMap<>();
    kept.get(eventCount).forEach((p, content) -> {
      if (d.equals(p.getParent())) {
        files.put(p.getFileName().toString(), content);
      }
    });
    Files.createDirectories(into);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Files.write(into.resolve(f.getKey()), f.getValue(), StandardOpenOption.CREATE_NEW);
    }
    return files.keySet();
  }
}
