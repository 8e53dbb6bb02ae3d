package io.replikon.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * A load generator for {@code POST /events}: a fixed number of HTTP/1.1 keep-alive connections on
 * one Netty event-loop thread (so the client takes at most one of the machine's cores), each with
 * one request outstanding at a time. Everything it records is touched on that one thread only.
 */
final class HttpLoad implements AutoCloseable {
  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private final List<Channel> channels = new ArrayList<>();
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final String host;
  private Mode mode;

  /** What one run does with answers. Event-loop thread only. */
  private abstract static class Mode {
    long requests;
    long accepted;
    long refused;
    long failed;

    /** An answer arrived on {@code channel}, {@code nanos} after its request was written. */
    abstract void answered(Channel channel, int status, int events, long sentAt, long now);
  }

  HttpLoad(String host, int port, int connections) throws InterruptedException {
    this.host = host + ":" + port;
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                new Answers());
          }
        });
    for (int i = 0; i < connections; i++) {
      Channel ch = b.connect(host, port).sync().channel();
      channels.add(ch);
    }
    group.submit(() -> idle.addAll(channels)).sync();
  }

  /** Per-connection state: when its request went out and how many events it held. */
  private static final class InFlight {
    long sentAt;
    int events;
  }

  private final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final InFlight inFlight = new InFlight();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.channel().attr(IN_FLIGHT).set(inFlight);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      long now = System.nanoTime();
      mode.answered(ctx.channel(), response.status().code(), inFlight.events, inFlight.sentAt,
          now);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      System.err.println("client connection failed: " + cause);
      ctx.close();
    }
  }

  private static final io.netty.util.AttributeKey<InFlight> IN_FLIGHT =
      io.netty.util.AttributeKey.valueOf("replikon-bench-in-flight");

  private void send(Channel ch, byte[] body, int events) {
    InFlight f = ch.attr(IN_FLIGHT).get();
    f.sentAt = System.nanoTime();
    f.events = events;
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
        "/events", Unpooled.wrappedBuffer(body));
    request.headers().set(HttpHeaderNames.HOST, host)
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    ch.writeAndFlush(request, ch.voidPromise());
  }

  /** The figures of a closed-loop run. */
  record Result(double seconds, long requests, long accepted, long refused, long failed,
      long[] latencyNanos) {
    double eventsPerSecond() {
      return accepted / seconds;
    }

    double requestsPerSecond() {
      return requests / seconds;
    }

    /** Latency percentile in ms of the measured requests answered 202. */
    double latencyMs(double p) {
      if (latencyNanos.length == 0) {
        return Double.NaN;
      }
      int i = (int) Math.min(latencyNanos.length - 1, Math.ceil(p * latencyNanos.length) - 1);
      return latencyNanos[Math.max(0, i)] / 1e6;
    }
  }

  /**
   * Closed loop: every connection sends its next request as soon as the last is answered, for
   * {@code warmUp} then {@code measure}; only answers to requests sent in the measured window
   * count. A 503 is retried after 10 ms (counted as refused).
   *
   * @param bodies request {@code i}'s body (called on the event loop)
   */
  Result closedLoop(long warmUpNanos, long measureNanos, LongFunction<byte[]> bodies,
      int eventsPerRequest) throws Exception {
    CompletableFuture<Result> done = new CompletableFuture<>();
    group.submit(() -> {
      long start = System.nanoTime();
      long from = start + warmUpNanos;
      long until = from + measureNanos;
      long[][] lat = {new long[1 << 16]};
      int[] latN = {0};
      int[] outstanding = {0};
      long[] next = {0};
      mode = new Mode() {
        @Override
        void answered(Channel ch, int status, int events, long sentAt, long now) {
          outstanding[0]--;
          boolean counted = sentAt >= from && sentAt < until;
          if (counted) {
            requests++;
            if (status == 202) {
              accepted += events;
              if (latN[0] == lat[0].length) {
                lat[0] = Arrays.copyOf(lat[0], lat[0].length * 2);
              }
              lat[0][latN[0]++] = now - sentAt;
            } else if (status == 503) {
              refused++;
            } else {
              failed++;
            }
          }
          if (now < until) {
            if (status == 503) {
              ch.eventLoop().schedule(() -> fire(ch), 10, TimeUnit.MILLISECONDS);
            } else {
              fire(ch);
            }
          } else if (outstanding[0] == 0) {
            long[] l = Arrays.copyOf(lat[0], latN[0]);
            Arrays.sort(l);
            done.complete(new Result(measureNanos / 1e9, requests, accepted, refused, failed, l));
          }
        }

        private void fire(Channel ch) {
          outstanding[0]++;
          send(ch, bodies.apply(next[0]++), eventsPerRequest);
        }
      };
      for (Channel ch : channels) {
        outstanding[0]++;
        send(ch, bodies.apply(next[0]++), eventsPerRequest);
      }
    });
    return done.get(measureNanos / 1_000_000_000L + warmUpNanos / 1_000_000_000L + 120,
        TimeUnit.SECONDS);
  }

  /**
   * Open loop at a steady rate: request {@code i} (one event, body {@code bodies(i)}) is due at
   * {@code start + i / rate} and goes out on the next idle connection; every 202's arrival time is
   * recorded in the order the answers arrive. Fails on any other answer.
   *
   * @return the arrival times (System.nanoTime) of the {@code count} acknowledgements, ascending
   */
  long[] paced(double rate, int count, LongFunction<byte[]> bodies) throws Exception {
    CompletableFuture<long[]> done = new CompletableFuture<>();
    long[] acks = new long[count];
    int[] acked = {0};
    int[] sent = {0};
    group.submit(() -> {
      long start = System.nanoTime();
      mode = new Mode() {
        @Override
        void answered(Channel ch, int status, int events, long sentAt, long now) {
          if (status != 202) {
            done.completeExceptionally(new IllegalStateException("answered " + status));
            return;
          }
          acks[acked[0]++] = now;
          idle.add(ch);
          if (acked[0] == count) {
            done.complete(acks);
          }
        }
      };
      Runnable tick = () -> {
        long due = Math.min(count, (long) ((System.nanoTime() - start) / 1e9 * rate) + 1);
        while (sent[0] < due && !idle.isEmpty()) {
          send(idle.poll(), bodies.apply(sent[0]), 1);
          sent[0]++;
        }
      };
      tick.run();
      var task = group.scheduleAtFixedRate(tick, 200, 200, TimeUnit.MICROSECONDS);
      done.whenComplete((a, f) -> task.cancel(false));
    });
    return done.get((long) (count / rate) + 300, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    for (Channel ch : channels) {
      ch.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
