package io.replikon.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.replikon.cdvcs.Address;
import io.replikon.cdvcs.Cdvcs;
import io.replikon.cdvcs.CdvcsStore;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Update;
import io.replikon.peer.SimNetwork.SimPeer;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.Role;
import io.replikon.testkit.TestKeys;
import io.replikon.trust.Challenge;
import io.replikon.trust.KeyList;
import io.replikon.trust.Signature;
import io.replikon.trust.SigningKey;
import io.replikon.value.Hash;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A writer, a relay and a sink in a row on a simulated network: the relay changes the commits of
 * one address before it forwards them to the sink, which must refuse them and store nothing of
 * them, while the other address, forwarded untouched, gets through; once the relay forwards
 * honestly, the first gets through too.
 */
class TamperingRelayTest {
  static final Address TAMPERED = new Address("alice", new UUID(5, 1));
  static final Address UNTOUCHED = new Address("alice", new UUID(5, 2));
  static final SigningKey MALLORY = TestKeys.key("mallory");

  /** What the relay does to the commits of {@link #TAMPERED} it forwards. */
  enum Tampering {
    /** Flips a bit of each signature. */
    ALTER_SIGNATURE("SIGNATURE"),
    /** Sends each commit without its signature (64 zero bytes). */
    STRIP_SIGNATURE("SIGNATURE"),
    /** Gives each commit the signature of another commit of the same publish. */
    SWAP_SIGNATURES("SIGNATURE"),
    /** Puts its own commit, signed by its own key, in place of the head. */
    RESIGN_HEAD("WRITER");

    final String refusedAs;

    Tampering(String refusedAs) {
      this.refusedAs = refusedAs;
    }
  }

  @ParameterizedTest
  @EnumSource(Tampering.class)
  void relayThatTampers_isRefusedByTheNextPeer_andTheHonestPathStillWorks(Tampering how) {
    SimNetwork net = new SimNetwork(how.ordinal());
    AccessPolicy sinkPolicy = new AccessPolicy(Optional.of(KeyList.parse("alice "
        + TestKeys.ALICE.key().verifyingKey() + "\n", "writers", false)), Optional.empty());
    SimPeer writer = net.peer("writer", Role.CLIENT);
    SimPeer relay = net.peer("relay", Role.SERVER);
    SimPeer sink = net.peer("sink", Role.SERVER, new EngineConfig.Trust(TestKeys.key("sink"),
        () -> sinkPolicy, Challenge::random));
    for (Address a : List.of(TAMPERED, UNTOUCHED)) {
      writer.engine.submit(Cdvcs.create(a, TestKeys.ALICE, 0));
      for (int i = 0; i < 4; i++) {
        writer.engine.submit(writer.engine.state(a).orElseThrow().transact(
            List.of(PeerEngineTest.tx(a.id() + " " + i)), TestKeys.ALICE, i + 1));
      }
    }
    List<Message.Publish> tampered = new ArrayList<>();
    relay.tamper = (to, m) -> {
      if (to == sink && m instanceof Message.Publish p && p.address().equals(TAMPERED)
          && !p.commits().isEmpty()) {
        Message.Publish changed = tamper(p, how);
        tampered.add(changed);
        return changed;
      }
      return m;
    };
    net.connect(writer, relay);
    net.connect(relay, sink);
    int ran = net.run(20_000);
    assertThat(net.idle()).as("settled after %d events: a refused history is not offered over"
        + " and over", ran).isTrue();

    assertThat(tampered).as("the relay forwarded %s", TAMPERED).isNotEmpty();
    assertThat(heads(relay, TAMPERED)).as("the relay itself holds the true history")
        .isEqualTo(heads(writer, TAMPERED));
    assertThat(sink.forbidden).as("refused at the sink").isNotEmpty()
        .allMatch(f -> f.startsWith(how.refusedAs + ": "), how.refusedAs);
    assertThat(new CdvcsStore(sink.store).summary(TAMPERED)).as("nothing of it stored")
        .isEmpty();
    assertThat(heads(sink, UNTOUCHED)).as("the untouched address got through the same relay")
        .isEqualTo(heads(writer, UNTOUCHED));
    assertThat(net.connected(relay, sink)).as("the link stays").isTrue();
    assertThat(net.log).as("no link was closed").noneMatch(l -> l.contains("closed"));

    // the relay turns honest; on a new connection it offers the address again
    relay.tamper = (to, m) -> m;
    net.cut(relay, sink);
    net.connect(relay, sink);
    net.run(20_000);
    assertThat(net.idle()).isTrue();
    assertThat(heads(sink, TAMPERED)).isEqualTo(heads(writer, TAMPERED));
    assertThat(new CdvcsStore(sink.store).summary(TAMPERED).orElseThrow().commitCount())
        .isEqualTo(5);
  }

  static Set<Hash> heads(SimPeer p, Address a) {
    return p.engine.state(a).map(Cdvcs::heads).orElse(Set.of());
  }

  static Message.Publish tamper(Message.Publish p, Tampering how) {
    List<Update.Entry> entries = p.commits();
    return switch (how) {
      case ALTER_SIGNATURE -> withSignatures(p, e -> {
        byte[] b = e.signature().bytes();
        b[17] ^= 0x04;
        return Signature.of(b);
      });
      case STRIP_SIGNATURE -> withSignatures(p, e -> Signature.of(new byte[Signature.BYTES]));
      case SWAP_SIGNATURES -> {
        List<Update.Entry> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
          Update.Entry e = entries.get(i);
          Update.Entry donor = entries.get((i + 1) % entries.size());
          // a publish of one commit gets a signature by the same key of another commit
          Signature s = donor != e ? donor.signature()
              : TestKeys.ALICE.key().signCommit(Hash.sha256(e.id().toBytes()));
          out.add(new Update.Entry(e.id(), e.parents(), s));
        }
        yield new Message.Publish(p.id(), p.address(), out, p.heads(), p.values());
      }
      case RESIGN_HEAD -> resignHead(p);
    };
  }

  static Message.Publish withSignatures(Message.Publish p,
      java.util.function.Function<Update.Entry, Signature> signature) {
    return new Message.Publish(p.id(), p.address(), p.commits().stream()
        .map(e -> new Update.Entry(e.id(), e.parents(), signature.apply(e))).toList(),
        p.heads(), p.values());
  }

  /**
   * Replaces the last commit (a head) by one with the same parents, chunks, author and time,
   * signed by mallory's key: a valid signature, of a commit alice never made.
   */
  static Message.Publish resignHead(Message.Publish p) {
    List<Update.Entry> entries = new ArrayList<>(p.commits());
    Update.Entry last = entries.get(entries.size() - 1);
    byte[] value = p.values().get(last.id());
    assertThat(value).as("the head's value travels inline").isNotNull();
    Commit c = Commit.decode(value);
    Commit forged = new Commit(c.parents(), c.chunks(), c.author(), c.ts(), c.address(),
        MALLORY.verifyingKey());
    byte[] forgedValue = forged.encode();
    Hash id = Hash.sha256(forgedValue);
    entries.set(entries.size() - 1, new Update.Entry(id, last.parents(),
        MALLORY.signCommit(id)));
    Map<Hash, byte[]> values = new LinkedHashMap<>(p.values());
    values.remove(last.id());
    values.put(id, forgedValue);
    Set<Hash> heads = new LinkedHashSet<>(p.heads());
    UnaryOperator<Hash> swap = h -> h.equals(last.id()) ? id : h;
    return new Message.Publish(p.id(), p.address(), entries,
        new LinkedHashSet<>(heads.stream().map(swap).toList()), values);
  }
}
