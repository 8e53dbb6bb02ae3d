package io.replikon.transport;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/** Builds the TLS contexts of servers and clients from PEM files. */
final class TlsContexts {
  private TlsContexts() {}

  static SslContext server(ServerConfig.Tls tls) {
    try {
      return SslContextBuilder
          .forServer(tls.certificateChain().toFile(), tls.privateKey().toFile()).build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "cannot use the TLS certificate "
          + tls.certificateChain() + " with the key " + tls.privateKey() + ": "
          + Failures.describe(Failures.rootCause(e)) + " (expected PEM files: the chain, and an"
          + " unencrypted PKCS#8 key)", e);
    }
  }

  /**
   * Returns the client context.
   *
   * @param trustCertificate a PEM file of certificates to trust, or null for the JDK's trust
   *     store
   */
  static SslContext client(Path trustCertificate) {
    try {
      SslContextBuilder builder = SslContextBuilder.forClient();
      if (trustCertificate != null) {
        builder.trustManager(trustCertificate.toFile());
      }
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ReplikonException(Reason.INVALID_INPUT, "cannot trust the certificate "
          + trustCertificate + ": " + Failures.describe(Failures.rootCause(e))
          + " (expected a PEM file of X.509 certificates)", e);
    }
  }
}
