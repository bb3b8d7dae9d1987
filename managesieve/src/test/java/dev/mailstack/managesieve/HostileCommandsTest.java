package dev.mailstack.managesieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.LineMutator;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.SieveLimits;
import dev.mailstack.store.StoreFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of damaged ManageSieve commands, each followed by a tagged NOOP: every one gets exactly
 * one response (after its data lines, where it has them), and the NOOP's tagged OK comes next.
 * Damage that leaves a literal at the end of the line is followed by that many octets, as a client
 * would send them; a literal too large to drain must end the session with BYE.
 */
class HostileCommandsTest {
    private static final List<String> COMMANDS = List.of(
            "CAPABILITY", "LISTSCRIPTS", "GETSCRIPT \"main\"", "HAVESPACE \"x\" 100", "PUTSCRIPT \"main\" \"keep;\"",
            "PUTSCRIPT \"other\" {5+}", "CHECKSCRIPT \"keep;\"", "SETACTIVE \"main\"", "SETACTIVE \"\"",
            "DELETESCRIPT \"other\"", "RENAMESCRIPT \"other\" \"third\"", "NOOP \"t\"", "AUTHENTICATE \"PLAIN\"",
            "AUTHENTICATE \"LOGIN\"", "AUTHENTICATE \"PLAIN\" \"" + ManageSieveSessionTest.PLAIN + "\"");
    /** No STARTTLS, LOGOUT or UNAUTHENTICATE: a handshake or the end of a session is not what this test is about. */
    private static final List<String> TOKENS = List.of(
            " ", "  ", "\t", "0", "-1", "{", "}", "{3+}", "{0}", "{99999999999999999999+}", "\"", "\\", "\\\"", "*", "中文",
            "(", ")", "%s", "\u0000", "\"\"", "PUTSCRIPT", "AUTHENTICATE", "\"PLAIN\"", "1 2 3 4 5 6 7 8 9");
    private static final Pattern RESPONSE = Pattern.compile("(OK|NO|BYE)( .*)?");
    private static final Pattern CHALLENGE = Pattern.compile("\"[A-Za-z0-9+/=]*\"");
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\+?}[ \\t]*$");
    private static final String SYNC = "OK (TAG \"sync\") \"Done\"";

    @TempDir
    Path dir;
    StoreFixture store;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        store.store().sieveScripts().put(store.user().id(), "main", "keep;\r\n", SieveLimits.defaults());
        listener = TcpListener.start(new Endpoint("managesieve", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), new ManageSieveProtocol(store.store(), ManageSieveSettings.defaults("sieve.example.org"),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC())),
                NetLimits.defaults(), TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    @AfterEach
    void stop() {
        listener.close();
        store.close();
    }

    @Test
    void everyDamagedCommandGetsOneResponseInStep() throws Exception {
        LineMutator mutator = new LineMutator(Long.getLong("hostile.seed", 20261206L), TOKENS);
        LineClient user = null;
        LineClient stranger = null;
        int closed = 0;
        for (int i = 0; i < 3000; i++) {
            boolean before = i % 4 == 0; // every fourth case before login
            if (before && stranger == null) {
                stranger = greeted();
            } else if (!before && user == null) {
                user = greeted();
                user.send("AUTHENTICATE \"PLAIN\" \"" + ManageSieveSessionTest.PLAIN + "\"").expect("OK .*");
            }
            LineClient c = before ? stranger : user;
            String command = mutator.pick(COMMANDS);
            byte[] damaged = mutator.mutate(command, i % 5 == 0 ? 0 : name(command));
            String input = new String(damaged, StandardCharsets.ISO_8859_1);
            Optional<String> last;
            try {
                last = exchange(c, damaged, before);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no response within 5 s to: " + input, e);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + " after: " + input, e);
            }
            // A session the server closed (after BYE), or a stranger who got in, is dropped.
            if (last.isEmpty() || before && last.get().startsWith("OK \"Logged in")) {
                closed += last.isEmpty() ? 1 : 0;
                c.close();
                if (before) {
                    stranger = null;
                } else {
                    user = null;
                }
            }
        }
        for (LineClient c : new LineClient[] {user, stranger}) {
            if (c != null) {
                c.close();
            }
        }
        assertTrue(closed < 400, "sessions closed by the server: " + closed);
    }

    private static int name(String command) {
        int space = command.indexOf(' ');
        return space < 0 ? command.length() : space;
    }

    private LineClient greeted() throws IOException {
        LineClient c = new LineClient(listener.port());
        c.setTimeout(Duration.ofSeconds(5));
        c.expect("\"IMPLEMENTATION\" .*");
        c.expectEventually("OK");
        return c;
    }

    /**
     * One damaged command (and the octets of a literal it ends with), its response after any data
     * lines, then a tagged NOOP whose OK must come next. Empty if the server said BYE and closed.
     */
    private static Optional<String> exchange(LineClient c, byte[] damaged, boolean before) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(damaged);
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        String text = new String(damaged, StandardCharsets.UTF_8);
        Matcher literal = LITERAL.matcher(text);
        long limit = before ? ManageSieveSettings.DEFAULT_PRE_AUTH_STRING_BYTES
                : (long) ManageSieveSession.DRAIN_FACTOR * SieveLimits.DEFAULT_MAX_SCRIPT_BYTES;
        boolean fatal = false;
        if (literal.find()) {
            String digits = literal.group(1).replaceFirst("^0+(?=.)", "");
            long octets = digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
            if (octets <= limit) {
                out.writeBytes("x".repeat((int) octets).getBytes(StandardCharsets.US_ASCII));
                out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII)); // the command's end after the literal
            } else {
                fatal = true; // the server must not wait for it
            }
        }
        c.sendBytes(out.toByteArray()); // one write: split writes meet Nagle and delayed ACKs
        String first = firstWord(text).toUpperCase(Locale.ROOT);
        String line = c.readLine();
        if (line != null && first.equals("AUTHENTICATE") && CHALLENGE.matcher(line).matches()) {
            c.sendRaw("\"*\"\r\n"); // a SASL challenge: cancel (RFC 5804 §2.1)
            line = c.readLine();
        }
        while (line != null && !RESPONSE.matcher(line).matches()) {
            line = c.readLine(); // CAPABILITY, LISTSCRIPTS and GETSCRIPT lines before their OK
        }
        assertTrue(line != null, "the server hung up without a response");
        if (line.startsWith("BYE")) {
            assertEquals(null, c.readLine(), "the server said BYE");
            return Optional.empty();
        }
        assertTrue(!fatal, "a literal too large to drain was not refused with BYE: " + line);
        c.sendRaw("NOOP \"sync\"\r\n");
        String sync = c.readLine();
        assertEquals(SYNC, sync, "out of step after the response " + line);
        return Optional.of(line);
    }

    /** The command name as the server reads it: up to a blank or a quote. */
    private static String firstWord(String line) {
        String s = line.stripLeading();
        int end = 0;
        while (end < s.length() && s.charAt(end) != ' ' && s.charAt(end) != '\t' && s.charAt(end) != '"') {
            end++;
        }
        return s.substring(0, end);
    }
}
