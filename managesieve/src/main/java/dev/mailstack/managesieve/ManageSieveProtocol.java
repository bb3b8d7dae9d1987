package dev.mailstack.managesieve;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.util.Objects;

/** ManageSieve (RFC 5804) over the shared store, for port 4190 with STARTTLS. */
public final class ManageSieveProtocol implements Protocol {
    private final MailboxStore store;
    private final ManageSieveSettings settings;
    private final AuthThrottle throttle;

    public ManageSieveProtocol(MailboxStore store, ManageSieveSettings settings, AuthThrottle throttle) {
        this.store = Objects.requireNonNull(store, "store");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new ManageSieveSession(connection, store, settings, throttle).run();
    }

    @Override
    public String tooManyConnectionsReply() {
        return ManageSieveReplies.TOO_MANY_CONNECTIONS.line();
    }

    @Override
    public String idleTimeoutReply() {
        return ManageSieveReplies.IDLE_TIMEOUT.line();
    }

    @Override
    public String shutdownReply() {
        return ManageSieveReplies.SHUTTING_DOWN.line();
    }
}
