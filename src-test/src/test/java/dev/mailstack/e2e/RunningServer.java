package dev.mailstack.e2e;

import dev.mailstack.server.Config;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.server.Server;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A whole mailstack server in this JVM: loopback only, every port ephemeral, data in a temp folder. */
final class RunningServer implements AutoCloseable {
    final Server server;
    final String domain;
    private final Path data;
    private final Map<ConfigKey, String> extra;
    /** What the server finds when it reads its configuration again (a SIGHUP). */
    private final AtomicReference<Config> reread;

    private RunningServer(Server server, String domain, Path data, Map<ConfigKey, String> extra,
                          AtomicReference<Config> reread) {
        this.server = server;
        this.domain = domain;
        this.data = data;
        this.extra = extra;
        this.reread = reread;
    }

    /**
     * A server whose domain and users (password "secret") are in its store before it listens: a
     * peer's retry that arrives the moment it listens must find them, not a 550 for a user that
     * {@link #addUser} would add a moment later.
     */
    static RunningServer startWithUsers(Path data, String domain, Map<ConfigKey, String> extra, String... users)
            throws IOException {
        try (MailboxStore store = MailboxStore.open(data, null)) {
            store.accounts().addDomain(domain);
            for (String local : users) {
                store.accounts().addUser(local + "@" + domain, PasswordScheme.hash("secret"));
            }
        }
        return start(data, domain, extra);
    }

    static RunningServer start(Path data, String domain, Map<ConfigKey, String> extra) throws IOException {
        Config c = config(data, domain, extra);
        AtomicReference<Config> reread = new AtomicReference<>(c);
        Server server = Server.start(c, reread::get);
        try {
            if (!server.store().accounts().isLocalDomain(domain)) {
                server.store().accounts().addDomain(domain);
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return new RunningServer(server, domain, data, extra, reread);
    }

    private static Config config(Path data, String domain, Map<ConfigKey, String> extra) {
        Config c = Config.defaults();
        c.set(ConfigKey.DATA_DIR, data.toString(), "test");
        c.set(ConfigKey.HOSTNAME, "mx." + domain, "test");
        c.set(ConfigKey.BIND, "127.0.0.1", "test");
        for (ConfigKey k : new ConfigKey[]{ConfigKey.SMTP_PORT, ConfigKey.SUBMISSION_PORT, ConfigKey.POP3_PORT,
                ConfigKey.IMAP_PORT, ConfigKey.MANAGESIEVE_PORT, ConfigKey.HTTP_PORT}) {
            c.set(k, "0", "test");
        }
        for (ConfigKey k : new ConfigKey[]{ConfigKey.SUBMISSIONS_PORT, ConfigKey.POP3S_PORT, ConfigKey.IMAPS_PORT}) {
            c.set(k, "off", "test");
        }
        extra.forEach((k, v) -> c.set(k, v, "test"));
        return c;
    }

    /**
     * What a SIGHUP does after the configuration file changed: the server reads the configuration
     * again, now with {@code changed} on top of what it started with, and applies it.
     */
    void reload(Map<ConfigKey, String> changed) {
        Map<ConfigKey, String> all = new HashMap<>(extra);
        all.putAll(changed);
        reread.set(config(data, domain, all));
        server.reload();
    }

    void addUser(String local, String password) {
        String address = local + "@" + domain;
        if (server.store().accounts().find(address).isEmpty()) {
            server.store().accounts().addUser(address, PasswordScheme.hash(password));
        }
    }

    int port(String endpoint) {
        return server.port(endpoint);
    }

    /**
     * Waits until {@code mailbox} of the user {@code address} holds {@code count} messages, for at
     * most 30 s: woken by the store's change events, as IMAP sessions are, not by polling.
     */
    void awaitMessages(String address, MailboxName mailbox, long count) throws Exception {
        StoreSession session = server.store().open(server.store().accounts().find(address).orElseThrow().id());
        Semaphore changed = new Semaphore(0);
        try (AutoCloseable sub = server.store().changes().subscribe(session.require(mailbox).id(), c -> changed.release())) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long messages;
            while ((messages = session.status(mailbox).messages()) < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changed.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    throw new AssertionError(address + " " + mailbox.path() + " has " + session.status(mailbox).messages()
                            + " messages after 30 s, expected " + count);
                }
            }
            if (messages > count) {
                throw new AssertionError(address + " " + mailbox.path() + " has " + messages + " messages, expected " + count);
            }
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
