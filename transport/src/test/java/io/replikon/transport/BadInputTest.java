package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.replikon.protocol.Message;
import io.replikon.protocol.Message.ErrorCode;
import io.replikon.value.CanonicalCbor;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Bad input over real sockets: each time the server answers what it can, closes that connection,
 * logs one WARN line naming the remote, never passes the bad frame on, and keeps serving a
 * healthy connection that was opened before.
 */
class BadInputTest {
  private static final int MAX_FRAME = 64 * 1024;

  private final Recorder serverSide = Recorder.echoing();
  private final Recorder healthySide = Recorder.recording();
  private final Recorder badSide = Recorder.recording();
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger handlerLog = (Logger) LoggerFactory.getLogger(PeerFrameHandler.class);
  private PeerServer server;
  private PeerClient client;
  private Connection healthy;
  private Connection healthyAtServer;

  @BeforeEach
  void start() throws Exception {
    log.start();
    handlerLog.addAppender(log);
    // With permessage-deflate on both sides, so the inflate cap is tested too.
    server = Transports.server(ServerConfig.defaults().withMaxFrameBytes(MAX_FRAME)
        .withCompression(true), serverSide);
    client = Transports.client(ClientConfig.defaults().withCompression(true));
    healthy = client.connect(uri(), healthySide).get(20, TimeUnit.SECONDS);
    healthyAtServer = serverSide.nextOpened();
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
    handlerLog.detachAppender(log);
    serverSide.assertContractKept();
    healthySide.assertContractKept();
    badSide.assertContractKept();
  }

  private URI uri() {
    return URI.create("ws://127.0.0.1:" + server.port() + Message.PATH);
  }

  @Test
  void receive_malformedCbor_answersErrorAndCloses() throws Exception {
    String reason = sendBad(ErrorCode.MALFORMED, binary(new byte[] {(byte) 0xa2, 0x64, 'k', 'i'}));
    assertThat(reason).startsWith("malformed: ");
  }

  @Test
  void receive_cborThatIsNotAMap_answersErrorAndCloses() throws Exception {
    String reason = sendBad(ErrorCode.MALFORMED, binary(new byte[] {0x18, 0x2a}));
    assertThat(reason).contains("a message is a map");
  }

  @Test
  void receive_textFrame_answersErrorAndCloses() throws Exception {
    String reason = sendBad(ErrorCode.MALFORMED, new TextWebSocketFrame("{\"kind\":\"hello\"}"));
    assertThat(reason).contains("text frame");
  }

  @Test
  void receive_unknownKind_answersErrorAndCloses() throws Exception {
    ObjectNode bogus = JsonNodeFactory.instance.objectNode().put("kind", "bogus").put("id", 1);
    String reason = sendBad(ErrorCode.UNKNOWN_KIND, binary(CanonicalCbor.encode(bogus)));
    assertThat(reason).startsWith("unknown-kind: ").contains("bogus");
  }

  @Test
  void receive_unknownKindWithLineBreaksAndLength_isLoggedOnOneShortLine() throws Exception {
    String kind = "bogus\n12:00:00 WARN forged line\n" + "x".repeat(10_000);
    ObjectNode bogus = JsonNodeFactory.instance.objectNode().put("kind", kind).put("id", 1);
    String reason = sendBad(ErrorCode.UNKNOWN_KIND, binary(CanonicalCbor.encode(bogus)));
    assertThat(reason).doesNotContain("\n").hasSizeLessThan(300);
  }

  @Test
  void receive_publishWithAValueThatDoesNotHashToItsId_answersHashMismatchAndCloses()
      throws Exception {
    Message.Publish honest = (Message.Publish) Samples.of(Message.Kind.PUBLISH);
    Message.Publish forged = new Message.Publish(honest.id(), honest.address(), honest.commits(),
        honest.heads(), java.util.Map.of(Samples.H2, "not two".getBytes(StandardCharsets.UTF_8)));
    String reason = sendBad(ErrorCode.HASH_MISMATCH,
        binary(io.replikon.protocol.MessageCodec.encode(forged)));
    assertThat(reason).startsWith("hash-mismatch: ").contains(Samples.H2.toString());
  }

  @Test
  void receive_frameOverTheLimit_closesWithTooLarge() throws Exception {
    byte[] big = new byte[100 * 1024];
    new Random(3).nextBytes(big);
    // The server stops reading mid-frame, so the error may not reach the client before the
    // socket goes: the client only has to see the connection close.
    String reason = sendBad(null, binary(big));
    assertThat(reason).startsWith("too-large: ");
  }

  @Test
  void receive_compressibleMessageOverTheLimit_isRefusedAfterInflating() throws Exception {
    // 100 KiB of zeros deflate to a small frame: the frame limit passes it, the inflate cap not.
    String reason = sendBad(null, binary(new byte[100 * 1024]));
    assertThat(reason).startsWith("too-large: ");
  }

