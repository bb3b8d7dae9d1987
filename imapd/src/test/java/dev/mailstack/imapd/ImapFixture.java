package dev.mailstack.imapd;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** IMAP on loopback port 0 over a real store, user alice@example.org / secret. */
final class ImapFixture implements AutoCloseable {
    final StoreFixture store;
    final TcpListener listener;

    ImapFixture(Path dir) throws IOException {
        this(dir, ImapSettings.defaults("imap.example.org"));
    }

    ImapFixture(Path dir, ImapSettings settings) throws IOException {
        this(dir, settings, NetLimits.defaults());
    }

    /** With the connection limits the listener applies (a short idle timeout, a data rate). */
    ImapFixture(Path dir, ImapSettings settings, NetLimits limits) throws IOException {
        this(dir, settings, StoreFixture.create(dir.resolve("data")), limits);
    }

    private ImapFixture(Path dir, ImapSettings settings, StoreFixture store, NetLimits limits) throws IOException {
        this.store = store;
        AuthThrottle throttle = new AuthThrottle(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMinutes(1),
                Clock.systemUTC());
        listener = TcpListener.start(new Endpoint("imap", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), new ImapProtocol(settings, store.store(), throttle),
                limits, TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    /** The server and store of an earlier fixture in {@code dir} (closed by now) started again. */
    static ImapFixture restart(Path dir) throws IOException {
        return new ImapFixture(dir, ImapSettings.defaults("imap.example.org"), StoreFixture.reopen(dir.resolve("data")),
                NetLimits.defaults());
    }

    int port() {
        return listener.port();
    }

    LineClient connect() throws IOException {
        LineClient c = new LineClient(port());
        c.expect("\\* OK \\[CAPABILITY .*\\] mailstack IMAP ready");
        return c;
    }

    LineClient login() throws IOException {
        LineClient c = connect();
        c.send("a0 LOGIN alice@example.org secret").expect("a0 OK .*Logged in");
        return c;
    }

    /** Delivers a message into a mailbox the way local delivery does: parsed once, summary stored. */
    Uid deliver(MailboxName mailbox, String text) throws IOException {
        return deliver(mailbox, text.getBytes(StandardCharsets.UTF_8));
    }

    Uid deliver(MailboxName mailbox, byte[] octets) throws IOException {
        var session = store.session();
        MessageSpool.Spooled spooled;
        try (MessageSpool spool = store.store().spool()) {
            spool.write(octets);
            spooled = spool.finish();
        }
        try (Transaction t = session.begin()) {
            Uid uid = t.append(session.require(mailbox).id(), spooled, ParsedFacts.of(spooled, dev.mailstack.mime.MimeLimits.defaults()), Flags.NONE,
                    Instant.parse("2026-12-01T10:00:00Z"), Optional.empty()).orElseThrow();
            t.commit();
            return uid;
        } finally {
            spooled.discard();
        }
    }

    @Override
    public void close() {
        listener.close();
        store.close();
    }
}
