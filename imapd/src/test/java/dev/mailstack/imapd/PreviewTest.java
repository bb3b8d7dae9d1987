package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 8970 PREVIEW over a real store and socket: what each kind of message previews as, on the wire. */
class PreviewTest {
    private static final Pattern RESPONSE = Pattern.compile("\\* (\\d+) FETCH \\((?:UID \\d+ )?PREVIEW (.*)");
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)}");

    private static String message(String contentType, String encoding, String body) {
        return "From: Bob <bob@remote.test>\r\nTo: alice@example.org\r\nSubject: preview\r\nMIME-Version: 1.0\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + (encoding == null ? "" : "Content-Transfer-Encoding: " + encoding + "\r\n") + "\r\n" + body;
    }

    static final String UTF8_PLAIN = message("text/plain; charset=UTF-8", "8bit", "你好，\r\n   世界！\r\n\r\nSee you.\r\n");
    static final String GBK_BASE64 = message("text/plain; charset=GBK", "base64",
            Base64.getMimeEncoder().encodeToString("请查收附件中的季度报告".getBytes(Charset.forName("GBK"))) + "\r\n");
    static final String QUOTED_PRINTABLE = message("text/plain; charset=utf-8", "quoted-printable",
            "Caf=C3=A9 au lait, a long line that goes on and on and on and is broken =\r\nsoftly here=\r\n.\r\n");
    static final String ALTERNATIVE = "From: carol@remote.test\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + "<p>HTML version</p>\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n--alt--\r\n";
    static final String HTML_ONLY = message("text/html; charset=utf-8", null,
            "<html><head><style>body { font: 12px; }</style></head><body><p>Dear&nbsp;Alice,</p>"
                    + "<script>track();</script><p>Tom &amp; Jerry&#33;</p></body></html>\r\n");
    static final String ATTACHMENT_ONLY = "From: carol@remote.test\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
            + "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\r\nJVBERi0xLjQ=\r\n--b1--\r\n";
    static final String EMPTY = "From: Bob <bob@remote.test>\r\nSubject: empty\r\n\r\n";
    static final String LONG = message("text/plain; charset=us-ascii", "7bit", ("0123456789".repeat(30)) + "\r\n");

    @TempDir
    Path dir;
    ImapFixture imap;

    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        for (String m : new String[]{UTF8_PLAIN, GBK_BASE64, QUOTED_PRINTABLE, ALTERNATIVE, HTML_ONLY, ATTACHMENT_ONLY,
            EMPTY, LONG}) {
            imap.deliver(MailboxName.INBOX, m);
        }
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    /** The preview of one "* n FETCH (PREVIEW ...)" response: a quoted string, a literal (read on), or NIL. */
    private static String preview(LineClient c, int msn) throws IOException {
        String line = c.expect("\\* " + msn + " FETCH \\(.*");
        Matcher m = RESPONSE.matcher(line);
        assertTrue(m.matches(), line);
        String rest = m.group(2);
        if (rest.equals("NIL)")) {
            return null;
        }
        Matcher literal = LITERAL.matcher(rest);
        if (literal.matches()) {
            String text = c.readLine(); // a preview has no line ends, so the literal and ")" make one line
            assertTrue(text.endsWith(")"), text);
            text = text.substring(0, text.length() - 1);
            assertEquals(Integer.parseInt(literal.group(1)), text.getBytes(StandardCharsets.UTF_8).length, text);
            return text;
        }
        assertTrue(rest.startsWith("\"") && rest.endsWith("\")"), rest);
        return rest.substring(1, rest.length() - 2).replace("\\\"", "\"").replace("\\\\", "\\");
    }

    @Test
    void eachKindOfMessagePreviewsAsAReaderWouldSeeIt() throws IOException {
        try (LineClient c = imap.login()) {
            String caps = c.send("c CAPABILITY").expect("\\* CAPABILITY .*");
            c.expect("c OK CAPABILITY completed");
            assertTrue((caps + " ").contains(" PREVIEW "), caps);
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("f FETCH 1:8 (PREVIEW)");
            assertEquals("你好， 世界！ See you.", preview(c, 1));
            assertEquals("请查收附件中的季度报告", preview(c, 2));
            assertEquals("Café au lait, a long line that goes on and on and on and is broken softly here.", preview(c, 3));
            assertEquals("Plain version", preview(c, 4));
            assertEquals("Dear Alice, Tom & Jerry!", preview(c, 5));
            assertEquals("", preview(c, 6)); // RFC 8970 §3.1: no text to preview is the empty string
            assertEquals("", preview(c, 7));
            assertEquals("0123456789".repeat(26).substring(0, 256), preview(c, 8));
            c.expect("f OK FETCH completed");
            // PREVIEW sets no \Seen: it is not a body section
            c.send("g FETCH 1 FLAGS").expect("\\* 1 FETCH \\(FLAGS \\((\\\\Recent)?\\)\\)");
            c.expect("g OK FETCH completed");
        }
    }

    @Test
    void lazyIsAnsweredAlikeAndWithUidAndUtf8AcceptTheTextIsQuoted() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("e ENABLE UTF8=ACCEPT").expectEventually("e OK .*");
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("f UID FETCH 1:2 (FLAGS PREVIEW (LAZY))");
            c.expect("\\* 1 FETCH \\(UID 1 FLAGS \\((\\\\Recent)?\\) PREVIEW \"你好， 世界！ See you.\"\\)");
            c.expect("\\* 2 FETCH \\(UID 2 FLAGS \\((\\\\Recent)?\\) PREVIEW \"请查收附件中的季度报告\"\\)");
            c.expect("f OK UID FETCH completed");
            c.send("g FETCH 4 PREVIEW (lazy)").expect("\\* 4 FETCH \\(PREVIEW \"Plain version\"\\)");
            c.expect("g OK FETCH completed");
            c.send("h FETCH 4 PREVIEW (EAGER)").expect("h BAD .*");
            c.send("i FETCH 4 (PREVIEW ())").expect("i BAD .*");
        }
    }

    /** Many messages in one FETCH, twice (the second from the cached previews), in order and complete. */
    @Test
    void aWholeMailboxOfPreviewsComesInOneFetch() throws IOException {
        for (int i = 0; i < 292; i++) {
            imap.deliver(MailboxName.INBOX, message("text/plain; charset=utf-8", "8bit", "message number " + (i + 9) + "\r\n"));
        }
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            for (String tag : new String[]{"f", "g"}) {
                c.send(tag + " FETCH 1:* (PREVIEW)");
                for (int msn = 1; msn <= 300; msn++) {
                    String preview = preview(c, msn);
                    if (msn > 8) {
                        assertEquals("message number " + msn, preview);
                    }
                }
                c.expect(tag + " OK FETCH completed");
            }
        }
    }
}
