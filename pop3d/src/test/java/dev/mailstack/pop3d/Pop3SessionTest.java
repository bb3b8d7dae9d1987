package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.PlaintextAuth;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.net.TranscriptRunner;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MailboxChange;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import dev.mailstack.store.Transaction;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.eclipse.angus.mail.pop3.POP3Folder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The POP3 server on loopback over a real H2 store on disk: raw sockets, a transcript, Angus Mail. */
class Pop3SessionTest {
    static final String FIRST = "Subject: one\r\n\r\nfirst\r\n.dot line\r\n";
    static final String SECOND = "Subject: two\r\nX-Long: a\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";
    static final String USER = "alice@example.org";

    @TempDir
    Path dir;
    StoreFixture store;
    Pop3Protocol protocol;
    TcpListener listener;
    TcpListener implicitTls;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        TestMessages.append(store.session(), store.inbox(), FIRST);
        TestMessages.append(store.session(), store.inbox(), SECOND);
        listen(Pop3Settings.defaults("pop.example.org"));
    }

    /** Port 110 style (STLS) and port 995 style (implicit TLS) endpoints sharing one protocol, as the server wires them. */
    private void listen(Pop3Settings settings) throws IOException {
        listen(settings, new AuthThrottle(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMinutes(1),
                Clock.systemUTC()));
    }

    private void listen(Pop3Settings settings, AuthThrottle throttle) throws IOException {
        protocol = new Pop3Protocol(store.store(), settings, throttle);
        var tls = TestTls.serverContext(Files.createDirectories(dir.resolve("tls")));
        listener = TcpListener.start(new Endpoint("pop3", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), protocol, NetLimits.defaults(), tls);
        implicitTls = TcpListener.start(new Endpoint("pop3s", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), protocol, NetLimits.defaults(), tls);
    }

    private void restart(Pop3Settings settings) throws IOException {
        listener.close();
        implicitTls.close();
        listen(settings);
    }

    private void restart(Pop3Settings settings, AuthThrottle throttle) throws IOException {
        listener.close();
        implicitTls.close();
        listen(settings, throttle);
    }

    @AfterEach
    void stop() {
        listener.close();
        implicitTls.close();
        store.close();
    }

    private LineClient login() throws IOException {
        LineClient c = new LineClient(listener.port());
        c.expect("\\+OK pop.example.org POP3 ready \\(mailstack\\)");
        c.send("USER " + USER).expect("\\+OK .*");
        c.send("PASS secret").expect("\\+OK alice@example.org has \\d+ messages .*");
        return c;
    }

    private long inboxCount() {
        return store.session().status(MailboxName.INBOX).messages();
    }

    private List<MessageRef> inbox() {
        try (MailboxView v = store.session().select(MailboxName.INBOX)) {
            return v.messages();
        }
    }

    /** Waits (without a fixed sleep) until the server-side session has ended and let go of the maildrop. */
    private void awaitSessionEnded() {
        await(() -> !protocol.locks().isHeld(store.user().id()), "the POP3 session to release the maildrop");
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * mailstack user del while the client is logged in: it hears why at once and the connection
     * closes without QUIT's UPDATE (RFC 1939 §6), so its DELE marks never reach the store; the
     * maildrop is let go and the address logs in no more.
     */
    @Test
    void deletingTheAccountEndsItsSessionWithoutApplyingItsMarks() throws Exception {
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK Message 1 deleted");
            store.store().accounts().removeUser(USER);
            c.expect("-ERR \\[SYS/PERM\\] This account was deleted or disabled; closing the connection");
            c.expectClosed();
        }
        awaitSessionEnded();
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("PASS secret").expect("-ERR \\[AUTH\\] Authentication failed");
        }
    }

    // --- the telnet walk-through and each command

    @Test
    void aTelnetSessionWithEveryCommand() throws Exception {
        TranscriptRunner.run("/transcripts/telnet.txt", port -> {
            try {
                return new LineClient(listener.port());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(1, inboxCount(), "DELE 1 applied at QUIT");
    }

    @Test
    void badInputGetsAClearErrorAndTheSessionGoesOn() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withMaxBadCommands(100)); // the transcript makes ~30 mistakes
        TranscriptRunner.run("/transcripts/errors.txt", port -> {
            try {
                return new LineClient(listener.port());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(2, inboxCount(), "RSET undid the DELE");
    }

    @Test
    void anOverlongLineIsRefusedAndTheSessionContinues() throws Exception {
        try (LineClient c = login()) {
            c.send("x".repeat(10000)).expect("-ERR Line too long");
            c.send("STAT").expect("\\+OK 2 \\d+");
        }
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            // RFC 2449 §6.6 PIPELINING: several commands in one write
            c.sendRaw("USER " + USER + "\r\nPASS secret\r\nSTAT\r\nLIST 2\r\nUIDL 1\r\nNOOP\r\n");
            c.expect("\\+OK Send your password with PASS");
            c.expect("\\+OK alice@example.org has 2 messages \\(\\d+ octets\\)");
            c.expect("\\+OK 2 " + (FIRST.length() + SECOND.length()));
            c.expect("\\+OK 2 " + SECOND.length());
            c.expect("\\+OK 1 [0-9a-f]+-1");
            c.expect("\\+OK");
        }
    }

    @Test
    void pipelinedRetrsAndListingsAreAllAnsweredInOrder() throws Exception {
        try (LineClient c = login()) {
            // replies to pipelined RETRs may be held back; the last one must still arrive unasked
            c.sendRaw("RETR 1\r\nRETR 2\r\nUIDL\r\nRETR 1\r\n");
            c.expect("\\+OK " + FIRST.length() + " octets");
            c.expect("Subject: one");
            c.expectEventually("\\.");
            c.expect("\\+OK " + SECOND.length() + " octets");
            c.expectEventually("line 3");
            c.expect("\\.");
            c.expect("\\+OK Unique-id listing follows");
            c.expect("1 [0-9a-f]+-1");
            c.expect("2 [0-9a-f]+-2");
            c.expect("\\.");
            c.expect("\\+OK " + FIRST.length() + " octets");
            c.expect("Subject: one");
            c.expect("");
            c.expect("first");
            c.expect("\\.\\.dot line");
            c.expect("\\.");
        }
    }

    @Test
    void statListAndUidlLeaveOutMessagesMarkedDeletedUntilRset() throws Exception {
        try (LineClient c = login()) {
            c.send("UIDL 1");
            String first = c.expect("\\+OK 1 [0-9a-f]+-1").substring("+OK 1 ".length());
            c.send("UIDL 2");
            String second = c.expect("\\+OK 2 [0-9a-f]+-2").substring("+OK 2 ".length());
            c.send("LIST").expect("\\+OK 2 messages \\(" + (FIRST.length() + SECOND.length()) + " octets\\)");
            c.expect("1 " + FIRST.length());
            c.expect("2 " + SECOND.length());
            c.expect("\\.");
            c.send("DELE 1").expect("\\+OK .*");
            c.send("STAT").expect("\\+OK 1 " + SECOND.length());
            c.send("LIST").expect("\\+OK 1 messages \\(" + SECOND.length() + " octets\\)");
            c.expect("2 " + SECOND.length());
            c.expect("\\.");
            c.send("UIDL").expect("\\+OK .*");
            c.expect("2 " + second); // the listing spells each unique id as UIDL n does
            c.expect("\\.");
            c.send("RSET").expect("\\+OK Maildrop has 2 messages \\(" + (FIRST.length() + SECOND.length()) + " octets\\)");
            c.send("STAT").expect("\\+OK 2 " + (FIRST.length() + SECOND.length()));
            c.send("UIDL").expect("\\+OK .*");
            c.expect("1 " + first);
            c.expect("2 " + second);
            c.expect("\\.");
        }
    }

    @Test
    void topSendsHeaderAndNLinesAndDoesNotMarkSeen() throws Exception {
        try (LineClient c = login()) {
            c.send("TOP 2 0").expect("\\+OK Top of message follows");
            c.expect("Subject: two");
            c.expect("X-Long: a");
            c.expect("");
            c.expect("\\.");
            c.send("TOP 2 99").expect("\\+OK .*");
            c.expect("Subject: two");
            c.expectEventually("line 3");
            c.expect("\\.");
            c.send("QUIT").expect("\\+OK .*\\(0 messages deleted\\)");
        }
        assertTrue(inbox().stream().noneMatch(m -> m.flags().has(Flag.SEEN)));
    }

    @Test
    void retrievedMessagesAreSeenAfterQuitButNotAfterADrop() throws Exception {
        try (LineClient c = login()) {
            c.send("RETR 1").expect("\\+OK " + FIRST.length() + " octets");
            c.expectEventually("\\.");
        }
        awaitSessionEnded();
        assertTrue(inbox().stream().noneMatch(m -> m.flags().has(Flag.SEEN)), "no QUIT, no \\Seen");
        try (LineClient c = login()) {
            c.send("RETR 2").expect("\\+OK " + SECOND.length() + " octets");
            c.expectEventually("\\.");
            c.send("QUIT").expect("\\+OK .*");
        }
        List<MessageRef> messages = inbox();
        assertFalse(messages.get(0).flags().has(Flag.SEEN));
        assertTrue(messages.get(1).flags().has(Flag.SEEN));
    }

    // --- UPDATE state: deletions only at QUIT

    @Test
    void deleThenQuitRemovesAndADroppedConnectionDeletesNothing() throws Exception {
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK Message 1 deleted");
            c.send("DELE 2").expect("\\+OK Message 2 deleted");
            c.send("STAT").expect("\\+OK 0 0");
        } // closed without QUIT
        awaitSessionEnded();
        assertEquals(2, inboxCount());
        try (LineClient c = login()) {
            c.send("STAT").expect("\\+OK 2 \\d+");
            c.send("DELE 2").expect("\\+OK .*");
            c.send("QUIT").expect("\\+OK .*\\(1 messages deleted\\)");
            c.expectClosed();
        }
        assertEquals(1, inboxCount());
        assertEquals("one", subjectOf(inbox().get(0)));
    }

    private String subjectOf(MessageRef m) throws IOException {
        try (var in = store.session().openContent(m)) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return text.substring("Subject: ".length(), text.indexOf("\r\n"));
        }
    }

    @Test
    void anImapViewSeesPop3DeletionsAsExpunges() throws Exception {
        try (MailboxView imap = store.session().select(MailboxName.INBOX)) {
            try (LineClient c = login()) {
                c.send("DELE 1").expect("\\+OK .*");
                c.send("QUIT").expect("\\+OK .*");
            }
            List<MailboxChange> changes = imap.refresh();
            assertEquals(1, changes.size(), changes.toString());
            assertTrue(changes.get(0) instanceof MailboxChange.Expunged e && e.uid().value() == 1, changes.toString());
        }
    }

    @Test
    void aMessageExpungedByImapDuringTheSessionDoesNotBreakQuit() throws Exception {
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            try (Transaction t = store.session().begin()) {
                t.expunge(store.inbox(), List.of(inbox().get(0).uid()));
                t.commit();
            }
            c.send("RETR 2").expect("\\+OK .*");
            c.expectEventually("\\.");
            c.send("QUIT").expect("\\+OK .*\\(0 messages deleted\\)");
        }
        assertEquals(1, inboxCount());
        assertTrue(inbox().get(0).flags().has(Flag.SEEN));
    }

    @Test
    void aQuitThatCannotReachTheStoreChangesNothingAndSaysSo() throws Exception {
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            c.send("RETR 2").expect("\\+OK .*");
            c.expectEventually("\\.");
            c.setTimeout(Duration.ofSeconds(60));
            // Another writer holds INBOX's row lock past the store's lock timeout (H2 LOCK_TIMEOUT)
            try (Transaction other = store.session().begin()) {
                other.setFlags(store.inbox(), List.of(inbox().get(0).uid()),
                        new dev.mailstack.store.FlagChange(dev.mailstack.store.FlagChange.Mode.ADD,
                                dev.mailstack.store.Flags.of(Flag.FLAGGED)));
                c.send("QUIT").expect("-ERR \\[SYS/TEMP\\] Some deleted messages not removed; nothing was changed");
                c.expectClosed();
            } // rolled back
        }
        awaitSessionEnded();
        assertEquals(2, inboxCount());
        assertTrue(inbox().stream().noneMatch(m -> m.flags().has(Flag.SEEN)), "the \\Seen marks went with the failed update");
        try (LineClient c = login()) {
            c.send("STAT").expect("\\+OK 2 \\d+");
        }
    }

    // --- the maildrop: lock, snapshot, unique ids

    @Test
    void aSecondSessionForTheSameUserIsInUseUntilTheFirstQuitsOrDrops() throws Exception {
        try (LineClient first = login(); LineClient second = new LineClient(listener.port())) {
            second.expect("\\+OK .*");
            second.send("USER " + USER).expect("\\+OK .*");
            second.send("PASS secret").expect("-ERR \\[IN-USE\\] .*");
            String plain = plain(USER, "secret");
            second.send("AUTH PLAIN " + plain).expect("-ERR \\[IN-USE\\] .*");
            first.send("QUIT").expect("\\+OK .*");
            second.send("AUTH PLAIN " + plain).expect("\\+OK .*");
        }
        awaitSessionEnded(); // the second one dropped: its lock is released too
        try (LineClient third = login()) {
            third.send("NOOP").expect("\\+OK");
        }
        awaitSessionEnded();
        try (LineClient overTls = LineClient.tls(implicitTls.port()); LineClient plainText = login()) {
            overTls.expect("\\+OK .*"); // one lock for both endpoints
            overTls.send("USER " + USER).expect("\\+OK .*");
            overTls.send("PASS secret").expect("-ERR \\[IN-USE\\] .*");
        }
    }

    @Test
    void uidlStaysTheSameAcrossSessionsAndRestarts() throws Exception {
        String before;
        try (LineClient c = login()) {
            c.send("UIDL 2");
            before = c.expect("\\+OK 2 [0-9a-f]+-2").substring("+OK ".length());
        }
        awaitSessionEnded();
        try (LineClient c = login()) {
            c.send("UIDL 2").expect("\\+OK " + before);
        }
        listener.close();
        implicitTls.close();
        store.close();
        store = new StoreFixture(MailboxStore.open(dir.resolve("data"), null), store.user());
        listen(Pop3Settings.defaults("pop.example.org"));
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            c.send("UIDL").expect("\\+OK .*");
            c.expect(before); // message 1 is marked deleted and not listed
            c.expect("\\.");
            c.send("QUIT").expect("\\+OK .*");
        }
        try (LineClient c = login()) {
            c.send("UIDL").expect("\\+OK .*");
            c.expect("1 " + before.substring(2)); // now message 1, same unique id
            c.expect("\\.");
        }
    }

    @Test
    void mailDeliveredDuringASessionStaysOutOfItsSnapshot() throws Exception {
        try (LineClient c = login()) {
            TestMessages.append(store.session(), store.inbox(), "Subject: late\r\n\r\nlate\r\n");
            c.send("STAT").expect("\\+OK 2 \\d+");
            c.send("LIST").expect("\\+OK 2 messages .*");
            c.expect("1 \\d+");
            c.expect("2 \\d+");
            c.expect("\\.");
            c.send("RETR 3").expect("-ERR No such message");
            c.send("DELE 1").expect("\\+OK .*");
            c.send("QUIT").expect("\\+OK .*\\(1 messages deleted\\)");
        }
        assertEquals(2, inboxCount(), "the late message survived");
        try (LineClient c = login()) {
            c.send("STAT").expect("\\+OK 2 \\d+");
        }
    }

    // --- TLS and authentication

    @Test
    void stlsDropsInjectedCommandsAndAuthPlainWorksAfterIt() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("CAPA").expect("\\+OK Capability list follows");
            assertEquals("STLS", c.expectEventually("STLS|\\."));
            c.expectEventually("\\.");
            c.send("USER " + USER).expect("\\+OK .*");
            // RFC 2595 §4 / CVE-2011-0411: bytes pipelined after STLS must not run under TLS
            c.sendRaw("STLS\r\nPASS secret\r\n").expect("\\+OK Begin TLS negotiation");
            c.startTls();
            c.send("PASS secret").expect("-ERR USER first"); // USER before TLS was forgotten too
            c.send("CAPA").expect("\\+OK .*");
            assertEquals(".", c.expectEventually("STLS|\\."), "no STLS once secure");
            c.send("STLS").expect("-ERR TLS already active");
            c.send("AUTH PLAIN " + plain(USER, "secret")).expect("\\+OK .*");
            c.send("STAT").expect("\\+OK 2 \\d+");
        }
    }

    /**
     * An AUTH exchange under way (RFC 5034 §4) is part of one command, not a wait between two: a
     * stop says goodbye to a session waiting for its next command at once (so it has looked at
     * both), and to one in the middle of AUTH only after the exchange is answered.
     */
    @Test
    void aStopLetsAnAuthExchangeUnderWayFinish() throws Exception {
        try (LineClient idle = new LineClient(listener.port()); LineClient c = new LineClient(listener.port())) {
            idle.expect("\\+OK .*");
            c.expect("\\+OK .*");
            c.send("AUTH PLAIN").expect("\\+ ?");
            java.util.concurrent.CompletableFuture<Void> stopping = java.util.concurrent.CompletableFuture.runAsync(
                    () -> listener.shutdown(Duration.ofSeconds(20)));
            idle.expect("-ERR .*shutting down.*");
            c.send(plain(USER, "secret")).expect("\\+OK alice@example.org has \\d+ messages .*");
            c.expect("-ERR .*shutting down.*");
            c.expectClosed();
            stopping.get(20, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void implicitTlsServesTheSameMaildrop() throws Exception {
        try (LineClient c = LineClient.tls(implicitTls.port())) {
            c.expect("\\+OK pop.example.org POP3 ready \\(mailstack\\)");
            c.send("STLS").expect("-ERR TLS already active");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("PASS secret").expect("\\+OK alice@example.org has 2 messages .*");
            c.send("QUIT").expect("\\+OK .*");
        }
    }

    @Test
    void withoutTlsPasswordsAreRefusedWhenThePolicySaysNever() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withPlaintextAuth(PlaintextAuth.NEVER));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("CAPA").expect("\\+OK .*");
            c.expect("TOP");
            c.expect("UIDL");
            c.expect("RESP-CODES");
            c.expect("AUTH-RESP-CODE");
            c.expect("PIPELINING");
            c.expect("STLS"); // no USER, no SASL (RFC 2595 §4)
            c.expect("IMPLEMENTATION mailstack");
            c.expect("\\.");
            c.send("USER " + USER).expect("-ERR Password login needs TLS: use STLS first");
            c.send("AUTH PLAIN " + plain(USER, "secret")).expect("-ERR Password login needs TLS.*");
            c.send("AUTH").expect("\\+OK SASL mechanisms follow");
            c.expect("\\.");
            c.send("STLS").expect("\\+OK .*");
            c.startTls();
            c.send("CAPA").expect("\\+OK .*");
            assertEquals("USER", c.expectEventually("USER|\\."));
            c.expectEventually("\\.");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("PASS secret").expect("\\+OK .*");
        }
    }

    @Test
    void authPlainAndLoginWithAndWithoutInitialResponse() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("AUTH").expect("\\+OK SASL mechanisms follow");
            c.expect("PLAIN");
            c.expect("LOGIN");
            c.expect("\\.");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send(plain(USER, "secret")).expect("\\+OK alice@example.org has 2 messages .*");
            c.send("QUIT").expect("\\+OK .*");
        }
        awaitSessionEnded();
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("AUTH LOGIN").expect("\\+ VXNlcm5hbWU6");
            c.send(b64(USER)).expect("\\+ UGFzc3dvcmQ6");
            c.send(b64("secret")).expect("\\+OK .*");
            c.send("QUIT").expect("\\+OK .*");
        }
        awaitSessionEnded();
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("AUTH LOGIN " + b64(USER)).expect("\\+ UGFzc3dvcmQ6");
            c.send(b64("secret")).expect("\\+OK .*");
        }
    }

    @Test
    void authFailuresCancelsAndGarbageGetErrorsAndTheSessionGoesOn() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("AUTH PLAIN " + plain(USER, "wrong")).expect("-ERR \\[AUTH\\] Authentication failed");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send("*").expect("-ERR Authentication cancelled");
            c.send("AUTH LOGIN").expect("\\+ .*");
            c.send(b64(USER)).expect("\\+ .*");
            c.send("*").expect("-ERR Authentication cancelled");
            c.send("AUTH PLAIN !!notbase64!!").expect("-ERR Malformed SASL response");
            c.send("AUTH PLAIN " + b64("no nul bytes")).expect("-ERR Malformed SASL response");
            c.send("AUTH CRAM-MD5").expect("-ERR Unsupported mechanism; use PLAIN or LOGIN");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send("x".repeat(10000)).expect("-ERR SASL response too long; authentication cancelled");
            c.send("APOP alice@example.org c4c9334bac560ecc979e58001b3e22fb").expect("-ERR APOP is not offered.*");
            c.send("AUTH PLAIN " + plain(USER, "secret")).expect("\\+OK .*");
            c.send("AUTH PLAIN " + plain(USER, "secret")).expect("-ERR Not valid after login");
        }
    }

    @Test
    void failedLoginsAreAnsweredAfterTheThrottleDelay() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            for (int i = 0; i < 3; i++) {
                c.send("USER " + USER).expect("\\+OK .*");
                long t0 = System.nanoTime();
                c.send("PASS wrong" + i).expect("-ERR \\[AUTH\\] Authentication failed");
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                long owed = Math.min(40, 10L << i); // 10, 20, 40 ms from the test throttle
                assertTrue(waited >= owed, "failure " + i + " answered after " + waited + " ms, owed " + owed);
            }
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("PASS secret").expect("\\+OK .*");
        }
    }

    @Test
    void aFailureMakesALoginOnAnotherConnectionFromTheAddressWaitItsTurn() throws Exception {
        AuthThrottle throttle = new AuthThrottle(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofMinutes(1),
                Clock.systemUTC());
        restart(Pop3Settings.defaults("pop.example.org"), throttle);
        try (LineClient guesser = new LineClient(listener.port()); LineClient other = new LineClient(listener.port())) {
            guesser.expect("\\+OK .*");
            other.expect("\\+OK .*");
            guesser.send("USER " + USER).expect("\\+OK .*");
            other.send("USER " + USER).expect("\\+OK .*");
            long t0 = System.nanoTime();
            guesser.send("PASS wrong"); // answered after 500 ms; meanwhile the other connection tries
            await(() -> throttle.failed("pop3") == 1, "the failure to be counted");
            other.send("PASS secret").expect("\\+OK alice@example.org has .*");
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            // its password was checked only at the address's next turn, 500 ms after the failure
            assertTrue(waited >= 450, "the login on another connection waited only " + waited + " ms");
            guesser.expect("-ERR \\[AUTH\\] Authentication failed");
        }
    }

    @Test
    void passCountsOnlyImmediatelyAfterUser() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            // RFC 1939 §7: any command between USER and PASS, accepted or not, forgets the name
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("NOOP").expect("-ERR Not valid before login.*");
            c.send("PASS secret").expect("-ERR USER first");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("CAPA").expect("\\+OK.*");
            c.expectEventually("\\.");
            c.send("PASS secret").expect("-ERR USER first");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("FROB").expect("-ERR Unknown command; try CAPA");
            c.send("PASS secret").expect("-ERR USER first");
            c.send("USER " + USER).expect("\\+OK .*");
            c.send("PASS secret").expect("\\+OK alice@example.org has .*");
        }
    }

    // --- limits

    @Test
    void tooManyBadCommandsCloseTheConnection() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withMaxBadCommands(3));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("FROB").expect("-ERR Unknown command; try CAPA");
            c.send("STAT").expect("-ERR Not valid before login.*");
            c.send("NOOP").expect("-ERR Too many bad commands; closing the connection");
            c.expectClosed();
        }
    }

    /** An overlong or cancelled SASL answer is bad input too: AUTH cannot be repeated with 8 KB lines for ever. */
    @Test
    void overlongAndCancelledSaslAnswersCountAsBadCommands() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withMaxBadCommands(3));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send("x".repeat(10000)).expect("-ERR SASL response too long; authentication cancelled");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send("*").expect("-ERR Authentication cancelled");
            c.send("AUTH PLAIN").expect("\\+ ");
            c.send("x".repeat(10000)).expect("-ERR Too many bad commands; closing the connection");
            c.expectClosed();
        }
    }

    @Test
    void anIdleLoggedInSessionIsLoggedOutAndDeletesNothing() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withIdleTimeout(Duration.ofMillis(300)));
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            c.expect("-ERR Autologout; idle for too long"); // waits for the server, no sleep
            c.expectClosed();
        }
        awaitSessionEnded();
        assertEquals(2, inboxCount());
    }

    // --- real clients and big mail

    @Test
    void angusMailReadsTheMaildropWithUidsAndDeletesOnClose() throws Exception {
        Properties props = new Properties();
        props.put("mail.pop3.host", "127.0.0.1");
        props.put("mail.pop3.port", Integer.toString(listener.port()));
        Session session = Session.getInstance(props);
        Store pop = session.getStore("pop3");
        pop.connect(USER, "secret");
        String uid2;
        try {
            POP3Folder inbox = (POP3Folder) pop.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            Message[] messages = inbox.getMessages();
            assertEquals(2, messages.length);
            assertEquals("one", messages[0].getSubject());
            assertEquals("first\r\n.dot line\r\n", messages[0].getContent(), "dot unstuffed by the client");
            assertEquals("line 1\r\nline 2\r\nline 3\r\n", messages[1].getContent());
            assertEquals(List.of(FIRST.length(), SECOND.length()),
                    java.util.Arrays.stream(inbox.getSizes()).boxed().toList(), "LIST sizes are the stored octets");
            uid2 = inbox.getUID(messages[1]);
            assertTrue(uid2.matches("[0-9a-f]+-2"), uid2);
            messages[0].setFlag(jakarta.mail.Flags.Flag.DELETED, true);
            inbox.close(true);
        } finally {
            pop.close();
        }
        assertEquals(1, inboxCount());
        awaitSessionEnded();
        Store again = session.getStore("pop3");
        again.connect(USER, "secret");
        try {
            POP3Folder inbox = (POP3Folder) again.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertEquals(uid2, inbox.getUID(inbox.getMessage(1)), "leave-on-server: the same id next time");
            inbox.close(false);
        } finally {
            again.close();
        }
    }

    @Test
    void angusMailOverStlsWithAuthPlain() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withPlaintextAuth(PlaintextAuth.NEVER));
        Properties props = new Properties();
        props.put("mail.pop3.host", "localhost");
        props.put("mail.pop3.port", Integer.toString(listener.port()));
        props.put("mail.pop3.starttls.required", "true");
        props.put("mail.pop3.ssl.socketFactory", TestTls.clientContext().getSocketFactory());
        props.put("mail.pop3.auth.mechanisms", "PLAIN");
        Store pop = Session.getInstance(props).getStore("pop3");
        pop.connect(USER, "secret");
        try {
            Folder inbox = pop.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertEquals(2, inbox.getMessageCount());
            assertEquals("two", inbox.getMessage(2).getSubject());
            inbox.close(false);
        } finally {
            pop.close();
        }
    }

    @Test
    void aClientThatStopsReadingMidRetrIsCutOffAndTheMaildropIsFreeAgain() throws Exception {
        restart(Pop3Settings.defaults("pop.example.org").withIdleTimeout(Duration.ofSeconds(1)));
        MessageSpool.Spooled m;
        try (MessageSpool spool = store.store().spool()) {
            spool.write("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestMessages.writeRepeated(spool, "more than the socket buffers hold\r\n".getBytes(StandardCharsets.US_ASCII),
                    32L * 1024 * 1024);
            m = spool.finish();
        }
        try (Transaction t = store.session().begin()) {
            t.append(store.inbox(), m, TestMessages.facts(m), dev.mailstack.store.Flags.NONE, Instant.now(), Optional.empty());
            t.commit();
        }
        m.discard();
        try (LineClient stalled = login()) {
            stalled.send("DELE 1").expect("\\+OK .*");
            stalled.send("RETR 3").expect("\\+OK \\d+ octets");
            // ...and reads no more: the server's write blocks until the idle timeout ends the session
            awaitSessionEnded();
        }
        try (LineClient c = login()) {
            c.send("STAT").expect("\\+OK 3 \\d+"); // a session that never reached QUIT deleted nothing
        }
    }

    @Test
    void aFiftyMegabyteMessageIsStreamedWithExactOctets() throws Exception {
        long size = 50L * 1024 * 1024;
        MessageSpool.Spooled m;
        try (MessageSpool spool = store.store().spool()) {
            spool.write("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestMessages.writeRepeated(spool, ".starts with a dot and is stuffed on the wire\r\n".getBytes(StandardCharsets.US_ASCII),
                    size - spool.size() - 2);
            spool.write("\r\n".getBytes(StandardCharsets.US_ASCII)); // end on a line boundary, as stored mail does
            m = spool.finish();
        }
        try (Transaction t = store.session().begin()) {
            t.append(store.inbox(), m, TestMessages.facts(m), dev.mailstack.store.Flags.NONE, Instant.now(), Optional.empty());
            t.commit();
        }
        m.discard();
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        long peak = heapBefore;
        try (LineClient c = login()) {
            c.send("LIST 3").expect("\\+OK 3 " + size);
            c.send("RETR 3").expect("\\+OK " + size + " octets");
            long octets = 0;
            long lines = 0;
            for (String line; !(line = c.readLine()).equals("."); ) {
                octets += (line.startsWith(".") ? line.length() - 1 : line.length()) + 2;
                if (++lines % 100_000 == 0) {
                    System.gc(); // count what is live mid-transfer, not the client's garbage lines
                    peak = Math.max(peak, rt.totalMemory() - rt.freeMemory());
                }
            }
            assertEquals(size, octets, "unstuffed octets equal what LIST announced");
            c.send("NOOP").expect("\\+OK"); // the stream ended exactly at the terminator
        }
        // The JVM holds client and server here; after a collection only live data is left, and a
        // server that loaded the message would keep 50 MB (100 MB as a String) live.
        assertTrue(peak - heapBefore < 48L * 1024 * 1024, "heap grew " + (peak - heapBefore) / 1024 + " KiB");
    }
}
