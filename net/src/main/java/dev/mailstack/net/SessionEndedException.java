package dev.mailstack.net;

import java.io.IOException;
import java.util.Optional;

/**
 * The session was ended from outside ({@link Connection#end}): the listener sends the goodbye
 * when the session's own thread is the one to say it, and closes the connection.
 */
public final class SessionEndedException extends IOException {
    private final transient Optional<String> goodbye;

    SessionEndedException(Optional<String> goodbye) {
        super("session ended from outside");
        this.goodbye = goodbye;
    }

    /** The line still to send; empty when another thread has already said it. */
    public Optional<String> goodbye() {
        return goodbye;
    }
}
