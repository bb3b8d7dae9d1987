package dev.mailstack.mta.milter;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The connection to one milter, TCP or a Unix socket alike, carrying packets. Each blocking step
 * runs against a deadline: a timer closes the channel when it passes, which ends the blocked call
 * (a socket timeout would do for TCP only; a Unix channel has none). Every read is bounded by
 * {@link MilterPacket#MAX_DATA}.
 */
final class MilterChannel implements AutoCloseable {
    /**
     * One daemon thread for every deadline of every milter: it only closes channels. A deadline is
     * set for each packet and almost always cancelled: cancelled ones leave the queue at once
     * rather than when they would have run, minutes later.
     */
    private static final ScheduledExecutorService TIMER = timer();

    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "milter-timeouts");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private final SocketChannel channel;
    private final AtomicBoolean timedOut = new AtomicBoolean();
    private final ByteBuffer head = ByteBuffer.allocate(5);

    private MilterChannel(SocketChannel channel) {
        this.channel = channel;
    }

    static MilterChannel open(MilterAddress address, Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open(address instanceof MilterAddress.Unix ? StandardProtocolFamily.UNIX
                : ((java.net.InetSocketAddress) address.socketAddress()).getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        MilterChannel c = new MilterChannel(ch);
        try {
            c.within(timeout, "connect", () -> {
                ch.connect(address.socketAddress());
                return null;
            });
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    void send(MilterPacket packet, Duration timeout) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(packet.encode());
        within(timeout, "write", () -> {
            while (b.hasRemaining()) {
                channel.write(b);
            }
            return null;
        });
    }

    /** The next packet; a length over the limit is a protocol error, end of stream an I/O error. */
    MilterPacket receive(Duration timeout) throws IOException {
        return within(timeout, "reply", () -> {
            head.clear();
            fill(head);
            int length = head.getInt(0);
            if (length < 1 || length > MilterPacket.MAX_DATA + 1) {
                throw new MilterProtocolException("reply length " + Integer.toUnsignedString(length)
                        + " outside 1.." + (MilterPacket.MAX_DATA + 1));
            }
            ByteBuffer data = ByteBuffer.allocate(length - 1);
            fill(data);
            return new MilterPacket(head.get(4), data.array());
        });
    }

    private void fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new java.io.EOFException("milter closed the connection");
            }
        }
    }

    private interface Step<T> {
        T run() throws IOException;
    }

    private <T> T within(Duration timeout, String what, Step<T> step) throws IOException {
        ScheduledFuture<?> alarm = TIMER.schedule(() -> {
            timedOut.set(true);
            close();
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return step.run();
        } catch (IOException e) {
            if (timedOut.get()) {
                throw new InterruptedIOException(what + " timed out after " + timeout.toMillis() + " ms");
            }
            throw e;
        } finally {
            alarm.cancel(false);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }
}
