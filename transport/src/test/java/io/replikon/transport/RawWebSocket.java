package io.replikon.transport;

import io.replikon.protocol.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client written by hand over a plain socket, for tests that behave as no Netty
 * client would: it completes the handshake and then writes what it likes and reads nothing.
 */
final class RawWebSocket implements AutoCloseable {
  static final String UPGRADE = "GET " + Message.PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      + "Sec-WebSocket-Protocol: " + Message.SUBPROTOCOL + "\r\n\r\n";

  private final Socket socket;

  private RawWebSocket(Socket socket) {
    this.socket = socket;
  }

  /**
   * Connects with a small receive buffer (so that what it does not read piles up at the server
   * soon) and completes the handshake.
   */
  static RawWebSocket open(int port) throws IOException {
    Socket s = new Socket();
    s.setReceiveBufferSize(4096);
    s.setSoTimeout((int) Recorder.WAIT.toMillis());
    s.connect(new InetSocketAddress("127.0.0.1", port));
    RawWebSocket ws = new RawWebSocket(s);
    ws.out().write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
    ws.out().flush();
    String head = ws.readHead();
    if (!head.startsWith("HTTP/1.1 101 ")) {
      s.close();
      throw new IOException("the handshake failed: " + head);
    }
    return ws;
  }

  /** Reads up to the end of an HTTP response head, a byte at a time (so no more than it). */
  private String readHead() throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      byte[] h = head.toByteArray();
      int n = h.length;
      if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
        break;
      }
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  OutputStream out() throws IOException {
    return socket.getOutputStream();
  }

  /** Returns {@code count} masked pings with a payload of {@code size} bytes, back to back. */
  static byte[] pings(int count, int size) {
    byte[] one = new byte[2 + 4 + size];
    one[0] = (byte) 0x89; // FIN, opcode ping
    one[1] = (byte) (0x80 | size); // masked (clients must mask), payload length
    // A zero masking key leaves the payload as it is.
    byte[] all = new byte[one.length * count];
    for (int i = 0; i < count; i++) {
      System.arraycopy(one, 0, all, i * one.length, one.length);
    }
    return all;
  }

  int localPort() {
    return socket.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
