package dev.mailstack.mta;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.delivery.Router;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.mta.queue.QueueRunner;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.mta.smtp.SendingRates;
import dev.mailstack.mta.smtp.SmtpProtocol;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A real MTA on loopback: store on disk, queue runner, SMTP on port 0 (MX) and submission. */
public final class MtaFixture implements AutoCloseable {
    public final StoreFixture store;
    public final QueueRunner runner;
    /** Local delivery, for tests that set the administrator's Sieve scripts. */
    public final LocalDelivery local;
    public final TcpListener smtp;
    public final TcpListener submission;
    /** LMTP (RFC 2033), as an MTA in front would use it. */
    public final TcpListener lmtp;
    /** LMTP's protocol, for a test's own listener (a Unix domain socket). */
    public final SmtpProtocol lmtpProtocol;
    public final dev.mailstack.mta.queue.MailCounters counters = new dev.mailstack.mta.queue.MailCounters();
    /** No limit until a test sets one; shared by both listeners, as in the server. */
    public final SendingRates rates = SendingRates.unlimited();

    public MtaFixture(Path dir, Map<String, Route> routes, SmtpSettings base, QueueSettings queue) throws IOException {
        this(dir, new Router(routes, Optional.empty(), null), base, queue);
    }

    public MtaFixture(Path dir, Router router, SmtpSettings base, QueueSettings queue) throws IOException {
        this(dir, router, base, queue, TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    /**
     * With the TLS identity both listeners present (another test certificate than localhost's);
     * with none, listeners that offer no STARTTLS at all.
     */
    public MtaFixture(Path dir, Router router, SmtpSettings base, QueueSettings queue, dev.mailstack.net.TlsContext tls)
            throws IOException {
        this(dir, router, base, queue, tls, NetLimits.defaults());
    }

    /** With the connection limits every listener applies (a short idle timeout, a data rate). */
    public MtaFixture(Path dir, Router router, SmtpSettings base, QueueSettings queue, dev.mailstack.net.TlsContext tls,
                      NetLimits limits) throws IOException {
        Files.createDirectories(dir);
        this.store = StoreFixture.create(dir.resolve("data"));
        MailboxStore s = store.store();
        local = new LocalDelivery(s, base.hostname());
        runner = new QueueRunner(s, queue, local, new RemoteDelivery(s, router, base.hostname()), counters);
        QueueIntake intake = new QueueIntake(s, MimeLimits.defaults(), dev.mailstack.mime.MailCharset.DEFAULT_FALLBACK, runner::wake, counters);
        runner.useIntake(intake);
        runner.start();
        AuthThrottle throttle = new AuthThrottle(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMinutes(1),
                Clock.systemUTC());
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        TlsMode mode = tls == null ? TlsMode.NONE : TlsMode.STARTTLS;
        smtp = TcpListener.start(new Endpoint("smtp", any, mode),
                new SmtpProtocol(base, s, intake, throttle, rates), limits, tls);
        submission = TcpListener.start(new Endpoint("submission", any, mode),
                new SmtpProtocol(base.asSubmission(), s, intake, throttle, rates), limits, tls);
        lmtpProtocol = SmtpProtocol.lmtp(base, s, intake, throttle);
        lmtp = TcpListener.start(new Endpoint("lmtp", any, TlsMode.NONE), lmtpProtocol, limits, null);
    }

    public static MtaFixture create(Path dir) throws IOException {
        return new MtaFixture(dir, Map.of(), SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"));
    }

    /** As {@link #create(Path)}, with these connection limits. */
    public static MtaFixture create(Path dir, NetLimits limits) throws IOException {
        return new MtaFixture(dir, new Router(Map.of(), Optional.empty(), null), SmtpSettings.mx("mx.example.org"),
                QueueSettings.defaults("mx.example.org"), TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))),
                limits);
    }

    public LineClient connect() throws IOException {
        return new LineClient(smtp.port());
    }

    /** A connection to the MX that has been greeted and has said EHLO, as most SMTP tests begin. */
    public LineClient connectEhlo() throws IOException {
        LineClient c = connect();
        try {
            c.expect("220 .*");
            c.send("EHLO client.test");
            c.expectEventually("250 HELP");
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public StoreSession alice() {
        return store.session();
    }

    /** Stores {@code text} as the account's script "main" and makes it the active one, as ManageSieve and the CLI do. */
    public void activeScript(dev.mailstack.store.AccountId account, String text) {
        store.store().sieveScripts().put(account, "main", text, dev.mailstack.store.SieveLimits.defaults());
        store.store().sieveScripts().activate(account, "main");
    }

    /** Waits (on the change bus, not a sleep) until {@code mailbox} holds {@code count} messages. */
    public void awaitMessages(StoreSession session, MailboxName mailbox, int count) throws Exception {
        var id = session.require(mailbox).id();
        // a permit per change: each wait ends at the next one (a latch, once open, would spin)
        Semaphore changed = new Semaphore(0);
        try (AutoCloseable sub = store.store().changes().subscribe(id, c -> changed.release())) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (session.status(mailbox).messages() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("mailbox " + mailbox.path() + " has " + session.status(mailbox).messages()
                            + " messages, expected " + count);
                }
                changed.tryAcquire(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
            }
        }
    }

    /** Waits until every queued message has its outcome recorded. */
    public void awaitQueueEmpty() throws InterruptedException {
        awaitQueue("queue empty", () -> store.store().queue().list().isEmpty());
    }

    /** Waits until {@code condition} on the queue holds, for at most 20 s. */
    public void awaitQueue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not " + what + ": " + store.store().queue().list());
            }
            Thread.sleep(10); // the queue's state lives in the database: poll it
        }
    }

    @Override
    public void close() {
        smtp.close();
        submission.close();
        lmtp.close();
        runner.close();
        store.close();
    }
}
