package dev.mailstack.net;

import java.io.IOException;

/**
 * A line passed the limit; the rest of it was read and dropped, so the session can reply and go on.
 * The last few bytes of the dropped line are kept: a protocol may have to act on what the line
 * announced at its end (an IMAP non-synchronizing literal whose octets follow anyway).
 */
public final class LineTooLongException extends IOException {
    private final String tail;

    public LineTooLongException(int limit) {
        this(limit, "");
    }

    public LineTooLongException(int limit, String tail) {
        super("line longer than " + limit + " bytes");
        this.tail = tail;
    }

    /** The dropped line's last bytes (at most {@link LineReader#TAIL_BYTES}, ISO-8859-1), without its terminator. */
    public String tail() {
        return tail;
    }
}
