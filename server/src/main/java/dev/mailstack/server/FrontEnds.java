package dev.mailstack.server;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Protocol;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import java.util.ArrayList;
import java.util.List;

/** Which protocol runs on which endpoint; the one place a new front-end is added. */
final class FrontEnds {
    record Planned(String name, ConfigKey portKey, int standardPort, int unprivilegedPort, TlsMode tls, Protocol protocol) {
    }

    private final List<Planned> planned = new ArrayList<>();
    private final List<AutoCloseable> services = new ArrayList<>();

    FrontEnds(Config config, MailboxStore store, String hostname, AuthThrottle throttle) {
    }

    List<Planned> planned() {
        return planned;
    }

    /** Background services (the queue runner) to stop after the listeners. */
    List<AutoCloseable> services() {
        return services;
    }
}
