package io.replikon.storage;

/**
 * The kinds of entry a store holds. Each is a key space of its own (a RocksDB column family), so
 * the same key bytes may be used in two columns without clashing.
 *
 * <p>Content-addressed columns ({@link #COMMITS}, {@link #CHUNKS}, {@link #BLOBS}) hold immutable
 * entries keyed by their hash: writing one twice is harmless. The others hold what changes.
 */
public enum Column {
  /** Commit values and the commit index, keyed by commit id. */
  COMMITS("commits"),
  /**
   * The signature of each commit (64 bytes), keyed by commit id: checked when the commit came in,
   * sent with it to every peer it is offered to.
   */
  SIGNATURES("signatures"),
  /** Chunks of transactions and other small values, keyed by hash. */
  CHUNKS("chunks"),
  /** Large binary values, keyed by hash; stored apart from the small entries. */
  BLOBS("blobs"),
  /**
   * The commit index of each CRDT: (address, position) to the commit id, its parents and what the
   * index keeps about it, in the order commits entered, so a prefix scan yields parents first.
   */
  GRAPH("graph"),
  /** The heads of each CRDT, keyed by address. */
  HEADS("heads"),
  /** Peer metadata: identity, subscriptions, configuration. */
  META("meta"),
  /** Applied-logs of realizers. */
  APPLIED("applied");

  private final String id;

  Column(String id) {
    this.id = id;
  }

  /** Returns the stable name of this column, as stored on disk. */
  public String id() {
    return id;
  }
}
