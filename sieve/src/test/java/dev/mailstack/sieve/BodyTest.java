package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.ContentSource;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The body test (RFC 5173): each transform, :content's type rules, multiparts, limits, and the checks. */
class BodyTest {
    /** RFC 5173 §5.2's example: a multipart/mixed holding a multipart/alternative and a message/rfc822. */
    private static final String NESTED = """
            From: Whomever
            To: Someone
            Subject: whatever
            Content-Type: multipart/mixed; boundary=outer

            This is a multi-part message in MIME format.

            --outer
            Content-Type: multipart/alternative; boundary=inner

            This is a nested multi-part message in MIME format.

            --inner
            Content-Type: text/plain; charset="us-ascii"

            Hello

            --inner
            Content-Type: text/html; charset="us-ascii"

            <html><body>Hello</body></html>

            --inner--

            This is the end of the inner MIME multipart.

            --outer
            Content-Type: message/rfc822

            From: Someone Else
            Subject: hello request

            Please say Hello

            --outer--

            This is the end of the outer MIME multipart.
            """;

    private static final String INVOICE_BASE64 = Base64.getMimeEncoder().encodeToString(
            "您好，附件是本月的发票，请查收。".getBytes(Charset.forName("GBK")));

    /** A GBK base64 text/plain message, as Chinese mail clients send it. */
    private static final String GBK_INVOICE = """
            From: 张三 <zhang@example.cn>
            Subject: =?GBK?B?sb7UwreixrE=?=
            MIME-Version: 1.0
            Content-Type: text/plain; charset=GBK
            Content-Transfer-Encoding: base64

            """ + INVOICE_BASE64 + "\n";