  @Test
  void receive_fragmentsOverTheLimitTogether_closesWithTooLarge() throws Exception {
    Random random = new Random(4);
    byte[][] parts = new byte[3][30 * 1024];
    for (byte[] part : parts) {
      random.nextBytes(part);
    }
    String reason = sendBad(null,
        new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(parts[0])),
        new ContinuationWebSocketFrame(false, 0, Unpooled.wrappedBuffer(parts[1])),
        new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(parts[2])));
    assertThat(reason).startsWith("too-large: ");
  }

  @Test
  void receive_fragmentedMessage_isReassembled() throws Exception {
    NettyConnection c =
        (NettyConnection) client.connect(uri(), badSide).get(20, TimeUnit.SECONDS);
    Connection atServer = serverSide.nextOpened();
    byte[] frame = io.replikon.protocol.MessageCodec.encode(Samples.ping(5));
    int half = frame.length / 2;
    c.writeFrame(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(frame, 0, half)));
    c.writeFrame(new ContinuationWebSocketFrame(true, 0,
        Unpooled.wrappedBuffer(frame, half, frame.length - half)));
    assertThat(serverSide.awaitReceived(atServer, 1)).containsExactly(Samples.ping(5));
    assertThat(badSide.awaitReceived(c, 1)).containsExactly(Samples.ping(5));
  }

  @Test
  void receive_garbageBeforeHandshake_answers400AndCloses() throws Exception {
    String response;
    int localPort;
    try (Socket raw = new Socket("127.0.0.1", server.port())) {
      localPort = raw.getLocalPort();
      OutputStream out = raw.getOutputStream();
      // One write: garbage the server never reads (a second segment arriving after it answered)
      // would make its close a reset, which can discard the answer before this side reads it.
      ByteArrayOutputStream garbage = new ByteArrayOutputStream();
      garbage.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00});
      garbage.write(" this is not HTTP at all\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(garbage.toByteArray());
      out.flush();
      response = readAll(raw.getInputStream());
    }
    assertThat(response).startsWith("HTTP/1.1 400 ");
    assertThat(serverSide.openedCount()).isEqualTo(1);
    assertOneWarning("127.0.0.1:" + localPort, "rejected with HTTP 400");
    assertHealthyStillServed();
  }

  @Test
  void handshake_withoutTheSubprotocol_isAnsweredWithErrorAndClosed() throws Exception {
    String response;
    int localPort;
    try (Socket raw = new Socket("127.0.0.1", server.port())) {
      localPort = raw.getLocalPort();
      OutputStream out = raw.getOutputStream();
      out.write(("GET " + Message.PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The server waits for a close frame that never comes, then drops the socket.
      response = readAll(raw.getInputStream());
    }
    assertThat(response).startsWith("HTTP/1.1 101 ").contains("did not offer the WebSocket"
        + " subprotocol " + Message.SUBPROTOCOL);
    assertThat(serverSide.openedCount()).as("never opened").isEqualTo(1);
    assertThat(serverSide.refusedBeforeOpen()).as("counted").containsExactly("127.0.0.1:"
        + localPort + ": protocol: the client did not offer the WebSocket subprotocol "
        + Message.SUBPROTOCOL);
    assertOneWarning("127.0.0.1:" + localPort, "protocol");
    assertHealthyStillServed();
  }

  /**
   * Sends a bad frame on a new connection and checks what should follow.
   *
   * @param expected the error the client should receive, or null if it may not get one
   * @param frames what to send
   * @return the reason the server's handler was given
   */
  private String sendBad(ErrorCode expected, WebSocketFrame... frames) throws Exception {
    NettyConnection bad =
        (NettyConnection) client.connect(uri(), badSide).get(20, TimeUnit.SECONDS);
    Connection badAtServer = serverSide.nextOpened();
    for (WebSocketFrame frame : frames) {
      bad.writeFrame(frame);
    }

    String reason = serverSide.awaitClosed(badAtServer);
    assertThat(serverSide.received(badAtServer)).as("the bad frame is not passed on").isEmpty();
    badSide.awaitClosed(bad);
    if (expected != null) {
      List<Message> answers = badSide.received(bad);
      assertThat(answers).hasSize(1);
      Message.ErrorReport error = (Message.ErrorReport) answers.get(0);
      assertThat(error.code()).isEqualTo(expected);
      assertThat(reason).isEqualTo(expected.wireName() + ": " + error.message());
    }
    assertOneWarning(badAtServer.remote(), reason.substring(0, reason.indexOf(':')));
    assertHealthyStillServed();
    return reason;
  }

  private void assertOneWarning(String remote, String containing) {
    List<String> lines;
    synchronized (log) {
      lines = log.list.stream()
          .filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.contains(remote))
          .toList();
    }
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains(containing).doesNotContain("\n");
  }

  private void assertHealthyStillServed() throws Exception {
    assertThat(healthy.isOpen()).isTrue();
    healthy.send(Samples.ping(42)).get(20, TimeUnit.SECONDS);
    assertThat(healthySide.awaitReceived(healthy, 1)).containsExactly(Samples.ping(42));
    assertThat(serverSide.isClosed(healthyAtServer)).isFalse();
  }

  private static BinaryWebSocketFrame binary(byte[] bytes) {
    return new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes));
  }

  private static String readAll(InputStream in) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    in.transferTo(bytes);
    return bytes.toString(StandardCharsets.US_ASCII);
  }
}
