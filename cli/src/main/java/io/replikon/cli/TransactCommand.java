package io.replikon.cli;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.client.KeyFiles;
import io.replikon.error.ReplikonException;
import io.replikon.peer.AccessPolicy;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.trust.SigningKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replikon transact}: commits the JSON values read from stdin to a CDVCS in a store, as one
 * commit of {@code [fn, value]} transactions.
 */
@Command(
    name = "transact",
    header = "Commit JSON values from stdin to a CDVCS in a store, as one commit.",
    synopsisHeading = "%nUsage: ",
    description = {
      "Reads JSON values from stdin, one per line (blank lines are skipped), and commits them to "
          + "the CDVCS at --crdt as one commit whose transactions are [FN, value], in order. "
          + "Prints the id of the new commit.",
      "",
      "All or nothing: if a line is not JSON, the command reports every bad line with its "
          + "number and commits nothing. A CDVCS with several heads refuses commits until they "
          + "are merged.",
      "",
      "The store must not be in use by a running peer. With --create, the store and the CDVCS "
          + "are created when missing.",
      "",
      "Example:",
      "  printf '%s\\n' '{\"text\":\"hello\"}' '{\"text\":\"world\"}' \\",
      "    | replikon transact --store ./data --create "
          + "--crdt alice/12d49511-e733-4007-937b-460c3794fae9"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Committed.",
      "1:Nothing committed: a bad line, no values, no such store or CDVCS, or a conflict.",
      "2:Invalid command line."
    })
final class TransactCommand implements Callable<Integer> {
  private final Io io;
  private final Clock clock;
  private final JsonLineParser parser = new JsonLineParser();

  @Option(names = "--store", required = true, paramLabel = "DIR",
      defaultValue = "${env:REPLIKON_STORE}",
      description = "The store directory (default: $REPLIKON_STORE).")
  private Path store;

  @Option(names = "--crdt", required = true, paramLabel = "USER/UUID",
      description = "The CDVCS to commit to.")
  private String crdt;

  @Option(names = "--create",
      description = "Create the store and the CDVCS if they do not exist yet.")
  private boolean create;

  @Option(names = "--fn", paramLabel = "NAME", defaultValue = "add-tweet",
      description = "The function name of each transaction (default: ${DEFAULT-VALUE}).")
  private String fn;

  @Option(names = "--author", paramLabel = "NAME",
      description = "The author of the commit (default: the user of --crdt).")
  private String author;

  @Option(names = "--key", paramLabel = "FILE", defaultValue = "${env:REPLIKON_KEY}",
      description = "The private key that signs the commit (PKCS#8 PEM, from `replikon keygen`;"
          + " $REPLIKON_KEY); default: the store's own key, identity.key in the store.")
  private Path key;

  TransactCommand(Io io, Clock clock) {
    this.io = io;
    this.clock = clock;
  }

  @Override
  public Integer call() throws IOException {
    Address address = Address.parse(crdt);
    if (fn.isEmpty()) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT, "--fn is empty");
    }
    String name = author == null ? address.user() : author;
    List<Transaction> transactions = readTransactions();
    if (transactions.isEmpty()) {
      throw new ReplikonException(
          ReplikonException.Reason.INVALID_INPUT, "no values on stdin; nothing committed");
    }
    SigningKey signer = key == null ? null : KeyFiles.read(key);
    try (Store opened = Stores.open(StoreConfig.at(store).withCreateIfMissing(create))) {
      if (signer == null) {
        signer = KeyFiles.ofStore(Optional.of(store));
      }
      Optional<String> refusal = AccessPolicy.open().writeRefusal(address, signer.verifyingKey());
      if (refusal.isPresent()) {
        throw new ReplikonException(ReplikonException.Reason.FORBIDDEN, "forbidden: "
            + refusal.get() + " (sign with that key: --key FILE)");
      }
      Author by = new Author(name, signer);
      CdvcsStore cdvcs = new CdvcsStore(opened);
      Cdvcs state;
      if (cdvcs.summary(address).isPresent()) {
        state = cdvcs.load(address);
      } else if (create) {
        state = Cdvcs.empty(address);
        cdvcs.write(state, Cdvcs.create(address, by, clock.millis()));
      } else {
        throw new ReplikonException(ReplikonException.Reason.UNKNOWN_ADDRESS, "no CDVCS at "
            + address + " in " + store + " (use --create to create it)");
      }
      Update update = state.transact(transactions, by, clock.millis());
      cdvcs.write(state, update);
      io.out().write((update.lastCommit().hex() + "\n").getBytes(StandardCharsets.UTF_8));
      io.out().flush();
      io.err().println("replikon transact: committed " + transactions.size()
          + " transactions to " + address + " as " + update.lastCommit().shortHex()
          + ", signed by " + signer.verifyingKey());
    }
    return 0;
  }

  /** Returns the transactions of stdin; reports each bad line, then fails if there was one. */
  private List<Transaction> readTransactions() throws IOException {
    byte[] input = io.in().readAllBytes();
    List<Transaction> out = new ArrayList<>();
    int bad = 0;
    int number = 0;
    int start = 0;
    while (start < input.length) {
      int end = start;
      while (end < input.length && input[end] != '\n') {
        end++;
      }
      number++;
      if (!JsonLineParser.isBlank(input, start, end - start)) {
        try {
          out.add(new Transaction(fn, parser.parse(input, start, end - start)));
        } catch (ReplikonException e) {
          bad++;
          io.err().println("replikon transact: line " + number + ": " + e.getMessage());
        }
      }
      start = end + 1;
    }
    if (bad > 0) {
      throw new ReplikonException(ReplikonException.Reason.INVALID_INPUT,
          bad + (bad == 1 ? " bad line" : " bad lines") + "; nothing committed");
    }
    return out;
  }
}
