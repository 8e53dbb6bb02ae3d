package io.replikon.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.PlatformDependent;
import java.util.concurrent.TimeUnit;

/**
 * Event loop groups, channel classes (epoll where it is available, NIO elsewhere) and the buffer
 * allocator of every channel.
 */
final class EventLoops {
  private static final boolean EPOLL = Epoll.isAvailable();

  /**
   * Netty's pooled allocator with 16 MiB chunks (maxOrder 11) instead of the default 4 MiB. A
   * publish carries up to 4 MiB of values plus its framing, and a buffer larger than a chunk is
   * allocated outside the pool, zeroed and freed every time: with the default, every full
   * publish paid that on both ends (the heap-to-direct copy before the socket write, and the
   * gathering of a large frame's reads).
   */
  static final ByteBufAllocator ALLOCATOR = new PooledByteBufAllocator(
      PlatformDependent.directBufferPreferred(), PooledByteBufAllocator.defaultNumHeapArena(),
      PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(), 11,
      PooledByteBufAllocator.defaultSmallCacheSize(),
      PooledByteBufAllocator.defaultNormalCacheSize(),
      PooledByteBufAllocator.defaultUseCacheForAllThreads());

  private EventLoops() {}

  /**
   * Returns a new group of daemon I/O threads.
   *
   * @param threads how many, or 0 for Netty's default (twice the cores)
   */
  static EventLoopGroup group(int threads, String name) {
    DefaultThreadFactory threadFactory = new DefaultThreadFactory(name, true);
    return EPOLL ? new EpollEventLoopGroup(threads, threadFactory)
        : new NioEventLoopGroup(threads, threadFactory);
  }

  static Class<? extends ServerChannel> serverChannel() {
    return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  static Class<? extends SocketChannel> channel() {
    return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /** Shuts a group down without a quiet period and waits (boundedly) until its threads end. */
  static void shutdown(EventLoopGroup group) {
    Future<?> done = group.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    done.awaitUninterruptibly(10, TimeUnit.SECONDS);
  }
}
