package dev.mailstack.net;

import java.io.IOException;

/** A line passed the limit; the rest of it was read and dropped, so the session can reply and go on. */
public final class LineTooLongException extends IOException {
    public LineTooLongException(int limit) {
        super("line longer than " + limit + " bytes");
    }
}
