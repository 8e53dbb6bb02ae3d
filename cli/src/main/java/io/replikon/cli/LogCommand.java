package io.replikon.cli;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.value.Hash;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replikon log}: lists the CDVCSs in a store, or the commits of one, newest first.
 */
@Command(
    name = "log",
    header = "List the CDVCSs in a store, or the commits of one, newest first.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Without --crdt, prints one line per CDVCS in the store:",
      "",
      "  <address> <commits> <transactions> <heads>",
      "",
      "With --crdt, prints the commits of that CDVCS newest first, like git log: by generation "
          + "(every commit before its parents), ties in id order; one line each:",
      "",
      "  <id> <time, UTC> <author> <transactions> tx [parents <id>,...]",
      "",
      "Ids are abbreviated to 12 hex digits. The store is opened for reading; it must not be "
          + "in use by a running peer (the error then names the process holding it).",
      "",
      "Example:",
      "  replikon log --store ./peer-data --crdt alice/12d49511-e733-4007-937b-460c3794fae9"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Listed.",
      "1:No store at that path, not a replikon store, store in use, or unknown address.",
      "2:Invalid command line."
    })
final class LogCommand implements Callable<Integer> {
  private final Io io;

  @Option(names = "--store", required = true, paramLabel = "DIR",
      defaultValue = "${env:REPLIKON_STORE}",
      description = "The store directory (default: $REPLIKON_STORE).")
  private Path store;

  @Option(names = "--crdt", paramLabel = "USER/UUID",
      description = "The CDVCS whose commits to list.")
  private String crdt;

  @Option(names = {"-n", "--max-count"}, paramLabel = "N",
      description = "List at most N commits (default: all).")
  private int maxCount = Integer.MAX_VALUE;

  LogCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Address address = crdt == null ? null : Address.parse(crdt);
    PrintWriter out =
        new PrintWriter(new OutputStreamWriter(io.out(), StandardCharsets.UTF_8), false);
    try (Store opened = Stores.open(StoreConfig.at(store).withCreateIfMissing(false))) {
      CdvcsStore cdvcs = new CdvcsStore(opened);
      if (address == null) {
        listAll(cdvcs, out);
      } else {
        listCommits(cdvcs, cdvcs.load(address), out);
      }
    } finally {
      out.flush();
    }
    return 0;
  }

  private void listAll(CdvcsStore cdvcs, PrintWriter out) {
    List<CdvcsStore.Summary> all = cdvcs.list();
    if (all.isEmpty()) {
      io.err().println("replikon log: no CDVCS in " + store);
      return;
    }
    for (CdvcsStore.Summary s : all) {
      out.printf("%s %d commits %d transactions heads %s%n", s.address(), s.commitCount(),
          s.transactionCount(), shortList(s.heads()));
    }
  }

  private void listCommits(CdvcsStore cdvcs, Cdvcs state, PrintWriter out) {
    List<Hash> commits = new ArrayList<>(state.graph().commits());
    // Newest first: children before parents by generation; the id breaks ties.
    commits.sort(Comparator.comparingInt((Hash h) -> state.graph().generation(h)).reversed()
        .thenComparing(Comparator.naturalOrder()));
    int shown = 0;
    for (Hash id : commits) {
      if (shown++ >= maxCount) {
        break;
      }
      Commit commit = cdvcs.commit(id);
      out.printf("%s %s %s %d tx%s%n", id.shortHex(), Instant.ofEpochMilli(commit.ts()),
          commit.author(), cdvcs.transactionCount(commit),
          commit.parents().isEmpty() ? "" : " parents " + shortList(commit.parents()));
    }
  }

  private static String shortList(Collection<Hash> hashes) {
    return hashes.stream().map(Hash::shortHex).collect(Collectors.joining(","));
  }
}
