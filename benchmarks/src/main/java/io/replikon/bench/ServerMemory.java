package io.replikon.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Author;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.cdvcs.Update;
import io.replikon.client.Peer;
import io.replikon.client.PeerConfig;
import io.replikon.storage.Durability;
import io.replikon.storage.Store;
import io.replikon.storage.StoreConfig;
import io.replikon.storage.Stores;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Heap of a server peer holding 1,000,000 commits over 10 addresses, every address loaded.
 *
 * <p>First writes the history straight into a RocksDB store in a temporary directory with
 * {@link CdvcsStore#write} ({@link Durability#NONE}, batches of 1,000 linear commits of one small
 * transaction each; not timed as part of the peer), closes it, then starts a server {@link Peer}
 * on it and calls {@code heads()} on each address, which loads its whole commit graph (timed).
 * Prints the used heap after full GCs before the peer starts and with it running and loaded.
 *
 * <p>Run: {@code java -Xmx512m -cp benchmarks/target/benchmarks.jar io.replikon.bench.ServerMemory
 * [addresses] [commitsPerAddress]} (default 10 100000).
 */
public final class ServerMemory {
  private ServerMemory() {}

  public static void main(String[] args) throws Exception {
    int addresses = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int perAddress = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    Path dir = Files.createTempDirectory("replikon-bench-memory");
    try {
      List<Address> list = new ArrayList<>();
      long t0 = System.nanoTime();
      try (Store store = Stores.open(StoreConfig.at(dir).withDurability(Durability.NONE))) {
        CdvcsStore cdvcs = new CdvcsStore(store);
        for (int i = 0; i < addresses; i++) {
          Address address = new Address("bench@replikon.io",
              new UUID(0x1234_5678_9abc_4defL, 0x8000_0000_0000_0000L | i));
          list.add(address);
          build(cdvcs, address, perAddress);
        }
        store.sync();
      }
      double buildSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("wrote %,d addresses x %,d commits in %.1f s%n", addresses, perAddress,
          buildSeconds);

      long before = usedAfterGc();
      long t1 = System.nanoTime();
      try (Peer peer = Peer.start(PeerConfig.server(dir).withPeerId("memory"))) {
        double startSeconds = (System.nanoTime() - t1) / 1e9;
        long commits = 0;
        for (Address a : list) {
          Set<Hash> heads = peer.heads(a).get(300, TimeUnit.SECONDS);
          if (heads.size() != 1) {
            throw new IllegalStateException(a + " has heads " + heads);
          }
        }
        double loadSeconds = (System.nanoTime() - t1) / 1e9;
        for (var s : peer.status().get().cdvcs()) {
          commits += s.commitCount();
        }
        long loaded = usedAfterGc();
        MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
        System.out.println();
        System.out.printf("server peer, %,d addresses, %,d commits in all, -Xmx %,d MB%n",
            list.size(), commits, Runtime.getRuntime().maxMemory() >> 20);
        System.out.printf("%-46s %12s%n", "", "value");
        System.out.printf("%-46s %9.1f MB%n", "used heap after GC, before the peer starts",
            before / 1e6);
        System.out.printf("%-46s %9.1f MB%n", "used heap after GC, peer up, all loaded",
            loaded / 1e6);
        System.out.printf("%-46s %9.1f MB (%.0f B a commit)%n", "  difference",
            (loaded - before) / 1e6, (double) (loaded - before) / commits);
        System.out.printf("%-46s %9.1f MB%n", "committed heap (MemoryMXBean)",
            mx.getHeapMemoryUsage().getCommitted() / 1e6);
        System.out.printf("%-46s %9.2f s%n", "peer start (store open, listener)", startSeconds);
        System.out.printf("%-46s %9.2f s (%,.0f commits/s)%n", "start + load every address",
            loadSeconds, commits / loadSeconds);
        System.out.printf("target: under 512 MB heap: %s%n",
            loaded < 512L * 1024 * 1024 ? "MET" : "MISSED");
      }
    } finally {
      ReplicationThroughput.delete(dir);
    }
  }

  /** Writes a CDVCS of {@code commits} commits (the root included) in batches of 1,000. */
  private static void build(CdvcsStore store, Address address, int commits) {
    Cdvcs state = Cdvcs.empty(address);
    Author author = new Author("bench", SigningKey.generate());
    Update root = Cdvcs.create(address, author, 1_600_000_000_000L);
    store.write(state, root);
    Hash head = root.lastCommit();
    int written = 1;
    while (written < commits) {
      int n = Math.min(1_000, commits - written);
      List<Update.Entry> entries = new ArrayList<>(n);
      Map<Hash, byte[]> commitValues = new HashMap<>();
      Map<Hash, byte[]> chunkValues = new HashMap<>();
      for (int i = 0; i < n; i++) {
        int seq = written + i;
        List<Chunk> chunks = Chunk.split(List.of(new Transaction("add",
            JsonNodeFactory.instance.objectNode().put("n", seq).put("text", "commit " + seq))));
        List<Hash> chunkIds = new ArrayList<>();
        for (Chunk c : chunks) {
          chunkIds.add(c.id());
          chunkValues.put(c.id(), c.bytes());
        }
        Commit commit = new Commit(List.of(head), chunkIds, "bench",
            1_600_000_000_000L + seq, address, author.key().verifyingKey());
        byte[] value = commit.encode();
        Hash id = Hash.sha256(value);
        entries.add(new Update.Entry(id, List.of(head), author.key().signCommit(id)));
        commitValues.put(id, value);
        head = id;
      }
      store.write(state, new Update(address, entries, commitValues, chunkValues));
      written += n;
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, mx.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
