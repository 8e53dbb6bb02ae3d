package io.replikon.cdvcs;

import io.replikon.trust.Signature;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an operation on a CDVCS adds: new commits, parents first, and the encoded values (commit
 * values and chunks) that come with them. It is both the downstream operation that peers exchange
 * and the unit that {@link CdvcsStore#write} persists in one atomic batch.
 *
 * <p>Applying an update is a join ({@link Cdvcs#apply}): idempotent, commutative and associative.
 * An update whose commits are all known is empty in effect.
 *
 * <p>Immutable; do not change the byte arrays.
 *
 * @param address the CDVCS the commits enter
 * @param commits the new commits with their parents, every parent before its children
 * @param commitValues encoded commit values by commit id; commits already stored may be absent
 * @param chunkValues encoded chunks by hash; chunks already stored may be absent
 */
public record Update(Address address, List<Entry> commits, Map<Hash, byte[]> commitValues,
    Map<Hash, byte[]> chunkValues) {

  /**
   * One commit of an update: its id and parents, as the commit graph needs them, and its signer's
   * signature of the id, which travels and is stored with the commit.
   *
   * @param id the commit id
   * @param parents its parents, first parent first
   * @param signature the signature of the id by the commit's {@link Commit#signer()}; checked by
   *     a peer that receives the commit, before it stores it
   */
  public record Entry(Hash id, List<Hash> parents, Signature signature) {
    /** Copies the parents. */
    public Entry {
      Objects.requireNonNull(id, "id");
      parents = List.copyOf(parents);
      Objects.requireNonNull(signature, "signature");
    }
  }

  /** Copies the collections. */
  public Update {
    Objects.requireNonNull(address, "address");
    commits = List.copyOf(commits);
    commitValues = Map.copyOf(commitValues);
    chunkValues = Map.copyOf(chunkValues);
  }

  /** Returns an update that adds nothing. */
  public static Update empty(Address address) {
    return new Update(address, List.of(), Map.of(), Map.of());
  }

  /** Returns true if the update names no commit. */
  public boolean isEmpty() {
    return commits.isEmpty();
  }

  /** Returns the id of the last commit: the new head of a commit, merge or fast-forward. */
  public Hash lastCommit() {
    if (commits.isEmpty()) {
      throw new IllegalStateException("an empty update has no last commit");
    }
    return commits.get(commits.size() - 1).id();
  }
}
