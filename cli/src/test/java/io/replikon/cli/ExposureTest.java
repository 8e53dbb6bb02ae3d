package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Which hosts count as beyond loopback, and what the protected default then asks for. */
class ExposureTest {
  private final CommandSpec spec = CommandSpec.create().name("peer");

  ExposureTest() {
    new CommandLine(spec);
  }

  @Test
  void loopback_inAnySpelling_isNotExposed() throws Exception {
    for (String host : new String[] {"127.0.0.1", "127.0.0.2", "localhost", "::1",
        "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
      assertThat(Exposure.beyondLoopback(host)).as(host).isEmpty();
    }
  }

  @Test
  void wildcardsAndOtherAddresses_areExposed() throws Exception {
    for (String host : new String[] {"0.0.0.0", "::", "0:0:0:0:0:0:0:0", "10.1.2.3",
        "192.168.0.7", "2001:db8::1"}) {
      assertThat(Exposure.beyondLoopback(host)).as(host).isPresent();
    }
  }

  @Test
  void beyondLoopback_refusedWithoutWritersOrOpen_namingBoth() {
    assertThatThrownBy(() -> Exposure.requireWritersOrOpen(spec, "0.0.0.0", null, false))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("refusing to listen on 0.0.0.0")
        .hasMessageContaining("--writers FILE").hasMessageContaining("--open");
    Exposure.requireWritersOrOpen(spec, "0.0.0.0", null, true);
    Exposure.requireWritersOrOpen(spec, "0.0.0.0", Path.of("writers"), false);
    Exposure.requireWritersOrOpen(spec, "127.0.0.1", null, false);
    Exposure.requireWritersOrOpen(spec, "127.0.0.1", null, true);
  }

  @Test
  void aHostName_isShownWithTheAddressItResolvedTo() throws Exception {
    InetAddress lan = InetAddress.getByName("10.1.2.3");
    assertThat(Exposure.describe("peer.example", lan)).isEqualTo("peer.example (10.1.2.3)");
    assertThat(Exposure.describe("10.1.2.3", lan)).isEqualTo("10.1.2.3");
    assertThat(Exposure.describe("::", InetAddress.getByName("::"))).isEqualTo("::");
  }
}
