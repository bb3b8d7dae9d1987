package dev.mailstack.net;

import java.io.IOException;

/**
 * A line protocol served on an endpoint. {@link #serve} runs on the connection's own virtual
 * thread and returns when the session ends; the listener owns the socket and closes it. The three
 * replies are sent as one line plus CRLF; an empty one means the connection is closed without a
 * word (HTTP, where a reply nobody asked for would be read as the answer to the next request).
 */
public interface Protocol {
    void serve(Connection connection) throws IOException;

    /** Sent to a client turned away by a connection limit, e.g. {@code 421 4.7.0 Too many connections}. */
    String tooManyConnectionsReply();

    /**
     * True where the client sends its request without waiting for a greeting (HTTP): a refused
     * client's request is then read and dropped after the refusal, since closing with it unread
     * would reset the connection, which can destroy the refusal before the client reads it.
     */
    default boolean clientSpeaksFirst() {
        return false;
    }

    /** Sent before closing an idle connection. */
    String idleTimeoutReply();

    /** Sent to a session waiting for a command when the server stops. */
    String shutdownReply();
}
