package dev.mailstack.mta.delivery;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A time limit on each send to the next hop. A socket write has no timeout of its own and blocks
 * for as long as the peer's window stays shut; past the limit the TCP socket (under any TLS layer)
 * is closed, which fails the write.
 */
final class SendDeadline extends FilterOutputStream {
    /** Also the reply deadlines of {@link SmtpClient}: one timer thread for every limit on the next hop. */
    static final ScheduledThreadPoolExecutor TIMER = timer();
    private final Socket tcp;
    private final Duration limit;
    private volatile boolean expired;

    SendDeadline(OutputStream out, Socket tcp, Duration limit) {
        super(out);
        this.tcp = tcp;
        this.limit = limit;
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("smtp-send-deadline").factory());
        t.setRemoveOnCancelPolicy(true); // a send that finished in time leaves nothing behind
        return t;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ScheduledFuture<?> alarm = TIMER.schedule(this::expire, limit.toMillis(), TimeUnit.MILLISECONDS);
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw expired ? timedOut(e) : e;
        } finally {
            alarm.cancel(false);
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            throw expired ? timedOut(e) : e;
        }
    }

    private void expire() {
        expired = true;
        try {
            tcp.close();
        } catch (IOException ignored) {
            // closed is what we wanted
        }
    }

    private SocketTimeoutException timedOut(IOException cause) {
        SocketTimeoutException e = new SocketTimeoutException("the server read nothing for " + limit.toSeconds()
                + " s while we sent the message");
        e.initCause(cause);
        return e;
    }
}
