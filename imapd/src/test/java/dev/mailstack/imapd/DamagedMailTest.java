package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineMutator;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.Uid;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged mail, delivered and then fetched every way a client may ask: structure, envelope, whole
 * body, parts, MIME headers, BINARY, partials, SEARCH. Each command must complete, BODY[] must be
 * the delivered octets exactly and RFC822.SIZE their count (RFC 3501 §6.4.5). The MIME module's
 * own mutation test covers the parser; this one covers what IMAP builds from its summary.
 */
class DamagedMailTest {
    static final String NESTED = "From: =?GBK?B?1cXI/Q==?= <zhang@remote.test>\r\nTo: alice@example.org\r\n"
            + "Subject: =?UTF-8?Q?=E8=BD=AC=E5=8F=91?= fwd\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
            + "Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=D6=D0=CE=C4\r\n"
            + "--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: bob@remote.test\r\nSubject: inner\r\n"
            + "Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
            + "--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+5Lit5paHPC9iPg==\r\n"
            + "--inner--\r\n--outer\r\nContent-Type: application/pdf; name*0*=utf-8''%E6%8A%A5; name*1=\".pdf\"\r\n"
            + "Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + "JVBERi0xLjQKJcfsj6IK\r\n--outer--\r\n";
    private static final List<String> SAMPLES = List.of(ImapSessionTest.PLAIN, ImapSessionTest.CHINESE,
            ImapSessionTest.MULTIPART, NESTED);
    private static final List<String> TOKENS = List.of("\r\n", "\r\n\r\n", "\r\n--outer\r\n", "\r\n--outer--\r\n",
            "\r\n--inner\r\n", "\r\n--b1\r\n", "Content-Type: message/rfc822\r\n\r\n",
            "Content-Type: multipart/mixed; boundary=b1\r\n", "Content-Transfer-Encoding: base64\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n", "Content-Transfer-Encoding: x-uue\r\n",
            "=?utf-8?B?5Lit?=", "=?gbk?Q?=D6=D0?=", "=", "=\r\n", "=ZZ", "\u0000", "\u00ff\u00fe", "; charset=\"",
            "filename*0*=utf-8''%E4%B8", "((", "\"", ":", ";", "--");
    private static final String FETCH = " (UID RFC822.SIZE FLAGS INTERNALDATE BODYSTRUCTURE BODY ENVELOPE BODY.PEEK[]"
            + " BODY.PEEK[HEADER] BODY.PEEK[TEXT]<3.20> BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[1] BODY.PEEK[1.MIME]"
            + " BODY.PEEK[2] BODY.PEEK[2.1] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[3]<0.5> BINARY.PEEK[1]"
            + " BINARY.SIZE[1] BINARY.PEEK[2.1.2])";
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)}$");

    @TempDir
    Path dir;
    ImapFixture imap;

    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    @Test
    void everyWayOfFetchingDamagedMailCompletesAndBodyIsTheOctetsDelivered() throws Exception {
        LineMutator mutator = new LineMutator(Long.getLong("damaged.seed", 20261205L), TOKENS); // -Ddamaged.seed=N: another sequence
        int fetched = 0;
        try (Wire w = selectedInbox()) {
            for (int i = 0; i < 200; i++) {
                byte[] message = mutator.mutate(mutator.pick(SAMPLES));
                Uid uid = imap.deliver(MailboxName.INBOX, message);
                String where = "message " + i + ": " + new String(message, StandardCharsets.ISO_8859_1);
                w.command("n" + i + " NOOP"); // learn of the delivery
                Response f = w.command("f" + i + " UID FETCH " + uid.value() + FETCH);
                assertTrue(f.status().startsWith("OK") || f.status().startsWith("NO [UNKNOWN-CTE]"), f.status() + " for " + where);
                if (f.status().startsWith("OK")) {
                    fetched++;
                    Matcher size = Pattern.compile("RFC822\\.SIZE (\\d+)").matcher(f.text());
                    assertTrue(size.find(), where);
                    assertEquals(message.length, Long.parseLong(size.group(1)), where);
                    // a literal carries no NUL (RFC 3501 §4.3): 0x80 stands in for it, every other octet as delivered
                    byte[] served = message.clone();
                    FetchResponder.replaceNuls(served, 0, served.length);
                    assertTrue(f.literals().stream().anyMatch(l -> java.util.Arrays.equals(l, served)),
                            "BODY[] differs from the delivered octets: " + where);
                }
                assertTrue(w.command("t" + i + " UID SEARCH CHARSET UTF-8 TEXT {3+}\r\n中").status().startsWith("OK"), where);
                assertTrue(w.command("b" + i + " UID SEARCH BODY plain SUBJECT x").status().startsWith("OK"), where);
            }
        }
        // NO [UNKNOWN-CTE] (BINARY of a part we cannot decode) is rare: 197 of 200 are OK with this seed, 192 and 194 with others
        assertTrue(fetched >= 150, fetched + " of 200 fetched with OK: too few for the size and BODY[] checks above");
    }

    /** RFC 3501 §4.3: no NUL even in a literal, so a header's NUL is replaced in ENVELOPE and BODYSTRUCTURE. */
    @Test
    void aNulInAHeaderNeverReachesTheWire() throws Exception {
        byte[] message = ("From: Zhang\u0000San <zhang@remote.test>\r\nSubject: a \u0000 in it\r\n"
                + "Content-Type: text/plain; name=\"a\u0000.txt\"\r\nContent-Description: \u0000\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.UTF_8);
        Uid uid = imap.deliver(MailboxName.INBOX, message);
        try (Wire w = selectedInbox()) {
            Response f = w.command("f UID FETCH " + uid.value() + " (ENVELOPE BODYSTRUCTURE BODY)");
            assertEquals("OK UID FETCH completed", f.status());
            assertTrue(f.literals().size() >= 4, "the fields with a NUL go as literals: " + f.text());
            for (byte[] literal : f.literals()) {
                for (byte b : literal) {
                    assertTrue(b != 0, "a NUL in a literal: " + f.text());
                }
            }
            byte[] name = "Zhang\uFFFDSan".getBytes(StandardCharsets.UTF_8);
            assertTrue(f.literals().stream().anyMatch(l -> java.util.Arrays.equals(l, name)), "U+FFFD stands in for it");
        }
    }

    /** A raw connection, logged in, with INBOX selected. */
    private Wire selectedInbox() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), imap.port());
        s.setSoTimeout(10_000);
        Wire w = new Wire(s, new BufferedInputStream(s.getInputStream()), s.getOutputStream());
        response(w.in(), null);
        w.command("a LOGIN alice@example.org secret");
        w.command("s SELECT INBOX");
        return w;
    }

    private record Wire(Socket socket, InputStream in, OutputStream out) implements AutoCloseable {
        Response command(String line) throws IOException {
            return DamagedMailTest.command(in, out, line);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A tagged response: its status text, the untagged lines before it (literals inline), and the literals' octets. */
    record Response(String status, String text, List<byte[]> literals) {
    }

    private static Response command(InputStream in, OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return response(in, line.substring(0, line.indexOf(' ')));
    }

    /** Reads until the line tagged {@code tag} (or one line when null), taking literals by their octet count. */
    private static Response response(InputStream in, String tag) throws IOException {
        StringBuilder text = new StringBuilder();
        List<byte[]> literals = new ArrayList<>();
        while (true) {
            String line = line(in);
            text.append(line).append('\n');
            Matcher m = LITERAL.matcher(line);
            if (m.find()) {
                byte[] literal = in.readNBytes(Integer.parseInt(m.group(1)));
                literals.add(literal);
                continue; // the rest of the response line follows the literal
            }
            if (tag == null) {
                return new Response(line, text.toString(), literals);
            }
            if (line.startsWith(tag + " ")) {
                return new Response(line.substring(tag.length() + 1), text.toString(), literals);
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed after: " + b.toString(StandardCharsets.UTF_8));
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
