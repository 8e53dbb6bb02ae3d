package io.replikon.cdvcs;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.storage.Batch;
import io.replikon.storage.Column;
import io.replikon.storage.Store;
import io.replikon.trust.Signature;
import io.replikon.value.Hash;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/*
 * Design note: how a CDVCS lies in the store.
 *
 *   COMMITS  commit id            -> canonical commit value
 *   SIGNATURES commit id          -> the signer's signature of the id (64 bytes)
 *   CHUNKS   chunk hash           -> canonical chunk (list of transactions)
 *   GRAPH    address key, pos     -> commit id, parent count, parent ids
 *   HEADS    address key          -> format, commit count, transaction count, heads
 *
 * Values are content-addressed and shared by every CDVCS that names them. The GRAPH entries of an
 * address are numbered in the order the commits entered (pos, 8 bytes big-endian), so one prefix
 * scan replays them parents first and rebuilds the commit graph without decoding a commit value.
 *
 * A write puts the new values, the new GRAPH entries and the new HEADS entry in one batch: after a
 * crash either all of it is there or none, so heads never name a commit that is not stored, and a
 * commit is never stored without the chunks it names. Before writing, every value that comes with
 * the update is re-hashed and checked against its id, and every chunk a new commit names must come
 * with the update or be stored already.
 */

/**
 * The CDVCSs held in a {@link Store}: load one, write updates to it atomically, read its commits
 * and transactions.
 *
 * <p>Thread safety: reads are thread-safe. Writes to one address must come from one thread at a
 * time (the owner of its {@link Cdvcs}); writes to different addresses may run concurrently. Every
 * call may block on the store.
 */
public final class CdvcsStore {
  private static final byte SUMMARY_FORMAT = 1;
  private final Store store;

  /** Wraps a store; the caller keeps ownership of it and closes it. */
  public CdvcsStore(Store store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /** Returns the underlying store. */
  public Store store() {
    return store;
  }

  /**
   * What the store keeps about one CDVCS, without loading its graph.
   *
   * @param address the address
   * @param heads its heads
   * @param commitCount how many commits it holds
   * @param transactionCount how many transactions those commits hold
   */
  public record Summary(Address address, Set<Hash> heads, long commitCount,
      long transactionCount) {
    /** Copies the heads. */
    public Summary {
      heads = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(heads));
    }
  }

  /** Returns the summaries of every CDVCS in the store, ordered by address key. */
  public List<Summary> list() {
    List<Summary> out = new ArrayList<>();
    store.scan(Column.HEADS, new byte[0], (key, value) -> {
      out.add(decodeSummary(Address.fromKey(key), value));
      return true;
    });
    return out;
  }

  /** Returns the summary of the CDVCS at {@code address}, or empty if the store holds none. */
  public Optional<Summary> summary(Address address) {
    return store.get(Column.HEADS, address.key()).map(v -> decodeSummary(address, v));
  }

