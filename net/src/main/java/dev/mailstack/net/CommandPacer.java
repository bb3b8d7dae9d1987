package dev.mailstack.net;

/**
 * Commands per second for one connection, as a token bucket holding one second's worth: a client
 * may send a burst (Thunderbird pipelines a few dozen commands), but one that sends commands as
 * fast as it can is slowed to the rate instead of taking a core from everyone else (issue 7).
 * Only the connection's own thread waits; nothing is refused. The default (10,000/s) sits above
 * what real clients do at full speed on loopback: a POP3 client pipelining RETR of a 10,000-message
 * maildrop, or Dovecot-class IMAP benchmark clients, come to about 5,000/s here.
 */
final class CommandPacer {
    private final int perSecond;
    private double tokens;
    private long last;

    /** {@code perSecond} 0 turns pacing off. */
    CommandPacer(int perSecond) {
        this.perSecond = perSecond;
        this.tokens = perSecond;
        this.last = System.nanoTime();
    }

    /** Takes a token, waiting for one when the bucket is empty. */
    void pace() throws InterruptedException {
        if (perSecond <= 0) {
            return;
        }
        long now = System.nanoTime();
        tokens = Math.min(perSecond, tokens + (now - last) * perSecond / 1e9);
        last = now;
        if (tokens < 1) {
            long waitNanos = (long) ((1 - tokens) * 1e9 / perSecond);
            // The pause is the limit itself: this connection's own virtual thread waits for its next
            // token (under a millisecond at the default rate); no other session is held up.
            Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
            tokens = 1;
            last = System.nanoTime();
        }
        tokens -= 1;
    }
}
