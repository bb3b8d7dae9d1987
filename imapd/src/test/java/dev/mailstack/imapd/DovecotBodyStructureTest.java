package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.Rfc2231;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ENVELOPE, BODYSTRUCTURE and BODY as imapd sends them, against what Dovecot 2.3.19.1 prints for
 * the same messages (mime's corpus and its {@code dovecot-2.3.19.1.fetch}, see corpus/README.md).
 * mime's DovecotVectorsTest compares the summary; this compares the strings a client parses: each
 * corpus message is APPENDed over a socket and fetched with {@code UID FETCH n (ENVELOPE
 * BODYSTRUCTURE BODY)}; both sides are read as IMAP values (a literal and a quoted string are the
 * same value), checked against the grammar of RFC 3501 §9 and printed back in one form, then
 * compared. BODY is Dovecot's BODYSTRUCTURE without its extension data (RFC 3501 §7.4.2).
 *
 * <p>Normalised because it is free: the case of media types, subtypes, parameter names, charsets,
 * transfer encodings and disposition types, all case-insensitive (RFC 2045 §5.1, §6.1, RFC 2046
 * §4.1.2, RFC 2183 §2), and the order of parameters, which a client looks up by name.
 *
 * <p>Where we differ on purpose:
 * <ul>
 * <li>Header text with 8-bit octets (02's "Zoë") goes out as RFC 2047 encoded-words unless the
 * client enabled UTF8=ACCEPT (RFC 6855 §3; RFC 3501 §4.3 keeps 8-bit strings to a known charset);
 * Dovecot 2.3 sends the raw octets in a literal. So the ENVELOPE is compared with Dovecot's after
 * ENABLE UTF8=ACCEPT, and without it each differing string must be an encoding of the same text.
 * <li>Parameters are compared by what they mean: both sides are decoded with mime's Rfc2231 (RFC
 * 2231 continuations and charsets, RFC 2047 words in values). Dovecot passes values on as written;
 * we send them decoded, as RFC 9051 §7.5.2 asks, a non-ASCII value as an RFC 2231 extended value
 * in UTF-8 (see {@link #nonAsciiParametersGoAsRfc2231ExtendedValues}). The summary keeps one value
 * per name, so 16's plain "filename" fallback next to its "filename*" is not sent, nor the
 * RFC 2231 language tag ('de').
 * <li>The messages in {@link #DELIBERATE}, each with its reason.
 * </ul>
 */
class DovecotBodyStructureTest {
    private static final Path CORPUS = Path.of("../mime/src/test/resources/corpus");
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)}$");

    /** Dovecot's text (printed in this test's form) that reads differently from us, and what we send instead. */
    record Difference(String file, String item, String dovecot, String ours, String why) {
    }

    static final List<Difference> DELIBERATE = List.of(
            // the five of mime's DovecotVectorsTest, where our summary differs
            new Difference("10-no-blank-line.eml", "BODYSTRUCTURE", "\"7bit\" 0 0", "\"7bit\" 49 2",
                    "a line that is not a header field ends the header: a telnet user's text is body"),
            new Difference("11-garbage.eml", "BODYSTRUCTURE", "\"7bit\" 42 2", "\"7bit\" 122 5",
                    "a line that is not a header field ends the header"),
            new Difference("12-wrong-boundary.eml", "BODYSTRUCTURE",
                    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"declared\") NIL NIL NIL)",
                    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 85 5 NIL NIL NIL NIL)",
                    "a multipart whose boundary never occurs is one text part, not an empty child"),
            new Difference("21-nested-forwards.eml", "BODYSTRUCTURE", "\"7bit\" 372 (NIL \"Fwd: original\"", "\"7bit\" 370 (NIL \"Fwd: original\"",
                    "the CRLF before \"--outer\" belongs to that delimiter (RFC 2046 §5.1.1): 2 octets less"),
            new Difference("21-nested-forwards.eml", "BODYSTRUCTURE", "\"inner\") NIL NIL NIL) 20 NIL", "\"inner\") NIL NIL NIL) 19 NIL",
                    "and so one line less"),
            new Difference("27-uppercase-and-odd-types.eml", "BODYSTRUCTURE", "(\"text\" \"\" ", "(\"text\" \"plain\" ",
                    "\"Content-Type: text\" without a subtype is invalid, so text/plain (RFC 2045 §5.2)"),
            // addresses in 13
            new Difference("13-groups-and-odd-addresses.eml", "ENVELOPE", "(NIL NIL \"root\" \"MISSING_DOMAIN\")", "(NIL NIL \"root\" \"\")",
                    "an address without a domain has an empty host: no invented name that looks like one,"
                            + " and not NIL, which would start a group (RFC 3501 §7.4.2)"),
            new Difference("13-groups-and-odd-addresses.eml", "ENVELOPE", "(NIL \"@relay.example\" \"route\" \"example.org\")",
                    "(NIL NIL \"route\" \"example.org\")",
                    "mime's AddressList keeps no source route (RFC 5322 §4.4 obs-route); Thunderbird ignores addr-adl"));

    @TempDir
    static Path dir;
    static ImapFixture imap;
    /** The UID each corpus file got from APPEND. */
    static final Map<String, Long> UIDS = new LinkedHashMap<>();

    record Vector(String file, List<Object> envelope, List<Object> bodyStructure) {
        @Override
        public String toString() {
            return file;
        }
    }

    @BeforeAll
    static void appendTheCorpus() throws IOException {
        imap = new ImapFixture(dir);
        try (Wire w = Wire.login(imap.port())) {
            for (String file : corpusFiles()) {
                byte[] message = Files.readAllBytes(CORPUS.resolve(file));
                Response r = w.append("a", "INBOX", message);
                Matcher uid = Pattern.compile("OK \\[APPENDUID \\d+ (\\d+)] .*").matcher(r.status());
                assertTrue(uid.matches(), file + ": " + r.status());
                UIDS.put(file, Long.parseLong(uid.group(1)));
            }
        }
    }

    @AfterAll
    static void stop() {
        imap.close();
    }

    static List<String> corpusFiles() throws IOException {
        try (Stream<Path> list = Files.list(CORPUS)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".eml")).sorted().toList();
        }
    }

    /** doveadm's output: "uid: n", then "imap.envelope: " and "imap.bodystructure: " each without its outer parentheses. */
    static Stream<Vector> vectors() throws IOException {
        List<String> files = corpusFiles();
        byte[] fetch = Files.readAllBytes(CORPUS.resolve("dovecot-2.3.19.1.fetch"));
        ImapValues in = new ImapValues(fetch);
        List<Vector> out = new ArrayList<>();
        String file = null;
        List<Object> envelope = null;
        while (!in.atEnd()) {
            int start = in.position();
            if (fetch[start] == '\f' || fetch[start] == '\n') {
                in.at(start + 1);
                continue;
            }
            int colon = start;
            while (fetch[colon] != ':') {
                colon++;
            }
            String key = new String(fetch, start, colon - start, StandardCharsets.US_ASCII);
            List<Object> values = in.at(colon + 1).line();
            switch (key) {
                case "uid" -> file = files.get(Integer.parseInt(values.get(0).toString()) - 1);
                case "imap.envelope" -> envelope = values;
                case "imap.bodystructure" -> out.add(new Vector(file, envelope, values));
                default -> throw new IllegalStateException("unexpected " + key);
            }
        }
        assertEquals(files.size(), out.size(), "a vector for every corpus message");
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void envelopeBodyStructureAndBodyAsSentMatchDovecot(Vector v) throws IOException {
        List<Object> fetched = fetch(v.file(), "ENVELOPE BODYSTRUCTURE BODY", false);
        List<Object> utf8 = fetch(v.file(), "ENVELOPE", true);
        String where = v.file();
        assertEquals(expected(where, "ENVELOPE", envelope(where + " dovecot", v.envelope())),
                envelope(where, item(utf8, "ENVELOPE")), where + " ENVELOPE after ENABLE UTF8=ACCEPT");
        sameButEncoded(item(fetched, "ENVELOPE"), item(utf8, "ENVELOPE"), where + " ENVELOPE");
        String bodyStructure = expected(where, "BODYSTRUCTURE", body(where + " dovecot", v.bodyStructure(), true));
        assertEquals(bodyStructure, body(where, item(fetched, "BODYSTRUCTURE"), true), where + " BODYSTRUCTURE");
        assertEquals(body(where + " expected", ImapValues.parse(bodyStructure).get(0), false),
                body(where, item(fetched, "BODY"), true), where + " BODY");
    }

    /**
     * How the summary's decoded parameters go out: ASCII as it is; anything else as an RFC 2231
     * extended value in UTF-8 under the name with a "*", whether the message used RFC 2231 (03,
     * with continuations; 16, in Latin-1) or RFC 2047 words (35) for it.
     */
    @Test
    void nonAsciiParametersGoAsRfc2231ExtendedValues() throws IOException {
        String report = "\"utf-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf\"";
        assertSent("03-mixed-related-attachment.eml", "(\"application\" \"pdf\" (\"name*\" " + report
                + ") NIL \"Q4 report\" \"base64\" 372 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename*\" " + report
                + " \"size\" \"300\")) (\"zh-CN\" \"en\") \"http://example.cn/q4.pdf\")");
        assertSent("16-truncated-base64-and-rfc2231-latin1.eml", "(\"attachment\" (\"filename*\" \"utf-8''Gr%C3%BC%C3%9Fe.txt\"))");
        String contract = "\"utf-8''%E5%90%88%E5%90%8C.doc\"";
        assertSent("35-rfc2047-attachment-name.eml", "(\"application\" \"msword\" (\"name*\" " + contract
                + ") NIL NIL \"base64\" 92 NIL (\"attachment\" (\"filename*\" " + contract + ")) NIL NIL)");
    }

    /** body-fld-lang: one tag goes as a list of one, the form Dovecot sends (RFC 3501 also allows a bare string). */
    @Test
    void oneLanguageTagIsAListOfOne() throws IOException {
        assertSent("20-every-body-field.eml", "\"7bit\" 6 0 NIL (\"inline\" NIL) (\"fr\") NIL)");
    }

    /** A multipart whose boundary never occurs is sent as text/plain in US-ASCII (RFC 2045 §5.2), without the boundary. */
    @Test
    void aMultipartWithoutPartsIsPlainTextWithTheDefaultCharset() throws IOException {
        assertSent("12-wrong-boundary.eml", "BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 85 5 NIL NIL NIL NIL)");
    }

    private static void assertSent(String file, String text) throws IOException {
        String sent = raw(file);
        assertTrue(sent.contains(text), file + ": expected " + text + " in " + sent);
    }

    /** The BODYSTRUCTURE response line as sent. */
    private static String raw(String file) throws IOException {
        try (Wire w = Wire.login(imap.port())) {
            w.command("s EXAMINE INBOX");
            Response r = w.command("f UID FETCH " + UIDS.get(file) + " (BODYSTRUCTURE)");
            assertEquals("OK UID FETCH completed", r.status());
            return new String(r.untagged(), StandardCharsets.UTF_8);
        }
    }

    /** The items of {@code UID FETCH} of a corpus message, in a session that enabled UTF8=ACCEPT or not. */
    private static List<Object> fetch(String file, String items, boolean utf8) throws IOException {
        try (Wire w = Wire.login(imap.port())) {
            if (utf8) {
                assertEquals("OK ENABLE completed", w.command("e ENABLE UTF8=ACCEPT").status());
            }
            w.command("s EXAMINE INBOX");
            Response r = w.command("f UID FETCH " + UIDS.get(file) + " (" + items + ")");
            assertEquals("OK UID FETCH completed", r.status());
            return fetchItems(r.untagged());
        }
    }

    /** Dovecot's text of an item with this message's deliberate differences put in; each must still be there to replace. */
    private static String expected(String file, String item, String dovecot) {
        String text = dovecot;
        for (Difference d : DELIBERATE) {
            if (d.file().equals(file) && d.item().equals(item)) {
                assertTrue(text.contains(d.dovecot()), file + ": Dovecot no longer says " + d.dovecot() + " (" + d.why() + ") in " + text);
                text = text.replace(d.dovecot(), d.ours());
            }
        }
        return text;
    }

    /**
     * Without UTF8=ACCEPT the ENVELOPE is the same but for its 8-bit strings, each sent as
     * encoded-words that decode to the same text (RFC 2047; RFC 3501 §4.3).
     */
    private static void sameButEncoded(Object plain, Object utf8, String where) {
        if (plain instanceof List<?> p && utf8 instanceof List<?> u) {
            assertEquals(u.size(), p.size(), where);
            for (int i = 0; i < p.size(); i++) {
                sameButEncoded(p.get(i), u.get(i), where);
            }
        } else if (plain instanceof String p && utf8 instanceof String u) {
            assertTrue(ImapSyntax.isAscii(p), where + ": 8-bit text before ENABLE UTF8=ACCEPT: " + p);
            if (!p.equals(u)) {
                assertTrue(!ImapSyntax.isAscii(u), where + ": " + p + " differs from " + u);
                assertEquals(u, Rfc2047.decode(p), where);
            }
        } else {
            assertEquals(utf8, plain, where);
        }
    }

    /** The items of the one "* n FETCH (...)" response among the untagged lines. */
    private static List<Object> fetchItems(byte[] untagged) {
        ImapValues in = new ImapValues(untagged);
        List<Object> items = null;
        while (!in.atEnd()) {
            List<Object> line = in.line();
            if (line.size() == 4 && line.get(2) instanceof ImapValues.Atom a && a.text().equals("FETCH")) {
                assertTrue(items == null, "one FETCH response");
                items = asList(line.get(3), "FETCH");
            }
        }
        assertNotNull(items, "a FETCH response");
        return items;
    }

    private static Object item(List<Object> items, String name) {
        for (int i = 0; i + 1 < items.size(); i += 2) {
            if (items.get(i) instanceof ImapValues.Atom a && a.text().equals(name)) {
                return items.get(i + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + items);
    }

    // --- RFC 3501 §9 grammar, printed back in one canonical form

    /** body = "(" (body-type-1part / body-type-mpart) ")"; {@code extensions} false leaves their data out, as BODY does. */
    static String body(String where, Object value, boolean extensions) {
        List<Object> b = asList(value, where + ": body");
        StringBuilder out = new StringBuilder("(");
        if (!b.isEmpty() && b.get(0) instanceof List<?>) {
            // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            int n = 0;
            while (n < b.size() && b.get(n) instanceof List<?>) {
                out.append(body(where + "." + (n + 1), b.get(n), extensions));
                n++;
            }
            out.append(' ').append(quoted(lower(string(b, n, where + " media-subtype"))));
            // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]
            if (extensions) {
                extension(b, n + 1, true, where, out);
            }
            return out.append(')').toString();
        }
        String type = lower(string(b, 0, where + " media-type"));
        String subtype = lower(string(b, 1, where + " media-subtype"));
        out.append(quoted(type)).append(' ').append(quoted(subtype));
        // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
        out.append(' ').append(params(b.get(2), where + " body-fld-param"));
        out.append(' ').append(nstring(b, 3, where + " body-fld-id"));
        out.append(' ').append(nstring(b, 4, where + " body-fld-desc"));
        out.append(' ').append(quoted(lower(string(b, 5, where + " body-fld-enc"))));
        out.append(' ').append(number(b, 6, where + " body-fld-octets"));
        int next = 7;
        if (type.equals("message") && subtype.equals("rfc822")) {
            // body-type-msg: ... SP envelope SP body SP body-fld-lines
            out.append(' ').append(envelope(where + " enclosed", b.get(7)));
            out.append(' ').append(body(where + " enclosed", b.get(8), extensions));
            out.append(' ').append(number(b, 9, where + " body-fld-lines"));
            next = 10;
        } else if (type.equals("text")) {
            out.append(' ').append(number(b, 7, where + " body-fld-lines"));
            next = 8;
        }
        // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]
        if (extensions && next < b.size()) {
            out.append(' ').append(nstring(b, next, where + " body-fld-md5"));
            extension(b, next + 1, false, where, out);
        }
        return out.append(')').toString();
    }

    /** What follows md5 (or, for a multipart, from its parameters on): each optional, in this order. */
    private static void extension(List<Object> b, int i, boolean multipart, String where, StringBuilder out) {
        if (multipart) {
            if (i >= b.size()) {
                return;
            }
            out.append(' ').append(params(b.get(i), where + " body-fld-param"));
            i++;
        }
        if (i < b.size()) { // body-fld-dsp = "(" string SP body-fld-param ")" / nil
            Object d = b.get(i);
            if (d == null) {
                out.append(" NIL");
            } else {
                List<Object> dsp = asList(d, where + " body-fld-dsp");
                assertEquals(2, dsp.size(), where + " body-fld-dsp: " + dsp);
                out.append(" (").append(quoted(lower(string(dsp, 0, where + " disposition type")))).append(' ')
                        .append(params(dsp.get(1), where + " disposition parameters")).append(')');
            }
        }
        if (i + 1 < b.size()) { // body-fld-lang = nstring / "(" string *(SP string) ")"
            Object l = b.get(i + 1);
            if (l instanceof List<?> langs) {
                assertTrue(!langs.isEmpty(), where + " body-fld-lang: an empty list");
                List<String> each = new ArrayList<>();
                for (int k = 0; k < langs.size(); k++) {
                    each.add(quoted(string(asList(langs, where), k, where + " body-fld-lang")));
                }
                out.append(" (").append(String.join(" ", each)).append(')');
            } else {
                out.append(' ').append(nstring(b, i + 1, where + " body-fld-lang"));
            }
        }
        if (i + 2 < b.size()) { // body-fld-loc = nstring
            out.append(' ').append(nstring(b, i + 2, where + " body-fld-loc"));
        }
        assertTrue(i + 3 >= b.size(), where + ": body-extension beyond location: " + b.subList(i + 3, b.size()));
    }

    /**
     * body-fld-param = "(" string SP string *(SP string SP string) ")" / nil, printed by meaning:
     * decoded (RFC 2231, RFC 2047 in values), by name.
     */
    private static String params(Object value, String where) {
        if (value == null) {
            return "NIL";
        }
        List<Object> p = asList(value, where);
        assertTrue(!p.isEmpty() && p.size() % 2 == 0, where + ": pairs, at least one: " + p);
        Map<String, String> raw = new LinkedHashMap<>();
        for (int i = 0; i < p.size(); i += 2) {
            String name = lower(string(p, i, where + " attribute"));
            assertTrue(raw.put(name, string(p, i + 1, where + " value")) == null, where + ": " + name + " twice");
        }
        StringBuilder out = new StringBuilder("(");
        for (Map.Entry<String, String> e : new TreeMap<>(Rfc2231.decode(raw)).entrySet()) {
            String v = e.getKey().equals("charset") ? lower(e.getValue()) : e.getValue();
            out.append(out.length() > 1 ? " " : "").append(quoted(e.getKey())).append(' ').append(quoted(v));
        }
        return out.append(')').toString();
    }

    /** envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")" */
    static String envelope(String where, Object value) {
        List<Object> e = asList(value, where + ": envelope");
        assertEquals(10, e.size(), where + ": envelope fields " + e);
        String[] names = {"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id"};
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            out.add(i >= 2 && i <= 7 ? addresses(e.get(i), where + " " + names[i]) : nstring(e, i, where + " " + names[i]));
        }
        return "(" + String.join(" ", out) + ")";
    }

    /** env-from etc. = "(" 1*address ")" / nil; address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")" */
    private static String addresses(Object value, String where) {
        if (value == null) {
            return "NIL";
        }
        List<Object> list = asList(value, where);
        assertTrue(!list.isEmpty(), where + ": an empty address list is NIL");
        StringBuilder out = new StringBuilder("(");
        for (Object a : list) {
            List<Object> address = asList(a, where + " address");
            assertEquals(4, address.size(), where + ": address " + address);
            out.append('(');
            for (int i = 0; i < 4; i++) {
                out.append(i > 0 ? " " : "").append(nstring(address, i, where + " address"));
            }
            out.append(')');
        }
        return out.append(')').toString();
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object value, String where) {
        assertTrue(value instanceof List<?>, where + ": a parenthesized list expected, got " + value);
        return (List<Object>) value;
    }

    private static String string(List<?> items, int i, String where) {
        assertTrue(i < items.size(), where + ": missing");
        assertTrue(items.get(i) instanceof String, where + ": a string expected, got " + items.get(i));
        return (String) items.get(i);
    }

    private static String nstring(List<?> items, int i, String where) {
        assertTrue(i < items.size(), where + ": missing");
        return items.get(i) == null ? "NIL" : quoted(string(items, i, where));
    }

    private static String number(List<?> items, int i, String where) {
        assertTrue(i < items.size(), where + ": missing");
        Object v = items.get(i);
        assertTrue(v instanceof ImapValues.Atom a && a.text().matches("\\d+"), where + ": a number expected, got " + v);
        return v.toString();
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static String quoted(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    // --- the wire

    /** A tagged response: its status text and the untagged responses before it, octets as sent. */
    record Response(String status, byte[] untagged) {
    }

    /** A raw connection, logged in. */
    private record Wire(Socket socket, InputStream in, OutputStream out) implements AutoCloseable {
        static Wire login(int port) throws IOException {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            s.setSoTimeout(10_000);
            Wire w = new Wire(s, new BufferedInputStream(s.getInputStream()), s.getOutputStream());
            w.response(null);
            assertTrue(w.command("a LOGIN alice@example.org secret").status().startsWith("OK"));
            return w;
        }

        Response command(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return response(line.substring(0, line.indexOf(' ')));
        }

        /** APPEND with a non-synchronizing literal (RFC 7888 LITERAL+): the octets follow their count at once. */
        Response append(String tag, String mailbox, byte[] message) throws IOException {
            out.write((tag + " APPEND " + mailbox + " {" + message.length + "+}\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(message);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return response(tag);
        }

        /** Reads until the line tagged {@code tag} (or one line when null), taking literals by their octet count. */
        private Response response(String tag) throws IOException {
            ByteArrayOutputStream untagged = new ByteArrayOutputStream();
            while (true) {
                byte[] raw = rawLine();
                String line = new String(raw, StandardCharsets.UTF_8).stripTrailing();
                if (tag == null) {
                    return new Response(line, new byte[0]);
                }
                if (line.startsWith(tag + " ")) {
                    return new Response(line.substring(tag.length() + 1), untagged.toByteArray());
                }
                untagged.write(raw);
                Matcher m = LITERAL.matcher(line);
                while (m.find()) { // the literal, then the rest of the response line, which may end in another
                    untagged.write(in.readNBytes(Integer.parseInt(m.group(1))));
                    raw = rawLine();
                    untagged.write(raw);
                    m = LITERAL.matcher(new String(raw, StandardCharsets.UTF_8).stripTrailing());
                }
            }
        }

        /** One line with its CRLF. */
        private byte[] rawLine() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            do {
                c = in.read();
                if (c < 0) {
                    throw new IOException("connection closed after: " + b.toString(StandardCharsets.UTF_8));
                }
                b.write(c);
            } while (c != '\n');
            return b.toByteArray();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
