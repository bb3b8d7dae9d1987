package dev.mailstack.net;

import java.io.IOException;

/**
 * A line protocol served on an endpoint. {@link #serve} runs on the connection's own virtual
 * thread and returns when the session ends; the listener owns the socket and closes it.
 */
public interface Protocol {
    void serve(Connection connection) throws IOException;

    /** Sent to a client turned away by a connection limit, e.g. {@code 421 4.7.0 Too many connections}. */
    String tooManyConnectionsReply();

    /** Sent before closing an idle connection. */
    String idleTimeoutReply();

    /** Sent to a session waiting for a command when the server stops. */
    String shutdownReply();
}
