package io.replikon.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboundBudgetTest {
  private static final long HIGH = NettyPeerServer.WATER_MARK.high();
  private static final long LOW = NettyPeerServer.WATER_MARK.low();

  /** Records the writability events the pipeline sees, as the peer's frame handler would. */
  private static final class Writability extends ChannelInboundHandlerAdapter {
    final List<Boolean> seen = new ArrayList<>();

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      seen.add(ctx.channel().isWritable());
    }
  }

  @Test
  void sends_queuedPastTheHighWaterMark_makeTheConnectionUnwritable_beforeNettyHasSeenThem() {
    OutboundBudget budget = new OutboundBudget(64L << 20);
    Writability events = new Writability();
    EmbeddedChannel channel = new EmbeddedChannel(events, budget);

    // Messages counted at send(), still waiting for the event loop: Netty's buffer is empty.
    assertThat(budget.tryReserve(HIGH - 1)).isTrue();
    assertThat(channel.isWritable()).isTrue();
    assertThat(budget.tryReserve(1)).isTrue();

    assertThat(channel.isWritable()).isFalse();
    channel.runPendingTasks(); // Netty fires the event as a task of the event loop
    assertThat(events.seen).containsExactly(false);
  }

  @Test
  void connection_becomesWritableAgain_onlyBelowTheLowWaterMark() {
    OutboundBudget budget = new OutboundBudget(64L << 20);
    Writability events = new Writability();
    EmbeddedChannel channel = new EmbeddedChannel(events, budget);
    budget.tryReserve(HIGH);
    channel.runPendingTasks();

    budget.release(HIGH - LOW);
    assertThat(channel.isWritable()).as("at the low water mark").isFalse();
    budget.release(1);

    assertThat(channel.isWritable()).isTrue();
    channel.runPendingTasks();
    assertThat(events.seen).containsExactly(false, true);
  }

  /** Counts the read requests that pass on toward the socket. */
  private static final class Reads extends ChannelOutboundHandlerAdapter {
    int passed;

    @Override
    public void read(ChannelHandlerContext ctx) {
      passed++;
      ctx.read();
    }
  }

  @Test
  void readRequests_fromAbove_whileReadingIsStopped_areDropped_asAPingsReadWouldBe() {
    Reads reads = new Reads();
    EmbeddedChannel channel = new EmbeddedChannel(reads, new OutboundBudget(64L << 20));
    channel.config().setAutoRead(false); // the peer stopped reading this connection
    int before = reads.passed;

    channel.pipeline().read(); // what Netty's WebSocket handler does after answering a ping

    assertThat(reads.passed).isEqualTo(before);
    channel.config().setAutoRead(true);
    assertThat(reads.passed).as("resuming reads at once").isGreaterThan(before);
  }
}
