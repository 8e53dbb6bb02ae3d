package io.replikon.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketClientCompressionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The raw ceiling for {@link ReplicationThroughput}: a minimal Netty WebSocket server on loopback
 * and a client that streams binary frames to it, nothing else (no encoding, hashing or storage).
 * The server is either an <b>echo</b> (it writes every frame back, pausing its reads while its
 * socket is full; the client counts what comes back), as the issue describes the baseline, or a
 * <b>sink</b> (it counts payload bytes and answers one small frame once it has them all): each
 * byte crosses the socket twice in the first and once in the second. The client keeps at most
 * {@code window} frames written and not yet flushed to the socket (like replikon's 8
 * unacknowledged publishes). Same pipeline elements as the replikon transport (aggregators, the
 * same write-buffer water marks, TCP_NODELAY), optionally with permessage-deflate, which the
 * replikon transport negotiates by default.
 */
final class RawWebSocket {
  private static final int MAX_FRAME = 16 << 20;
  private static final WriteBufferWaterMark WATER_MARK =
      new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

  /**
   * How to stream.
   *
   * @param frameBytes payload bytes a frame
   * @param window frames written and not yet flushed, at most
   * @param deflate whether to negotiate permessage-deflate
   * @param echo whether the server writes every frame back (else it only counts)
   */
  record Run(int frameBytes, int window, boolean deflate, boolean echo) {}

  private RawWebSocket() {}

  /**
   * Streams {@code totalBytes} taken from {@code payload} (cycled) and returns the seconds from
   * the first write until the client has every byte back (echo) or the sink's answer that it has
   * them all.
   */
  static double stream(byte[] payload, long totalBytes, Run run) throws Exception {
    int frameBytes = run.frameBytes();
    boolean deflate = run.deflate();
    EventLoopGroup boss = new NioEventLoopGroup(1);
    EventLoopGroup serverIo = new NioEventLoopGroup(1);
    EventLoopGroup clientIo = new NioEventLoopGroup(1);
    try {
      Channel listener = new ServerBootstrap().group(boss, serverIo)
          .channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ChannelPipeline p = ch.pipeline();
              p.addLast(new HttpServerCodec());
              p.addLast(new HttpObjectAggregator(64 * 1024));
              if (deflate) {
                p.addLast(new WebSocketServerCompressionHandler(MAX_FRAME));
              }
              p.addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig
                  .newBuilder().websocketPath("/raw").allowExtensions(deflate)
                  .maxFramePayloadLength(MAX_FRAME).build()));
              p.addLast(new WebSocketFrameAggregator(MAX_FRAME));
              p.addLast(new SimpleChannelInboundHandler<BinaryWebSocketFrame>() {
                long received;

                @Override
                protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame f) {
                  if (run.echo()) {
                    ctx.writeAndFlush(new BinaryWebSocketFrame(f.content().retain()));
                    if (!ctx.channel().isWritable()) {
                      ctx.channel().config().setAutoRead(false);
                    }
                    return;
                  }
                  received += f.content().readableBytes();
                  if (received >= totalBytes) {
                    ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(
                        new byte[] {1})));
                  }
                }

                @Override
                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                  if (ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(true);
                  }
                  ctx.fireChannelWritabilityChanged();
                }
              });
            }
          })
          .bind("127.0.0.1", 0).sync().channel();
      int port = ((InetSocketAddress) listener.localAddress()).getPort();
      CompletableFuture<Void> handshake = new CompletableFuture<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      WebSocketClientProtocolConfig ws = WebSocketClientProtocolConfig.newBuilder()
          .webSocketUri(URI.create("ws://127.0.0.1:" + port + "/raw"))
          .allowExtensions(deflate).maxFramePayloadLength(MAX_FRAME).build();
      Channel ch = new Bootstrap().group(clientIo).channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ChannelPipeline p = ch.pipeline();
              p.addLast(new HttpClientCodec());
              p.addLast(new HttpObjectAggregator(64 * 1024));
              if (deflate) {
                p.addLast(new WebSocketClientCompressionHandler(16 << 20));
              }
              p.addLast(new WebSocketClientProtocolHandler(ws));
              p.addLast(new WebSocketFrameAggregator(MAX_FRAME));
              p.addLast(new SimpleChannelInboundHandler<BinaryWebSocketFrame>() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                  if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent
                      .HANDSHAKE_COMPLETE) {
                    handshake.complete(null);
                  }
                  ctx.fireUserEventTriggered(evt);
                }

                long echoed;

                @Override
                protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame f) {
                  echoed += f.content().readableBytes();
                  if (!run.echo() || echoed >= totalBytes) {
                    done.complete(null);
                  }
                }
              });
            }
          })
          .connect("127.0.0.1", port).sync().channel();
      handshake.get(10, TimeUnit.SECONDS);
      Semaphore inFlight = new Semaphore(run.window());
      long start = System.nanoTime();
      long sent = 0;
      int offset = 0;
      while (sent < totalBytes) {
        int n = (int) Math.min(frameBytes, totalBytes - sent);
        if (offset + n > payload.length) {
          offset = 0;
        }
        inFlight.acquire();
        ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload, offset, n)))
            .addListener(f -> inFlight.release());
        sent += n;
        offset += n;
      }
      done.get(120, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      ch.close().sync();
      listener.close().sync();
      return seconds;
    } finally {
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      serverIo.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      clientIo.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
  }
}
