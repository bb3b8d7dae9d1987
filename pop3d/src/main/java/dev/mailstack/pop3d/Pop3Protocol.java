package dev.mailstack.pop3d;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;

/** POP3 on 110 (STLS) and 995 (implicit TLS), over the shared store. */
public final class Pop3Protocol implements Protocol {
    private final MailboxStore store;
    private final Pop3Settings settings;
    private final AuthThrottle throttle;
    private final MaildropLocks locks = new MaildropLocks();

    public Pop3Protocol(MailboxStore store, Pop3Settings settings, AuthThrottle throttle) {
        this.store = store;
        this.settings = settings;
        this.throttle = throttle;
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new Pop3Session(connection, store, settings, throttle, locks).run();
    }

    @Override
    public String tooManyConnectionsReply() {
        return "-ERR [SYS/TEMP] Too many connections, try again later";
    }

    @Override
    public String idleTimeoutReply() {
        return "-ERR Autologout; idle for too long";
    }

    @Override
    public String shutdownReply() {
        return "-ERR [SYS/TEMP] Server shutting down";
    }
}
