package io.replikon.cli;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.Column;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.trust.Signature;
import io.replikon.value.Hash;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replikon log}: lists the CDVCSs in a store, or the commits of one, newest first; with
 * {@code --verify}, re-reads and re-hashes every value they reference instead.
 *
 * <p>Design note on {@code --verify}: it walks each CDVCS's commit graph (from the store's index),
 * reads every commit value and every chunk a commit names, once each however many commits share
 * it, and hashes them again. A value that cannot be read (a chunk file whose bytes fail their CRC,
 * a segment cut short: the store's message names the file and offset), that does not hash to its
 * id, or that is not stored is reported with the commit that references it, and the walk goes on,
 * so that one run lists all the damage. It holds the set of hashes already checked (32 bytes
 * each) and one value at a time.
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
      "  <id> <time, UTC> <author> <signer> <transactions> tx [parents <id>,...]",
      "",
      "Ids are abbreviated to 12 hex digits. The store is opened for reading; it must not be "
          + "in use by a running peer (the error then names the process holding it).",
      "",
      "With --verify, re-reads and re-hashes every commit and chunk of every CDVCS (or of "
          + "--crdt) and checks every commit's signature, prints one line per damaged or missing "
          + "value or signature:",
      "",
      "  damaged|missing <kind> <hash> of commit <id> in <address>: <what is wrong>",
      "",
      "then a summary line, and exits with 3 if it found any. A damaged value can be fetched "
          + "again from a replica.",
      "",
      "Example:",
      "  replikon log --store ./peer-data --crdt alice/12d49511-e733-4007-937b-460c3794fae9"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Listed (with --verify: every value read back and matched its hash).",
      "1:No store at that path, not a replikon store, store in use, or unknown address.",
      "2:Invalid command line.",
      "3:--verify found damaged or missing values."
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

  @Option(names = "--verify",
      description = "Re-read and re-hash every value the CDVCSs reference; report the damaged "
          + "and missing ones (exit status 3 if any).")
  private boolean verify;

  /** Exit status of a verification that found damage. */
  static final int DAMAGE_FOUND = 3;

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
      if (verify) {
        return verify(opened, cdvcs, address, out);
      }
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
      out.printf("%s %s %s %s %d tx%s%n", id.shortHex(), Instant.ofEpochMilli(commit.ts()),
          commit.author(), commit.signer(), cdvcs.transactionCount(commit),
          commit.parents().isEmpty() ? "" : " parents " + shortList(commit.parents()));
    }
  }

  /** What {@code --verify} counted. */
  private static final class Tally {
    final Set<Hash> checked = new HashSet<>();
    long commits;
    long chunks;
    long damaged;
    long missing;
  }

  private int verify(Store opened, CdvcsStore cdvcs, Address only, PrintWriter out) {
    List<Address> addresses = only != null ? List.of(only)
        : cdvcs.list().stream().map(CdvcsStore.Summary::address).toList();
    Tally tally = new Tally();
    for (Address address : addresses) {
      Cdvcs state;
      try {
        state = cdvcs.load(address);
      } catch (ReplikonException e) {
        if (e.reason() == Reason.UNKNOWN_ADDRESS) {
          throw e;
        }
        tally.damaged++;
        out.printf("damaged index of %s: %s%n", address, oneLine(e));
        continue;
      }
      List<Hash> commits = new ArrayList<>(state.graph().commits());
      commits.sort(Comparator.naturalOrder());
      for (Hash id : commits) {
        verifyCommit(opened, address, id, tally, out);
      }
    }
    out.printf("verified %d commits and %d chunks of %d CDVCSs in %s: %d damaged, %d missing%n",
        tally.commits, tally.chunks, addresses.size(), opened.describe(), tally.damaged,
        tally.missing);
    return tally.damaged + tally.missing > 0 ? DAMAGE_FOUND : 0;
  }

  private void verifyCommit(Store opened, Address address, Hash id, Tally tally,
      PrintWriter out) {
    if (!tally.checked.add(id)) {
      return;
    }
    tally.commits++;
    String where = "in " + address;
    byte[] value = read(opened, Column.COMMITS, "commit", id, where, tally, out);
    if (value == null) {
      return;
    }
    Commit commit;
    try {
      commit = Commit.decode(value);
    } catch (ReplikonException e) {
      tally.damaged++;
      out.printf("damaged commit %s %s: not a commit (%s)%n", id.hex(), where, oneLine(e));
      return;
    }
    Optional<byte[]> signature = opened.get(Column.SIGNATURES, id.toBytes());
    if (signature.isEmpty()) {
      tally.missing++;
      out.printf("missing signature of commit %s %s%n", id.hex(), where);
    } else if (signature.get().length != Signature.BYTES
        || !commit.signer().verifiesCommit(id, Signature.of(signature.get()))) {
      tally.damaged++;
      out.printf("damaged signature of commit %s %s: it does not verify against its signer %s%n",
          id.hex(), where, commit.signer());
    }
    for (Hash chunk : commit.chunks()) {
      if (tally.checked.add(chunk)) {
        tally.chunks++;
        read(opened, Column.CHUNKS, "chunk", chunk, "of commit " + id.hex() + " " + where,
            tally, out);
      }
    }
  }

  /** Reads a value and checks its hash; reports and returns null if it is damaged or missing. */
  private static byte[] read(Store opened, Column column, String kind, Hash id, String where,
      Tally tally, PrintWriter out) {
    Optional<byte[]> value;
    try {
      value = opened.get(column, id.toBytes());
    } catch (ReplikonException e) {
      tally.damaged++;
      out.printf("damaged %s %s %s: %s%n", kind, id.hex(), where, oneLine(e));
      return null;
    }
    if (value.isEmpty()) {
      tally.missing++;
      out.printf("missing %s %s %s: not stored%n", kind, id.hex(), where);
      return null;
    }
    Hash actual = Hash.sha256(value.get());
    if (!actual.equals(id)) {
      tally.damaged++;
      out.printf("damaged %s %s %s: its %d stored bytes hash to %s%n", kind, id.hex(), where,
          value.get().length, actual.hex());
      return null;
    }
    return value.get();
  }

  private static String oneLine(Exception e) {
    return String.valueOf(e.getMessage()).replace('\n', ' ').replace('\r', ' ');
  }

  private static String shortList(Collection<Hash> hashes) {
    return hashes.stream().map(Hash::shortHex).collect(Collectors.joining(","));
  }
}