    /** Lines given with LF are stored with CRLF, as delivery stores them. */
    static SieveMessage message(String text) {
        return message(text.replace("\r\n", "\n").replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8), new AtomicInteger());
    }

    /** A message whose body is read through its MIME summary; {@code reads} counts the reads. */
    static SieveMessage message(byte[] raw, AtomicInteger reads) {
        MessageSummary summary;
        try {
            summary = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ContentSource content = offset -> {
            reads.incrementAndGet();
            InputStream in = new ByteArrayInputStream(raw);
            in.skipNBytes(offset);
            return in;
        };
        return SieveMessage.of(raw, raw.length, "zhang@example.cn", "bob@example.org", new MessageBody(summary, content));
    }

    private static boolean body(String message, String test, String... extensions) {
        return holds(message(message), test, extensions);
    }

    private static String[] with(String... extensions) {
        String[] all = new String[extensions.length + 1];
        all[0] = "body";
        System.arraycopy(extensions, 0, all, 1, extensions.length);
        return all;
    }

    @Test
    void textIsTheDefaultAndDecodesTransferEncodingAndCharset() {
        assertTrue(body(GBK_INVOICE, "body :text :contains \"发票\"", with()));
        assertTrue(body(GBK_INVOICE, "body :contains \"发票\"", with()), ":text is the default transform");
        assertFalse(body(GBK_INVOICE, "body :text :contains \"收据\"", with()));
        assertTrue(body(GBK_INVOICE, "body :is \"您好，附件是本月的发票，请查收。\"", with()),
                ":is is the default match type, against the whole decoded part");
    }

    @Test
    void rawIsTheUndecodedBodyWithItsMimeStructure() {
        assertFalse(body(GBK_INVOICE, "body :raw :contains \"发票\"", with()), "raw keeps the base64");
        assertTrue(body(GBK_INVOICE, "body :raw :contains \"" + INVOICE_BASE64.substring(0, 12) + "\"", with()));
        assertTrue(body(NESTED, "body :raw :contains \"--outer\"", with()));
        assertTrue(body(NESTED, "body :raw :contains \"Content-Type: text/html\"", with()), "part headers are content");
        assertFalse(body(NESTED, "body :raw :contains \"Subject: whatever\"", with()), "the message header is not");
        assertFalse(body(NESTED, "body :text :contains \"--outer\"", with()));
    }

    @Test
    void textDropsHtmlMarkupButContentKeepsIt() {
        String html = """
                Content-Type: text/html; charset=utf-8

                <p>Quarterly <b>report</b></p>
                """;
        assertTrue(body(html, "body :text :contains \"Quarterly\"", with()));
        assertFalse(body(html, "body :text :contains \"<b>\"", with()));
        assertTrue(body(html, "body :content \"text/html\" :contains \"<b>report</b>\"", with()));
    }

    @Test
    void contentFollowsRfc5173Example() {
        // §5.2: '&' lines are the prologue and epilogue of both multiparts
        assertTrue(body(NESTED, "body :content \"multipart\" :contains \"MIME format\"", with()));
        assertTrue(body(NESTED, "body :content \"multipart\" :contains \"end of the inner\"", with()));
        assertFalse(body(NESTED, "body :content \"multipart\" :contains \"Hello\"", with()), "not the parts inside");
        assertFalse(body(NESTED, "body :content \"multipart\" :contains \"--inner\"", with()), "nor the delimiters");
        // '$' lines: the text/plain parts, the enclosed message's body among them
        assertTrue(body(NESTED, "body :content \"text/plain\" :contains \"Please say\"", with()));
        assertFalse(body(NESTED, "body :content \"text/plain\" :contains \"<html>\"", with()));
        // '%': the text/html part only
        assertTrue(body(NESTED, "body :content \"text/html\" :contains \"<html>\"", with()));
        assertFalse(body(NESTED, "body :content \"text/html\" :contains \"Please\"", with()));
        // '!': the enclosed message's header, not its body
        assertTrue(body(NESTED, "body :content \"message/rfc822\" :contains \"hello request\"", with()));
        assertFalse(body(NESTED, "body :content \"message/rfc822\" :contains \"Please say\"", with()));
        assertFalse(body(NESTED, "body :content \"message/rfc822\" :contains \"whatever\"", with()),
                "the outer header is no part's");
    }

    @Test
    void contentTypesNameATypeASubtypeOrEverything() {
        String numeric = ":comparator \"i;ascii-numeric\" ";
        String[] ext = with("relational", "comparator-i;ascii-numeric");
        // multipart/mixed, multipart/alternative, text/plain, text/html, message/rfc822, the enclosed text/plain
        assertTrue(body(NESTED, "body :content \"\" :count \"eq\" " + numeric + "\"6\"", ext));
        assertTrue(body(NESTED, "body :content \"text\" :count \"eq\" " + numeric + "\"3\"", ext));
        assertTrue(body(NESTED, "body :content [\"text/html\", \"message\"] :count \"eq\" " + numeric + "\"2\"", ext));
        assertTrue(body(NESTED, "body :content \"TEXT/HTML\" :contains \"<html>\"", with()), "types are case-insensitive");
        for (String none : List.of("text/", "/html", "text/html/x", "image")) {
            assertFalse(body(NESTED, "body :content \"" + none + "\" :contains \"\"", with()), none);
        }
        assertTrue(body(NESTED, "body :text :count \"eq\" " + numeric + "\"3\"", ext), ":text has one value per text part");
    }

    @Test
    void anAttachmentCanBeFoundByTypeAndItsDecodedContent() {
        String mail = """
                Content-Type: multipart/mixed; boundary=b

                --b
                Content-Type: text/plain

                see the song
                --b
                Content-Type: audio/mp3
                Content-Transfer-Encoding: base64

                """ + Base64.getEncoder().encodeToString("ID3 tag".getBytes(StandardCharsets.US_ASCII)) + """

                --b--
                """;
        assertTrue(body(mail, "body :content \"audio/mp3\" :contains \"\"", with()));
        assertTrue(body(mail, "body :content \"audio\" :contains \"ID3 tag\"", with()), "transfer encoding undone");
        assertFalse(body(mail, "body :content \"audio/mpeg\" :contains \"\"", with()));
        assertFalse(body(mail, "body :text :contains \"ID3\"", with()), ":text reads text parts only");
    }

    @Test
    void anEmptyBodyIsTheEmptyStringAndNoBodyMatchesNothing() {
        String empty = "From: a@example.org\nSubject: empty\n\n";
        assertTrue(body(empty, "body :raw :is \"\"", with()));
        assertTrue(body(empty, "body :text :is \"\"", with()));
        assertTrue(body(empty, "body :content \"\" :is \"\"", with()));
        // §4: a header not followed by an empty line has no body: even "" does not match
        String headerOnly = "From: a@example.org\nSubject: no body\n";
        assertFalse(body(headerOnly, "body :raw :contains \"\"", with()));
        assertFalse(body(headerOnly, "body :text :contains \"\"", with()));
        assertFalse(body(headerOnly, "body :content \"\" :contains \"\"", with()));
        assertFalse(holds(SieveMessage.of("Subject: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 20, "", "b@example.org"),
                "body :contains \"\"", with()), "a message built without its body has none to match");
    }

    @Test
    void comparatorsAndMatchTypesApply() {
        assertTrue(body(NESTED, "body :content \"text/plain\" :contains \"HELLO\"", with()));
        assertFalse(body(NESTED, "body :comparator \"i;octet\" :content \"text/plain\" :contains \"HELLO\"", with()));
        assertTrue(body(GBK_INVOICE, "body :matches \"*本月的?票*\"", with()));
        assertFalse(body(GBK_INVOICE, "body :matches \"本月*\"", with()), ":matches is anchored");
        assertTrue(body(GBK_INVOICE, "body :value \"gt\" \"您\"", with("relational")));
    }

    @Test
    void variablesExpandInKeysAndTypesButBodySetsNoMatchVariables() {
        SieveOutcome o = SampleMessage.run("""
                require ["body", "variables", "fileinto"];
                set "type" "text";
                set "word" "发票";
                if header :matches "from" "* <*>" {
                    if body :content "${type}" :matches "*${word}*" {
                        fileinto "${1}";
                    }
                }
                """, message(GBK_INVOICE));
        // RFC 5173 §6: ${1} is still the header's match, not body's
        assertEquals(List.of(SampleMessage.fileinto("张三")), o.actions());
    }

    @Test
    void theBodyIsReadOnlyWhenATestNeedsItAndOnce() {
        byte[] raw = GBK_INVOICE.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        AtomicInteger reads = new AtomicInteger();
        assertTrue(holds(message(raw, reads), "anyof (true, body :contains \"发票\")", with()));
        assertEquals(0, reads.get(), "anyof stops at true");
        assertTrue(holds(message(raw, reads), "body :contains \"发票\"", with()));
        int once = reads.get();
        assertTrue(once > 0);
        reads.set(0);
        assertTrue(holds(message(raw, reads), "allof (body :contains \"发票\", body :contains \"请查收\", body :content \"text\" :contains \"发票\")",
                with()));
        assertTrue(reads.get() <= once + 1, "later tests reuse what the first read: " + reads.get());
    }

    @Test
    void aBodyThatCannotBeReadIsAnErrorForTheCaller() throws Exception {
        byte[] raw = GBK_INVOICE.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        MessageSummary summary = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        SieveMessage broken = SieveMessage.of(raw, raw.length, "", "b@example.org", new MessageBody(summary, offset -> {
            throw new IOException("disk gone");
        }));
        SieveScript script = SieveScript.parse("require \"body\"; if body :contains \"x\" { discard; }");
        assertThrows(UncheckedIOException.class, () -> script.run(broken, name -> false));
    }

    @Test
    void aPartIsMatchedOnItsFirstMaxPartBytes() {
        String filler = "x".repeat(BodyValues.MAX_PART_BYTES);
        String mail = "Content-Type: text/plain\n\nHEADMARK " + filler + " TAILMARK\n";
        assertTrue(body(mail, "body :contains \"HEADMARK\"", with()));
        assertFalse(body(mail, "body :contains \"TAILMARK\"", with()), "past the part limit");
        assertFalse(body(mail, "body :raw :contains \"TAILMARK\"", with()), "raw is bounded the same way");
        assertTrue(body(mail, "body :raw :contains \"HEADMARK\"", with()));
    }

    @Test
    void partsPastTheMessageLimitAreThereButEmpty() {
        String filler = "y".repeat(BodyValues.MAX_PART_BYTES);
        StringBuilder mail = new StringBuilder("Content-Type: multipart/mixed; boundary=b\n\n");
        for (int i = 1; i <= 3; i++) {
            mail.append("--b\nContent-Type: text/plain\n\nPART").append(i).append(' ').append(filler).append('\n');
        }
        mail.append("--b--\n");
        String m = mail.toString();
        assertTrue(body(m, "body :content \"text\" :contains \"PART2\"", with()));
        assertFalse(body(m, "body :content \"text\" :contains \"PART3\"", with()),
                "two full parts use up " + BodyValues.MAX_TOTAL_CHARS + " characters");
        assertTrue(body(m, "body :content \"text\" :count \"eq\" :comparator \"i;ascii-numeric\" \"3\"",
                with("relational", "comparator-i;ascii-numeric")), "the third part is still counted");
    }

    @Test
    void scriptsUsingBodyAreChecked() {
        assertError("if body :contains \"x\" { stop; }", "require \"body\"");
        assertError("require \"body\"; if body :raw :text :contains \"x\" { stop; }", "cannot be used together");
        assertError("require \"body\"; if body :raw :content \"text\" \"x\" { stop; }", "cannot be used together");
        assertError("require \"body\"; if body :content :contains \"x\" { stop; }", "followed by a string list");
        assertError("require \"body\"; if body :content \"text\" { stop; }", "takes 1 argument");
        assertError("require \"body\"; if body :over 10 \"x\" { stop; }", "no tag \":over\"");
        assertError("require \"body\"; if body :count \"eq\" \"1\" { stop; }", "require \"relational\"");
        assertError("require [\"body\", \"comparator-i;ascii-numeric\"]; if body :comparator \"i;ascii-numeric\" :contains \"1\""
                + " { stop; }", "cannot do \":contains\"");
    }

    private static void assertError(String script, String reason) {
        SieveException e = assertThrows(SieveException.class, () -> SieveScript.parse(script));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
