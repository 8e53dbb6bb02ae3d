package io.replikon.client;

import io.replikon.cdvcs.CdvcsStore;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of a peer, for the status page and {@code /metrics}.
 *
 * @param peerId the peer's id
 * @param role {@code server} or {@code client}
 * @param key the name of the key that signs this peer's commits ({@code ed25519:...})
 * @param connections open connections
 * @param cdvcs the CDVCSs it holds, with heads and counts
 * @param counters monotonic counters: publishes, commits, fetches, refusals
 */
public record PeerStatus(String peerId, String role, String key, List<String> connections,
    List<CdvcsStore.Summary> cdvcs, Counters counters) {

  /** Copies the lists. */
  public PeerStatus {
    connections = List.copyOf(connections);
    cdvcs = List.copyOf(cdvcs);
  }

  /**
   * Counters since the peer started.
   *
   * @param connectionsOpened connections opened
   * @param commitsStored commits stored from peers and locally
   * @param publishesStored publishes that brought new commits
   * @param valuesFetched values received in fetch replies
   * @param bytesFetched bytes received in fetch replies
   * @param refusals connections closed for bad input or for passing a limit
   * @param internalErrors failures of this peer while handling a connection's messages (each
   *     closed that connection with an error {@code internal}; the peer went on)
   * @param storeFailures store writes or reads that failed on what a connection sent or asked
   *     for (each answered with an error {@code internal}; the connection stayed open)
   * @param forbidden publishes and read proofs refused as {@code forbidden}, by what for
   *     ({@code signature}, {@code writer}, {@code address}, {@code reader})
   */
  public record Counters(long connectionsOpened, long commitsStored, long publishesStored,
      long valuesFetched, long bytesFetched, long refusals, long internalErrors,
      long storeFailures, Map<String, Long> forbidden) {
    /** Copies the map, ordered by reason. */
    public Counters {
      forbidden = Collections.unmodifiableMap(new TreeMap<>(forbidden));
    }
  }
}
