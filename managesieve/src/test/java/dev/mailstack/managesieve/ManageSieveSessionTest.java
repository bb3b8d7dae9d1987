package dev.mailstack.managesieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.SieveLimits;
import dev.mailstack.store.SieveScriptEntry;
import dev.mailstack.store.StoreFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ManageSieve server on loopback over a real H2 store on disk: raw sockets as a telnet user, and a transcript. */
class ManageSieveSessionTest {
    static final String PLAIN = Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
    static final int CAPABILITY_LINES = 8; // IMPLEMENTATION SASL SIEVE STARTTLS NOTIFY MAXREDIRECTS VERSION UNAUTHENTICATE

    @TempDir
    Path dir;
    StoreFixture store;
    AuthThrottle throttle;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        listen(ManageSieveSettings.defaults("sieve.example.org"));
    }

    private void listen(ManageSieveSettings settings) throws IOException {
        listen(settings, NetLimits.defaults());
    }

    private void listen(ManageSieveSettings settings, NetLimits limits) throws IOException {
        throttle = new AuthThrottle(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMinutes(1), Clock.systemUTC());
        listener = TcpListener.start(new Endpoint("sieve", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), new ManageSieveProtocol(store.store(), settings, throttle), limits,
                TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    private void restart(ManageSieveSettings settings) throws IOException {
        listener.close();
        listen(settings);
    }

    @AfterEach
    void stop() {
        listener.close();
        store.close();
    }

    private LineClient connect() throws IOException {
        LineClient c = new LineClient(listener.port());
        skipCapabilities(c);
        return c;
    }

    private static void skipCapabilities(LineClient c) throws IOException {
        c.expect("\"IMPLEMENTATION\" \"mailstack\"");
        c.expectEventually("OK");
    }

    private LineClient login() throws IOException {
        LineClient c = connect();
        c.send("AUTHENTICATE \"PLAIN\" \"" + PLAIN + "\"").expect("OK \"Logged in as alice@example\\.org\"");
        return c;
    }

    private List<SieveScriptEntry> scripts() {
        return store.store().sieveScripts().list(store.user().id());
    }

    /**
     * A literal trickled a byte every 200 ms, each read inside the 1 s idle timeout but far under the
     * 100 bytes/s asked (Postfix's smtpd_min_data_rate), ends the session as an idle one, before login too.
     */
    @Test
    void aLiteralTrickledUnderTheMinimumDataRateEndsWithBye() throws Exception {
        listener.close();
        listen(ManageSieveSettings.defaults("sieve.example.org"),
                new NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(100));
        try (LineClient c = connect()) {
            c.setTimeout(Duration.ofSeconds(8));
            c.send("AUTHENTICATE \"PLAIN\" {4000+}");
            assertTrickleEndsWithBye(c);
        }
    }

    /**
     * What follows a literal on its line (RFC 5804 §4) must come whole within the idle timeout, as
     * the line before it: trickled a byte every 200 ms it ends the session, where each read alone
     * would have waited a whole idle timeout, max_line_bytes times over. At an ordinary pace it logs in.
     */
    @Test
    void theLineAfterALiteralTrickledEndsWithBye() throws Exception {
        listener.close();
        listen(ManageSieveSettings.defaults("sieve.example.org"), new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
        String withLiteral = "AUTHENTICATE \"PLAIN\" {" + PLAIN.length() + "+}\r\n" + PLAIN;
        try (LineClient c = connect()) {
            c.setTimeout(Duration.ofSeconds(8));
            c.sendRaw(withLiteral);
            assertTrickleEndsWithBye(c);
        }
        try (LineClient c = connect()) {
            c.sendRaw(withLiteral + "\r\n").expect("OK \"Logged in as alice@example\\.org\"");
        }
    }

    /** Trickles a byte every 200 ms, each read inside the 1 s idle timeout, until the server says goodbye. */
    private static void assertTrickleEndsWithBye(LineClient c) throws Exception {
        long start = System.nanoTime();
        dev.mailstack.net.Trickle trickle = dev.mailstack.net.Trickle.start(c::sendRaw, "x", Duration.ofMillis(200));
        try {
            c.expect("BYE .*Idle for too long.*");
        } finally {
            trickle.close();
        }
        long took = System.nanoTime() - start;
        assertTrue(took < Duration.ofSeconds(3).toNanos(), "cut off only after " + took / 1_000_000 + " ms");
    }

    @Test
    void telnetTranscript() throws IOException {
        TranscriptRunner.run("/transcripts/telnet.txt", n -> {
            try {
                return new LineClient(listener.port());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(List.of(new SieveScriptEntry("vacation", false)), scripts());
    }

    @Test
    void getScriptSendsTheScriptOctetForOctet() throws IOException {
        // no final line break, a CR alone would not survive; CRLF inside, Chinese and a quote
        String script = "# 中文注释 \"quoted\"\r\nrequire \"fileinto\";\r\nfileinto \"收件箱\";";
        store.store().sieveScripts().put(store.user().id(), "s", script, SieveLimits.defaults());
        try (LineClient c = login()) {
            c.send("GETSCRIPT \"s\"");
            int octets = Integer.parseInt(c.expect("\\{\\d+}").replaceAll("[{}]", ""));
            assertEquals(script.getBytes(StandardCharsets.UTF_8).length, octets);
            StringBuilder got = new StringBuilder(c.readLine());
            while (got.toString().getBytes(StandardCharsets.UTF_8).length < octets) {
                got.append("\r\n").append(c.readLine());
            }
            assertEquals(script, got.toString());
            c.expect("OK");
        }
    }

    @Test
    void putScriptStoresWhatWasSentAndTheActiveOneIsWhatDeliveryReads() throws IOException {
        byte[] script = "# 垃圾邮件\r\nrequire \"fileinto\";\r\n".getBytes(StandardCharsets.UTF_8);
        try (LineClient c = login()) {
            c.sendRaw("PUTSCRIPT \"spam\" {" + script.length + "+}\r\n").sendBytes(script).sendRaw("\r\n");
            c.expect("OK \"Script stored\"");
            c.send("SETACTIVE \"spam\"").expect("OK \"Script activated\"");
        }
        assertEquals(Optional.of(new String(script, StandardCharsets.UTF_8)),
                store.store().sieveScripts().activeSieveScript(store.user().id()));
    }

    @Test
    void anOverSizeScriptIsDrainedAndRefusedAndTheSessionGoesOn() throws IOException {
        restart(new ManageSieveSettings("sieve.example.org", PlaintextAuth.LOOPBACK, new SieveLimits(20, 100)));
        String big = "#" + "x".repeat(150) + "\r\n";
        try (LineClient c = login()) {
            c.sendRaw("PUTSCRIPT \"big\" {" + big.length() + "+}\r\n" + big + "\r\n");
            c.expect("NO \\(QUOTA/MAXSIZE\\) \"A string of 153 octets is over the 100 octet limit\"");
            // CHECKSCRIPT's error path, with a limit this server owns (the parser accepts everything yet)
            c.sendRaw("CHECKSCRIPT {" + big.length() + "}\r\n" + big + "\r\n");
            c.expect("NO \\(QUOTA/MAXSIZE\\) .*");
            c.send("LISTSCRIPTS").expect("OK");
            c.send("HAVESPACE \"big\" 101").expect("NO \\(QUOTA/MAXSIZE\\) .*");
        }
        assertEquals(List.of(), scripts());
    }

    @Test
    void aFarOverSizeLiteralEndsTheSessionUnread() throws IOException {
        try (LineClient c = login()) {
            c.sendRaw("PUTSCRIPT \"huge\" {999999999+}\r\n");
            c.expect("BYE \\(QUOTA/MAXSIZE\\) \"A string of 999999999 octets is far over the 65536 octet limit; closing the connection\"");
            c.expectClosed();
        }
    }

    @Test
    void beforeLoginNoLargeStringIsRead() throws IOException {
        try (LineClient c = connect()) {
            c.sendRaw("AUTHENTICATE \"PLAIN\" {100000+}\r\n");
            c.expect("BYE \\(QUOTA/MAXSIZE\\) .*");
            c.expectClosed();
        }
    }

    /** Small literals, one after another on one command: the command as a whole is bounded, before login too. */
    @Test
    void literalAfterLiteralOnOneCommandEndsTheSession() throws IOException {
        try (LineClient c = connect()) {
            c.sendRaw("NOOP {4000+}\r\n" + "x".repeat(4000) + " {4000+}\r\n" + "x".repeat(4000) + " {4000+}\r\n"
                    + "x".repeat(4000) + " {4000+}\r\n");
            c.expect("BYE \\(QUOTA/MAXSIZE\\) .*"); // 16,000 octets: past 8 KiB and room for names
            c.expectClosed();
        }
        try (LineClient c = connect()) {
            c.sendRaw("NOOP {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd {1+}\r\ne\r\n");
            c.expect("BYE \\(QUOTA/MAXSIZE\\) .*"); // five strings: no command takes that many
            c.expectClosed();
        }
    }

    /** RFC 6609 §3.2: whether an included script exists is known when the include runs, not at upload. */
    @Test
    void aScriptIncludingOneNotUploadedYetIsStored() throws IOException {
        try (LineClient c = login()) {
            c.send("PUTSCRIPT \"main\" \"require \\\"include\\\"; include :personal \\\"later\\\";\"")
                    .expect("OK \"Script stored\"");
            c.send("CHECKSCRIPT \"require \\\"include\\\"; include :global \\\"site\\\";\"").expect("OK.*");
            c.send("CHECKSCRIPT \"include \\\"x\\\";\"").expect("NO .*include needs require.*");
        }
    }

    @Test
    void tooManyScriptsAreRefusedWithMaxScripts() throws IOException {
        restart(new ManageSieveSettings("sieve.example.org", PlaintextAuth.LOOPBACK, new SieveLimits(1, 1000)));
        try (LineClient c = login()) {
            c.send("PUTSCRIPT \"a\" \"keep;\"").expect("OK \"Script stored\"");
            c.send("PUTSCRIPT \"b\" \"keep;\"").expect("NO \\(QUOTA/MAXSCRIPTS\\) \"an account keeps at most 1 scripts: delete one first\"");
            c.send("HAVESPACE \"b\" 1").expect("NO \\(QUOTA/MAXSCRIPTS\\) .*");
            c.send("HAVESPACE \"a\" 1").expect("OK .*");
        }
    }

    @Test
    void plaintextLoginIsRefusedWithoutTlsThenWorksAfterStartTls() throws IOException {
        restart(ManageSieveSettings.defaults("sieve.example.org").withPlaintextAuth(PlaintextAuth.NEVER));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\"IMPLEMENTATION\" \"mailstack\"");
            c.expect("\"SASL\" \"\""); // RFC 5804 §1.7: nothing to log in with before TLS
            c.expectEventually("OK");
            c.send("AUTHENTICATE \"PLAIN\" \"" + PLAIN + "\"").expect("NO \\(ENCRYPT-NEEDED\\) .*");
            c.send("STARTTLS").expect("OK \"Begin TLS negotiation now\"");
            c.startTls();
            c.expect("\"IMPLEMENTATION\" \"mailstack\""); // RFC 5804 §2.2: capabilities again
            c.expect("\"SASL\" \"PLAIN LOGIN\"");
            c.expect("\"SIEVE\" \"" + String.join(" ", SieveScript.EXTENSIONS) + "\"");
            c.expect("\"NOTIFY\" \"mailto\""); // RFC 5804 §1.7: SIEVE lists enotify
            c.expect("\"MAXREDIRECTS\" \"4\""); // no STARTTLS any more
            c.expectEventually("OK");
            c.send("STARTTLS").expect("NO \"TLS already active\"");
            c.send("AUTHENTICATE \"PLAIN\" \"" + PLAIN + "\"").expect("OK \"Logged in as alice@example\\.org\"");
            c.send("CAPABILITY").expect("\"IMPLEMENTATION\" \"mailstack\"");
            c.expect("\"SASL\" \"\"");
            c.expect("\"SIEVE\" \"" + String.join(" ", SieveScript.EXTENSIONS) + "\"");
            c.expect("\"NOTIFY\" \"mailto\""); // RFC 5804 §1.7: SIEVE lists enotify
            c.expect("\"MAXREDIRECTS\" \"4\"");
            c.expect("\"OWNER\" \"alice@example\\.org\"");
            c.expectEventually("OK");
        }
    }

    @Test
    void authenticateLoginWithChallengesAndQuotedAndLiteralResponses() throws IOException {
        String user = Base64.getEncoder().encodeToString("alice@example.org".getBytes(StandardCharsets.US_ASCII));
        String password = Base64.getEncoder().encodeToString("secret".getBytes(StandardCharsets.US_ASCII));
        try (LineClient c = connect()) {
            c.send("AUTHENTICATE \"LOGIN\"").expect("\"VXNlcm5hbWU6\"");
            c.send("\"" + user + "\"").expect("\"UGFzc3dvcmQ6\"");
            c.sendRaw("{" + password.length() + "+}\r\n" + password + "\r\n");
            c.expect("OK \"Logged in as alice@example\\.org\"");
            c.send("UNAUTHENTICATE").expect("OK .*");
            c.send("LISTSCRIPTS").expect("NO \"Log in first .*");
            c.send("AUTHENTICATE \"PLAIN\"").expect("\"\"");
            c.send("\"*\"").expect("NO \"Authentication cancelled\"");
            c.send("AUTHENTICATE \"PLAIN\"").expect("\"\"");
            c.send("\"" + PLAIN + "\"").expect("OK \"Logged in as alice@example\\.org\"");
        }
    }

    @Test
    void failedLoginsAreThrottledAndCounted() throws IOException {
        try (LineClient c = connect()) {
            long start = System.nanoTime();
            for (int i = 0; i < 3; i++) { // three guesses (one wrong password repeated would not grow the delay)
                String wrong = Base64.getEncoder().encodeToString(("\0alice@example.org\0wrong" + i).getBytes(StandardCharsets.UTF_8));
                c.send("AUTHENTICATE \"PLAIN\" \"" + wrong + "\"").expect("NO \"Authentication failed\"");
            }
            // 10 + 20 + 40 ms, each waited before the NO
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() >= 70);
            assertEquals(3, throttle.failed("sieve"));
            c.send("AUTHENTICATE \"PLAIN\" \"" + PLAIN + "\"").expect("OK .*");
            assertEquals(1, throttle.succeeded("sieve"));
        }
    }

    @Test
    void badSyntaxAndOverlongLinesAreAnsweredAndTheSessionGoesOn() throws IOException {
        try (LineClient c = login()) {
            c.send("PUTSCRIPT \"unterminated").expect("NO \"Quoted string without its closing quote\"");
            c.send("PUTSCRIPT \"a\\x\" \"keep;\"").expect("NO \"Only .* may be escaped in a quoted string\"");
            c.send("HAVESPACE \"a\" lots").expect("NO \"Expected a number from 0 to 4294967295\"");
            c.send("LISTSCRIPTS now").expect("NO \"This command takes no arguments\"");
            c.send("PUTSCRIPT \"a\"").expect("NO \"Usage: PUTSCRIPT .*");
            c.send("AUTHENTICATE \"PLAIN\" \"" + PLAIN + "\"").expect("NO \"Already authenticated .*");
            c.send("X".repeat(10_000)).expect("NO \"Line too long\"");
            // an over-long line that ends in a literal: the literal goes with it, not read as commands
            c.sendRaw("PUTSCRIPT \"" + "n".repeat(10_000) + "\" {8+}\r\nLOGOUT\r\n\r\n");
            c.expect("NO \"Line too long\"");
            c.sendRaw("PUTSCRIPT \"bad\" {2+}\r\n\r\n\r\n"); // a script of one CRLF, then the command's end
            c.expect("OK \"Script stored\"");
            c.sendBytes(new byte[]{'C', 'H', 'E', 'C', 'K', 'S', 'C', 'R', 'I', 'P', 'T', ' ', '{', '2', '+', '}', '\r', '\n',
                (byte) 0xC3, (byte) 0x28, '\r', '\n'});
            c.expect("NO \"Strings and scripts must be UTF-8 .*\"");
            c.send("LISTSCRIPTS").expect("\"bad\"");
            c.expect("OK");
        }
    }

    @Test
    void anOverlongLineIsDroppedWithEveryLiteralOfItsCommand() throws IOException {
        try (LineClient c = login()) {
            // RFC 5804 §4: after its literal the command goes on, here into a second literal, whose
            // octets are the client's data, never commands
            c.sendRaw("PUTSCRIPT \"" + "n".repeat(10_000) + "\" {4+}\r\nabcd {16+}\r\nLOGOUT\r\nLOGOUT\r\n\r\n");
            c.expect("NO \"Line too long\"");
            c.send("NOOP").expect("OK.*");
        }
    }

    @Test
    void aSecondOverlongLineAfterALiteralIsAnsweredWithByeAndTheConnectionClosed() throws IOException {
        try (LineClient c = login()) {
            c.sendRaw("PUTSCRIPT \"" + "n".repeat(10_000) + "\" {4+}\r\nabcd" + "x".repeat(10_000) + "\r\n");
            c.expect("BYE \"Line too long after a literal; closing the connection\"");
            c.expectClosed();
        }
    }

    /** RFC 5804 §4: a quoted string is UTF-8 as a literal is; "a\\xFF" was stored as the name "a\\uFFFD". */
    @Test
    void aQuotedStringThatIsNotUtf8IsRefusedAndNothingIsStored() throws IOException {
        try (LineClient c = login()) {
            c.sendBytes(new byte[]{'P', 'U', 'T', 'S', 'C', 'R', 'I', 'P', 'T', ' ', '"', 'a', (byte) 0xFF, '"', ' ', '{', '5', '+', '}',
                '\r', '\n', 'k', 'e', 'e', 'p', ';', '\r', '\n'});
            c.expect("NO \"Strings and scripts must be UTF-8 .*\"");
            c.sendBytes(new byte[]{'P', 'U', 'T', 'S', 'C', 'R', 'I', 'P', 'T', ' ', '"', 'b', '"', ' ', '"', 'k', (byte) 0xC3, '"', '\r', '\n'});
            c.expect("NO \"Strings and scripts must be UTF-8 .*\"");
            // a U+FFFD the client did send is UTF-8, and a name like any other
            c.sendBytes("PUTSCRIPT \"c\uFFFD\" \"keep;\"\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            c.expect("OK \"Script stored\"");
            c.send("NOOP").expect("OK .*");
        }
        assertEquals(List.of("c\uFFFD"), scripts().stream().map(SieveScriptEntry::name).toList());
    }

    @Test
    void tooManyBadCommandsEndTheSessionWithBye() throws IOException {
        restart(ManageSieveSettings.defaults("sieve.example.org").withMaxBadCommands(3));
        try (LineClient c = connect()) {
            c.send("NONSENSE").expect("NO .*");
            c.send("NONSENSE").expect("NO .*");
            c.send("NONSENSE").expect("BYE \"Too many bad commands; closing the connection\"");
            c.expectClosed();
        }
    }

    @Test
    void deletingTheAccountEndsItsSession() throws IOException {
        try (LineClient c = login()) {
            store.store().accounts().removeUser("alice@example.org");
            c.expect("BYE \"This account was deleted or disabled; closing the connection\"");
            c.expectClosed();
        }
    }

    @Test
    void theGreetingListsCapabilitiesThenOk() throws IOException {
        try (LineClient c = new LineClient(listener.port())) {
            for (int i = 0; i < CAPABILITY_LINES; i++) {
                assertTrue(c.readLine().startsWith("\""));
            }
            c.expect("OK");
            c.send("LOGOUT").expect("OK \"Logout completed\"");
            c.expectClosed();
        }
    }
}
