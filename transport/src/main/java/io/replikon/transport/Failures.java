package io.replikon.transport;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.protocol.Printable;
import java.net.URI;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;

/** Turns Netty and JDK failures into sentences and {@link ReplikonException}s. */
final class Failures {
  private Failures() {}

  /** Returns a short description of a failure: its message, or its class if it has none. */
  static String describe(Throwable t) {
    if (t == null) {
      return "unknown cause";
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }

  /** Returns {@link #describe} made fit for one log line (see {@link #oneLine}). */
  static String brief(Throwable t) {
    return oneLine(describe(t));
  }

  /**
   * Returns text fit for one log line ({@link Printable#of}): control characters (a peer's line
   * breaks among them) escaped, and cut to {@value Printable#DEFAULT_MAX} characters.
   */
  static String oneLine(String text) {
    return Printable.of(text);
  }

  /** Returns true if the failure, or one that caused it, is about a certificate. */
  static boolean isCertificateFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CertificateException || c instanceof SSLHandshakeException
          && String.valueOf(c.getMessage()).contains("PKIX")) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /** Returns the exception that fails a connect to {@code uri}. */
  static ReplikonException connectFailure(URI uri, Throwable cause) {
    if (isCertificateFailure(cause)) {
      return new ReplikonException(Reason.CONNECTION, "could not connect to " + uri
          + ": the server's certificate was not trusted (" + describe(rootCause(cause))
          + "); to trust a self-signed peer, give its certificate as a PEM file in"
          + " ClientConfig.trustCertificate, or add it to the JDK trust store", cause);
    }
    return new ReplikonException(Reason.CONNECTION, "could not connect to " + uri + ": "
        + describe(cause), cause);
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }
}
