package dev.mailstack.imapd;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;

/** IMAP on 143 (STARTTLS) and 993 (implicit TLS). */
public final class ImapProtocol implements Protocol {
    private final ImapSettings settings;
    private final MailboxStore store;
    private final AuthThrottle throttle;
    private final SummaryCache summaries;

    public ImapProtocol(ImapSettings settings, MailboxStore store, AuthThrottle throttle) {
        this.settings = settings;
        this.store = store;
        this.throttle = throttle;
        this.summaries = new SummaryCache(store);
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new ImapSession(connection, settings, store, throttle, summaries).run();
    }

    @Override
    public String tooManyConnectionsReply() {
        return "* BYE [UNAVAILABLE] Too many connections, try again later";
    }

    @Override
    public String idleTimeoutReply() {
        return "* BYE Autologout; idle for too long";
    }

    @Override
    public String shutdownReply() {
        return "* BYE [UNAVAILABLE] Server shutting down";
    }
}
