package dev.mailstack.net;

import java.io.IOException;

/** The server is stopping and the session was between commands: the connection says goodbye. */
public final class ShutdownException extends IOException {
    public ShutdownException() {
        super("server shutting down");
    }
}
