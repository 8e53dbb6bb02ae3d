package io.replikon.client.realize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AppliedLogTest {
  static Hash h(String s) {
    return Hash.sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void advance_replacesParentsByTheCommit_likeHeads() {
    AppliedLog log = AppliedLog.EMPTY.advance(h("root"), List.of())
        .advance(h("a"), List.of(h("root")))
        .advance(h("b"), List.of(h("root")));
    assertThat(log.frontier()).containsExactlyInAnyOrder(h("a"), h("b"));
    AppliedLog merged = log.advance(h("m"), List.of(h("a"), h("b")));
    assertThat(merged.frontier()).containsExactly(h("m"));
    assertThat(merged.partial()).isEmpty();
  }

  @Test
  void encode_roundTrips_withAndWithoutPartial() {
    AppliedLog full = new AppliedLog(Set.of(h("a"), h("b")), Optional.empty());
    AppliedLog partial = full.within(h("c"), 3);
    assertThat(AppliedLog.decode(full.encode())).isEqualTo(full);
    assertThat(AppliedLog.decode(partial.encode())).isEqualTo(partial);
    assertThat(AppliedLog.decode(AppliedLog.EMPTY.encode())).isEqualTo(AppliedLog.EMPTY);
    assertThat(new AppliedLog(Set.of(h("b"), h("a")), Optional.empty()).encode())
        .as("canonical: the order of the frontier does not matter").isEqualTo(full.encode());
  }

  @Test
  void decode_rejectsWhatIsNotALog() {
    assertThatThrownBy(() -> AppliedLog.decode(new byte[] {(byte) 0xa0}))
        .isInstanceOf(ReplikonException.class)
        .extracting(e -> ((ReplikonException) e).reason())
        .isEqualTo(ReplikonException.Reason.MALFORMED_VALUE);
  }
}
