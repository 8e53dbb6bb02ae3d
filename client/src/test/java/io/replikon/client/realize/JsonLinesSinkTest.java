package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.storage.testkit.RecordingFileChannel;
import io.replikon.storage.testkit.RecordingFileChannel.Event;
import io.replikon.storage.testkit.RecordingFileChannel.Journal;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON lines sink's writes and forces, on a disk that loses what was not forced: lines are
 * forced before the sidecar that covers them is written, the sidecar is forced before it is renamed
 * and its directory forced, and a crash at any moment leaves a file and a sidecar that open
 * consistently, keeping every batch whose commit returned.
 */
class JsonLinesSinkTest {
  static final Address ADDRESS = new Address("alice", new UUID(3, 3));
  static final Commit INFO = new Commit(List.of(), List.of(), "alice", 0, ADDRESS,
      SigningKey.fromSeed(new byte[32]).verifyingKey());
  static final Hash C1 = Hash.sha256(new byte[] {1});
  static final Hash C2 = Hash.sha256(new byte[] {2});

  @TempDir Path dir;

  static FileOpener on(Journal disk) {
    return new FileOpener() {
      @Override
      public FileChannel open(Path path, OpenOption... options) throws IOException {
        return disk.open(path, options);
      }

      @Override
      public void move(Path from, Path to) throws IOException {
        disk.move(from, to);
      }
    };
  }

  static AppliedTransaction tx(Hash commit, int index) {
    return new AppliedTransaction(commit, index, new Transaction("add-note",
        JsonNodeFactory.instance.textNode(commit.shortHex() + "/" + index)), INFO);
  }

  /** The applied-logs after each of the three batches, and how many lines each covers. */
  static final AppliedLog L1 = AppliedLog.EMPTY.advance(C1, List.of());
  static final AppliedLog L2 = L1.within(C2, 2);
  static final AppliedLog L3 = L2.advance(C2, List.of(C1));

  static int linesOf(AppliedLog log) {
    return log.equals(AppliedLog.EMPTY) ? 0 : log.equals(L1) ? 3 : log.equals(L2) ? 5 : 7;
  }

  /**
   * Runs three batches (commit 1 whole; commit 2 cut after 2; its last 2) and returns the number
   * of events after each batch's commit returned.
   */
  List<Integer> threeBatches(Journal disk, Path file) {
    List<Integer> committed = new ArrayList<>();
    try (JsonLinesSink sink = JsonLinesSink.open(file, on(disk))) {
      int[][] batches = {{0, 3}, {0, 2}, {2, 4}};
      Hash[] commits = {C1, C2, C2};
      AppliedLog[] logs = {L1, L2, L3};
      for (int b = 0; b < 3; b++) {
        try (Sink.Batch<com.fasterxml.jackson.databind.node.ObjectNode> batch =
            sink.begin(ADDRESS)) {
          for (int i = batches[b][0]; i < batches[b][1]; i++) {
            batch.record(tx(commits[b], i)).put("b", b);
          }
          batch.commit(logs[b]);
        }
        committed.add(disk.size());
      }
    }
    return committed;
  }

  @Test
  void commit_forcesTheLines_thenWritesForcesRenamesTheSidecar_thenForcesTheDirectory()
      throws Exception {
    Journal disk = new RecordingFileChannel.Journal();
    Path file = dir.resolve("ops.jsonl");
    threeBatches(disk, file);
    List<Event> events = disk.events();
    List<String> order = new ArrayList<>();
    for (Event e : events) {
      order.add(e.describe().replace(" " + dir.getFileName(), " dir"));
    }
    // What one batch's commit does, in order, after the lines are written:
    List<String> commit = List.of("force ops.jsonl", "open ops.jsonl.applied.tmp",
        "write ops.jsonl.applied.tmp", "force ops.jsonl.applied.tmp",
        "rename ops.jsonl.applied.tmp to ops.jsonl.applied", "force dir");
    int at = order.indexOf("open ops.jsonl"); // after the sink's first, empty sidecar
    for (int b = 0; b < 3; b++) {
      int write = order.subList(at, order.size()).indexOf("write ops.jsonl") + at;
      assertThat(write).as("batch %d writes its lines: %s", b, order).isGreaterThanOrEqualTo(at);
      assertThat(order.subList(write + 1, write + 1 + commit.size()))
          .as("batch %d: %s", b, order).containsExactlyElementsOf(commit);
      at = write + 1 + commit.size();
    }
    assertThat(order.subList(at, order.size())).as("nothing after the last commit").isEmpty();
  }

  @Test
  void crashAtAnyMoment_leavesALogAndTheLinesItCovers_andKeepsEveryReturnedCommit()
      throws Exception {
    Journal disk = new RecordingFileChannel.Journal();
    Path file = dir.resolve("ops.jsonl");
    List<Integer> committed = threeBatches(disk, file);
    List<String> all = Files.readAllLines(file);
    assertThat(all).hasSize(7);
    for (int k = 0; k <= disk.size(); k++) {
      Path crashed = dir.resolve("crash-" + k);
      disk.crashAfter(k, dir, crashed);
      AppliedLog log;
      List<String> lines;
      try (JsonLinesSink sink = JsonLinesSink.open(crashed.resolve("ops.jsonl"))) {
        log = sink.load(ADDRESS);
        lines = Files.readAllLines(crashed.resolve("ops.jsonl"));
      } catch (RuntimeException e) {
        throw new AssertionError("crash after " + k + " events " + disk.events().subList(0, k)
            + ": " + e, e);
      }
      assertThat(log).as("crash after %d events", k).isIn(AppliedLog.EMPTY, L1, L2, L3);
      assertThat(lines).as("crash after %d events: the lines of %s", k, log)
          .containsExactlyElementsOf(all.subList(0, linesOf(log)));
      for (int b = 0; b < 3; b++) {
        if (k >= committed.get(b)) {
          assertThat(linesOf(log)).as("crash after %d events: batch %d returned", k, b)
              .isGreaterThanOrEqualTo(linesOf(new AppliedLog[] {L1, L2, L3}[b]));
        }
      }
    }
  }
}
