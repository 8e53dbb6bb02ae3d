package io.replikon.client.realize;

import io.replikon.cdvcs.Address;
import io.replikon.value.Hash;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CDVCS with several heads, as reported to {@link Realizer.Builder#onConflict}. Realization does
 * not stop for it: every side is realized, in the common order.
 *
 * @param address the CDVCS
 * @param heads its heads
 * @param lowestCommonAncestors the lowest common ancestors of each pair of heads, distinct, in the
 *     order found
 * @param sides for each head, the commits reachable from it and from no other head (what that
 *     side did since the sides split), parents first
 */
public record Conflict(Address address, Set<Hash> heads, List<Hash> lowestCommonAncestors,
    Map<Hash, List<Hash>> sides) {
  /** Copies the collections. */
  public Conflict {
    heads = Set.copyOf(heads);
    lowestCommonAncestors = List.copyOf(lowestCommonAncestors);
    sides = Map.copyOf(sides);
  }
}
