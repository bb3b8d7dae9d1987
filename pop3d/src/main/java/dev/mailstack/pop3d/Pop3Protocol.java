package dev.mailstack.pop3d;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.util.Objects;

/**
 * POP3 (RFC 1939) over the shared store, for port 110 (STLS) and 995 (implicit TLS): one
 * instance per server, shared by both endpoints so the maildrop lock covers both.
 */
public final class Pop3Protocol implements Protocol {
    private final MailboxStore store;
    private final Pop3Settings settings;
    private final AuthThrottle throttle;
    private final MaildropLocks locks = new MaildropLocks();

    public Pop3Protocol(MailboxStore store, Pop3Settings settings, AuthThrottle throttle) {
        this.store = Objects.requireNonNull(store, "store");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new Pop3Session(connection, store, settings, throttle, locks).run();
    }

    @Override
    public String tooManyConnectionsReply() {
        return Pop3Replies.TOO_MANY_CONNECTIONS.line();
    }

    @Override
    public String idleTimeoutReply() {
        return Pop3Replies.IDLE_TIMEOUT.line();
    }

    @Override
    public String shutdownReply() {
        return Pop3Replies.SHUTTING_DOWN.line();
    }

    /** For tests that must wait until a session has ended. */
    MaildropLocks locks() {
        return locks;
    }
}
