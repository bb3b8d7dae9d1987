package dev.mailstack.net;

import java.io.IOException;

/**
 * A line passed the limit; the rest of it was read and dropped, so the session can reply and go on.
 * The last few bytes of the dropped line are kept: a protocol may have to act on what the line
 * announced at its end (an IMAP non-synchronizing literal whose octets follow anyway).
 */
public final class LineTooLongException extends IOException {
    private final String tail;
    private final LineReader.Ending ending;

    public LineTooLongException(int limit) {
        this(limit, "", LineReader.Ending.CRLF);
    }

    public LineTooLongException(int limit, String tail, LineReader.Ending ending) {
        super("line longer than " + limit + " bytes");
        this.tail = tail;
        this.ending = ending;
    }

    /**
     * How the dropped line ended: a reader of message data must know whether a "." line after it
     * follows a CRLF (the end of DATA) or a bare LF (content; RFC 5321 §4.1.1.4, SMTP smuggling).
     */
    public LineReader.Ending ending() {
        return ending;
    }

    /** The dropped line's last bytes (at most {@link LineReader#TAIL_BYTES}, ISO-8859-1), without its terminator. */
    public String tail() {
        return tail;
    }
}
