package io.replikon.storage;

import io.replikon.error.ReplikonException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A child process for the lock tests. {@code hold <dir>} opens the store, writes one entry, prints
 * {@code OPENED <pid>} and holds the store until its standard input ends. {@code probe <dir>} tries
 * to open the store and prints {@code OPENED} or the reason and message of its failure, then
 * exits.
 */
public final class LockHolder {
  private LockHolder() {}

  /** Runs the holder or the probe. */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    if (args[0].equals("probe")) {
      try (Store store = Stores.open(StoreConfig.at(dir))) {
        System.out.println("OPENED " + ProcessHandle.current().pid() + " " + store.describe());
      } catch (ReplikonException e) {
        System.out.println(e.reason() + " " + e.getMessage());
      }
      return;
    }
    try (Store store = Stores.open(StoreConfig.at(dir))) {
      store.put(Column.META, "child".getBytes(StandardCharsets.UTF_8),
          "was here".getBytes(StandardCharsets.UTF_8));
      System.out.println("OPENED " + ProcessHandle.current().pid());
      System.out.flush();
      while (System.in.read() != -1) {
        // hold the store until stdin closes
      }
    }
  }
}
