package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Message;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** wss with a self-signed certificate given to the server and the client as PEM files. */
class TlsTest {
  @TempDir
  Path dir;

  private final Recorder serverSide = Recorder.echoing();
  private final Recorder clientSide = Recorder.recording();
  private SelfSignedCertificate certificate;
  private Path certPem;
  private PeerServer server;

  @BeforeEach
  void start() throws Exception {
    certificate = new SelfSignedCertificate("localhost");
    certPem = Files.copy(certificate.certificate().toPath(), dir.resolve("cert.pem"));
    Path keyPem = Files.copy(certificate.privateKey().toPath(), dir.resolve("key.pem"));
    server = Transports.server(ServerConfig.defaults().withTls(certPem, keyPem), serverSide);
  }

  @AfterEach
  void stop() {
    server.close();
    certificate.delete();
    serverSide.assertContractKept();
    clientSide.assertContractKept();
  }

  private URI uri() {
    return URI.create("wss://localhost:" + server.port() + Message.PATH);
  }

  @Test
  void connect_trustingTheCertificate_roundTrips() throws Exception {
    try (PeerClient client =
        Transports.client(ClientConfig.defaults().withTrustCertificate(certPem))) {
      Connection c = client.connect(uri(), clientSide).get(20, TimeUnit.SECONDS);
      c.send(Samples.ping(1)).get(20, TimeUnit.SECONDS);
      assertThat(clientSide.awaitReceived(c, 1)).containsExactly(Samples.ping(1));
    }
  }

  @Test
  void connect_withoutTrust_failsSayingHowToTrust() {
    try (PeerClient client = Transports.client(ClientConfig.defaults())) {
      assertThatThrownBy(() -> client.connect(uri(), clientSide).join())
          .cause().isInstanceOf(ReplikonException.class)
          .satisfies(e -> assertThat(((ReplikonException) e).reason())
              .isEqualTo(Reason.CONNECTION))
          .hasMessageContaining(uri().toString())
          .hasMessageContaining("certificate was not trusted")
          .hasMessageContaining("ClientConfig.trustCertificate");
    }
    assertThat(clientSide.openedCount()).isZero();
    assertThat(serverSide.openedCount()).isZero();
  }

  @Test
  void connect_plainWsToTlsServer_fails() {
    URI plain = URI.create("ws://localhost:" + server.port() + Message.PATH);
    try (PeerClient client = Transports.client(ClientConfig.defaults())) {
      assertThatThrownBy(() -> client.connect(plain, clientSide).join())
          .cause().isInstanceOf(ReplikonException.class)
          .hasMessageContaining(plain.toString());
    }
    assertThat(serverSide.openedCount()).isZero();
  }
}