  /**
   * Loads the CDVCS at {@code address}: its whole commit graph.
   *
   * @throws ReplikonException {@code UNKNOWN_ADDRESS} if the store holds no CDVCS there,
   *     {@code STORE_IO} if its index and heads disagree
   */
  public Cdvcs load(Address address) {
    Summary summary = summary(address).orElseThrow(() -> new ReplikonException(
        Reason.UNKNOWN_ADDRESS, "no CDVCS at " + address + " in " + store.describe()));
    CommitGraph graph = CommitGraph.withCapacity((int) Math.min(summary.commitCount(), 1 << 26));
    store.scan(Column.GRAPH, address.key(), (key, value) -> {
      ByteBuffer b = ByteBuffer.wrap(value);
      Hash id = readHash(b);
      int n = b.getShort() & 0xffff;
      List<Hash> parents = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        parents.add(readHash(b));
      }
      graph.add(id, parents);
      return true;
    });
    if (graph.size() != summary.commitCount() || !graph.heads().equals(summary.heads())) {
      throw new ReplikonException(Reason.STORE_IO, "the commit index of " + address + " in "
          + store.describe() + " holds " + graph.size() + " commits with heads " + graph.heads()
          + ", but its heads entry says " + summary.commitCount() + " commits with heads "
          + summary.heads());
    }
    return Cdvcs.of(address, graph);
  }

  /**
   * Persists {@code update} in one atomic batch, then applies it to {@code state}. Commits that
   * {@code state} holds already are skipped, so writing an update twice is harmless.
   *
   * @param state the CDVCS as it is stored now (from {@link #load} or {@link Cdvcs#empty} for a new
   *     address)
   * @return what changed: the new commits and the heads now
   * @throws ReplikonException {@code HASH_MISMATCH} if a value in the update does not hash to its
   *     id, {@code MISSING_CONTENT} if a new commit or a chunk it names is neither in the update nor
   *     stored, {@code MALFORMED_VALUE} if a commit value is not a commit or names other parents
   *     than its entry, {@code FORBIDDEN} if a new commit's signature does not verify against its
   *     signer, {@code ADDRESS_EXISTS} if a root is written over an existing CDVCS
   */
  public Cdvcs.Preview write(Cdvcs state, Update update) {
    return write(state, update, new Batch(), true);
  }

  /**
   * Persists {@code update} as {@link #write(Cdvcs, Update)} does, with the writes of
   * {@code alongside} in the same atomic batch: a caller's own record (a journal position, a
   * source cursor) is stored if and only if the commits are. When the update brings no new commit,
   * nothing is written, {@code alongside} included.
   *
   * @throws ReplikonException as {@link #write(Cdvcs, Update)}
   */
  public Cdvcs.Preview write(Cdvcs state, Update update, Batch alongside) {
    return write(state, update, alongside, true);
  }

  /**
   * As {@link #write(Cdvcs, Update)}, for a caller that has hashed every value of the update
   * itself and checked it against its id (a peer hashes what it receives as it arrives, and
   * {@link Chunk#split} hashes what it encodes), and checked every new commit's signature (a peer
   * checks them before it takes a publish): values are not hashed, nor signatures verified, a
   * second time. Every other check is made.
   */
  public Cdvcs.Preview writeVerified(Cdvcs state, Update update) {
    return write(state, update, new Batch(), false);
  }

  /** As {@link #writeVerified(Cdvcs, Update)}, with {@code alongside} in the same batch. */
  public Cdvcs.Preview writeVerified(Cdvcs state, Update update, Batch alongside) {
    return write(state, update, alongside, false);
  }

  private Cdvcs.Preview write(Cdvcs state, Update update, Batch alongside, boolean hashValues) {
    Cdvcs.Preview preview = state.preview(update);
    if (preview.newCommits().isEmpty()) {
      return preview;
    }
    Address address = state.address();
    Summary before = summary(address).orElse(null);
    if (before == null && state.size() > 0) {
      throw new IllegalStateException("state of " + address + " holds commits the store lacks");
    }
    if (before != null && state.size() == 0) {
      throw new ReplikonException(Reason.ADDRESS_EXISTS, "a CDVCS exists at " + address
          + " already; load it instead of starting from an empty state");
    }
    long position = before == null ? 0 : before.commitCount();
    long transactions = before == null ? 0 : before.transactionCount();
    Batch batch = new Batch();
    byte[] addressKey = address.key();
    for (Update.Entry entry : preview.newCommits()) {
      byte[] value = update.commitValues().get(entry.id());
      if (value != null) {
        if (hashValues) {
          verify(entry.id(), value, "commit");
        }
        batch.put(Column.COMMITS, entry.id().toBytes(), value);
      } else {
        value = store.get(Column.COMMITS, entry.id().toBytes()).orElseThrow(() ->
            new ReplikonException(Reason.MISSING_CONTENT, "commit " + entry.id()
                + " is neither in the update for " + address + " nor stored"));
      }
      Commit commit = Commit.decode(value);
      if (!commit.parents().equals(entry.parents())) {
        throw new ReplikonException(Reason.MALFORMED_VALUE, "commit " + entry.id()
            + " is announced with parents " + entry.parents() + " but its value names "
            + commit.parents());
      }
      if (hashValues && !commit.signer().verifiesCommit(entry.id(), entry.signature())) {
        throw new ReplikonException(Reason.FORBIDDEN, "commit " + entry.id().shortHex()
            + " does not carry a valid signature of its signer " + commit.signer());
      }
      batch.put(Column.SIGNATURES, entry.id().toBytes(), entry.signature().bytes());
      for (Hash chunkId : commit.chunks()) {
        byte[] chunk = update.chunkValues().get(chunkId);
        if (chunk != null) {
          if (hashValues) {
            verify(chunkId, chunk, "chunk");
          }
          batch.put(Column.CHUNKS, chunkId.toBytes(), chunk);
        } else {
          chunk = store.get(Column.CHUNKS, chunkId.toBytes()).orElseThrow(() ->
              new ReplikonException(Reason.MISSING_CONTENT, "chunk " + chunkId + " of commit "
                  + entry.id() + " is neither in the update nor stored"));
        }
        transactions += Chunk.countTransactions(chunk);
      }
      batch.put(Column.GRAPH, graphKey(addressKey, position++), graphEntry(entry));
    }
    batch.put(Column.HEADS, addressKey,
        encodeSummary(preview.heads(), position, transactions));
    for (Batch.Op op : alongside.ops()) {
      if (op.isDelete()) {
        batch.delete(op.column(), op.key());
      } else {
        batch.put(op.column(), op.key(), op.value());
      }
    }
    store.write(batch);
    state.apply(update);
    return preview;
  }

  /**
   * Returns a stored commit.
   *
   * @throws ReplikonException {@code MISSING_CONTENT} if it is not stored
   */
  public Commit commit(Hash id) {
    byte[] value = store.get(Column.COMMITS, id.toBytes()).orElseThrow(() ->
        new ReplikonException(Reason.MISSING_CONTENT, "commit " + id + " is not stored"));
    return Commit.decode(value);
  }

  /**
   * Returns the stored signature of a commit.
   *
   * @throws ReplikonException {@code MISSING_CONTENT} if none is stored, {@code STORE_IO} if what
   *     is stored is not a signature
   */
  public Signature signature(Hash id) {
    byte[] bytes = store.get(Column.SIGNATURES, id.toBytes()).orElseThrow(() ->
        new ReplikonException(Reason.MISSING_CONTENT, "no signature of commit " + id
            + " is stored"));
    if (bytes.length != Signature.BYTES) {
      throw new ReplikonException(Reason.STORE_IO, "the stored signature of commit " + id
          + " has " + bytes.length + " bytes, not " + Signature.BYTES + ": the store is damaged");
    }
    return Signature.of(bytes);
  }

  /**
   * Returns any stored content-addressed value (a commit value, a chunk or a blob) by its hash, or
   * empty: what a peer serves to a fetch.
   */
  public Optional<byte[]> value(Hash hash) {
    byte[] key = hash.toBytes();
    Optional<byte[]> found = store.get(Column.CHUNKS, key);
    if (found.isEmpty()) {
      found = store.get(Column.COMMITS, key);
    }
    if (found.isEmpty()) {
      found = store.get(Column.BLOBS, key);
    }
    return found;
  }

  /** Returns true if a content-addressed value with this hash is stored. */
  public boolean hasValue(Hash hash) {
    byte[] key = hash.toBytes();
    return store.contains(Column.CHUNKS, key) || store.contains(Column.COMMITS, key)
        || store.contains(Column.BLOBS, key);
  }

  /** Returns the stored encoding of a chunk, or empty. */
  public Optional<byte[]> chunk(Hash id) {
    return store.get(Column.CHUNKS, id.toBytes());
  }

  /**
   * Returns the transactions of a commit, in order.
   *
   * @throws ReplikonException {@code MISSING_CONTENT} if a chunk is not stored
   */
  public List<Transaction> transactions(Commit commit) {
    List<Transaction> out = new ArrayList<>();
    for (Hash chunkId : commit.chunks()) {
      out.addAll(Chunk.decode(requireChunk(chunkId)));
    }
    return out;
  }

  /**
   * Returns the number of transactions in a commit, read from its chunks' headers.
   *
   * @throws ReplikonException {@code MISSING_CONTENT} if a chunk is not stored
   */
  public int transactionCount(Commit commit) {
    int n = 0;
    for (Hash chunkId : commit.chunks()) {
      n += Chunk.countTransactions(requireChunk(chunkId));
    }
    return n;
  }

  private byte[] requireChunk(Hash id) {
    return chunk(id).orElseThrow(() ->
        new ReplikonException(Reason.MISSING_CONTENT, "chunk " + id + " is not stored"));
  }

  private static void verify(Hash id, byte[] value, String what) {
    Hash actual = Hash.sha256(value);
    if (!actual.equals(id)) {
      throw new ReplikonException(Reason.HASH_MISMATCH,
          what + " " + id + " does not match its content, which hashes to " + actual);
    }
  }

  private static byte[] graphKey(byte[] addressKey, long position) {
    byte[] key = Arrays.copyOf(addressKey, addressKey.length + 8);
    ByteBuffer.wrap(key, addressKey.length, 8).putLong(position);
    return key;
  }

  private static byte[] graphEntry(Update.Entry entry) {
    if (entry.parents().size() > 0xffff) {
      throw new ReplikonException(Reason.INVALID_INPUT,
          "commit " + entry.id() + " has more than 65535 parents");
    }
    ByteBuffer b = ByteBuffer.allocate(Hash.BYTES + 2 + Hash.BYTES * entry.parents().size());
    b.put(entry.id().toBytes()).putShort((short) entry.parents().size());
    for (Hash p : entry.parents()) {
      b.put(p.toBytes());
    }
    return b.array();
  }

  private static byte[] encodeSummary(Set<Hash> heads, long commits, long transactions) {
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 2 + Hash.BYTES * heads.size());
    b.put(SUMMARY_FORMAT).putLong(commits).putLong(transactions).putShort((short) heads.size());
    for (Hash h : heads) {
      b.put(h.toBytes());
    }
    return b.array();
  }

  private static Summary decodeSummary(Address address, byte[] value) {
    ByteBuffer b = ByteBuffer.wrap(value);
    if (value.length < 19 || b.get() != SUMMARY_FORMAT) {
      throw new ReplikonException(Reason.STORE_VERSION,
          "the heads entry of " + address + " has an unknown format");
    }
    long commits = b.getLong();
    long transactions = b.getLong();
    int n = b.getShort() & 0xffff;
    Set<Hash> heads = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      heads.add(readHash(b));
    }
    return new Summary(address, heads, commits, transactions);
  }

  private static Hash readHash(ByteBuffer b) {
    Hash h = new Hash(b.getLong(), b.getLong(), b.getLong(), b.getLong());
    return h;
  }
}
