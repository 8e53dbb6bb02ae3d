package io.replikon.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Transaction;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.trust.SigningKey;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a store holding one CDVCS of N commits of one tweet each, signed by a new key: the
 * history whose catch-up by a fresh {@code replikon stream} process {@code catchup-process.sh}
 * times, where the cost per commit (an Ed25519 verification) is not hidden by large commits.
 *
 * <p>Usage: {@code SmallCommitStore DIR USER/UUID N}.
 */
public final class SmallCommitStore {
  private SmallCommitStore() {}

  /** Writes the store. */
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: SmallCommitStore DIR USER/UUID N");
      System.exit(2);
    }
    Address address = Address.parse(args[1]);
    int n = Integer.parseInt(args[2]);
    Author author = new Author(address.user(), SigningKey.generate());
    try (Store store = Stores.open(StoreConfig.at(Path.of(args[0])).withCreateIfMissing(true))) {
      CdvcsStore cdvcs = new CdvcsStore(store);
      Cdvcs state = Cdvcs.empty(address);
      cdvcs.write(state, Cdvcs.create(address, author, 1));
      for (int i = 0; i < n; i++) {
        cdvcs.write(state, state.transact(List.of(new Transaction("add-tweet",
            JsonNodeFactory.instance.objectNode().put("id", i + 1).put("text", "tweet " + i))),
            author, 2 + i));
      }
    }
  }
}
