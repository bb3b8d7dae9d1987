package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageSummaryTest {
    static final String NESTED = "From: Carol <carol@example.net>\r\nTo: a@example.org, \"Smith, J\" <j@example.org>\r\n"
            + "Subject: nested\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
            + "preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
            + "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\nline two\r\n"
            + "--inner\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--inner--\r\n"
            + "--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inside\r\nFrom: x@y.z\r\n\r\nenclosed body\r\n"
            + "--outer\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
            + "Content-Disposition: attachment; filename*0*=utf-8''%E6%8A%A5; filename*1=\"-1.pdf\"\r\n\r\nAAAA\r\n"
            + "--outer--\r\nepilogue\r\n";

    static MessageSummary.ParsedMessage parse(String text) throws IOException {
        return MessageSummary.parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), MimeLimits.defaults());
    }

    static String slice(String text, long offset, long length) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return new String(b, (int) offset, (int) length, StandardCharsets.UTF_8);
    }

    /** RFC 2046 §4.1.2: text without a charset is us-ascii, listed after its other parameters as Dovecot lists it. */
    @Test
    void textWithoutACharsetIsUsAsciiAfterItsOtherParameters() throws Exception {
        assertEquals(List.of("format", "charset"), List.copyOf(parse("Content-Type: text/plain; format=flowed\r\n\r\nx\r\n")
                .summary().root().params().keySet()));
        assertEquals("us-ascii", parse("Content-Type: text/plain; format=flowed\r\n\r\nx\r\n").summary().root().params().get("charset"));
        assertEquals(Map.of("charset", "gbk"), parse("Content-Type: text/plain; charset=gbk\r\n\r\nx\r\n").summary().root().params());
        assertEquals(Map.of("name", "a.bin"), parse("Content-Type: application/octet-stream; name=a.bin\r\n\r\nx\r\n")
                .summary().root().params(), "only text has a default charset");
    }

    /** RFC 3282 §2: a comma-separated list of tags; empty items are none. */
    @Test
    void contentLanguageIsAListOfTags() throws Exception {
        assertEquals(List.of("zh-CN", "en"), parse("Content-Language: zh-CN ,  en,\r\n\r\nx\r\n").summary().root().language());
        assertEquals(List.of(), parse("Content-Language: \r\n\r\nx\r\n").summary().root().language());
    }

    /**
     * A regular expression split backtracked over a run of white space: a 600 KB header of folded
     * spaces took minutes at intake (found by review). The bound is for a hang, not a speed goal:
     * the parse takes milliseconds.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aContentLanguageOfFoldedSpacesIsParsedInOnePass() throws Exception {
        StringBuilder m = new StringBuilder("Subject: x\r\nContent-Language: a\r\n");
        for (int i = 0; i < 600; i++) {
            m.append(" ".repeat(1000)).append("\r\n");
        }
        m.append(" b\r\n\r\nbody\r\n");
        assertEquals(1, parse(m.toString()).summary().root().language().size());
    }

    @Test
    void partOffsetsPointAtExactlyEachPartsBytes() throws Exception {
        MessageSummary.ParsedMessage p = parse(NESTED);
        assertEquals(NESTED.getBytes(StandardCharsets.UTF_8).length, p.size());
        MessageSummary s = p.summary();
        MessageSummary.Part text = s.part(List.of(1, 1));
        assertEquals("text", text.type());
        assertEquals("plain text\r\nline two", slice(NESTED, text.bodyOffset(), text.bodySize()),
                "RFC 2046: the CRLF before a boundary belongs to the boundary");
        assertEquals(1, text.bodyLines(), "lines are the LFs inside the body, as Dovecot counts them");
        assertEquals("Content-Type: text/plain; charset=utf-8\r\n\r\n", slice(NESTED, text.headerOffset(), text.headerSize()));
        MessageSummary.Part html = s.part(List.of(1, 2));
        assertEquals("<p>html</p>", slice(NESTED, html.bodyOffset(), html.bodySize()));
        MessageSummary.Part message = s.part(List.of(2));
        assertTrue(message.isMessage());
        assertEquals("inside", message.embedded().envelope().subject());
        assertEquals("Subject: inside\r\nFrom: x@y.z\r\n\r\nenclosed body", slice(NESTED, message.bodyOffset(), message.bodySize()));
        MessageSummary.Part enclosed = s.part(List.of(2, 1));
        assertEquals("enclosed body", slice(NESTED, enclosed.bodyOffset(), enclosed.bodySize()));
        MessageSummary.Part pdf = s.part(List.of(3));
        assertEquals("AAAA", slice(NESTED, pdf.bodyOffset(), pdf.bodySize()));
        assertEquals("base64", pdf.encoding());
        assertEquals("报-1.pdf", pdf.disposition().params().get("filename"), "RFC 2231 continuation with charset");
        assertEquals("r.pdf", pdf.params().get("name"));
        assertThrows(IllegalArgumentException.class, () -> s.part(List.of(4)));
        assertEquals("nested", s.envelope().subject());
        assertEquals(List.of(new AddressList.Address(null, "a", "example.org"), new AddressList.Address("Smith, J", "j", "example.org")),
                AddressList.parse(s.envelope().to()));
    }

    @Test
    void summariesRoundTripAndKeepTheHeader() throws Exception {
        MessageSummary s = parse(NESTED).summary();
        MessageSummary back = MessageSummary.decode(s.encode());
        assertEquals(s, back);
        assertEquals(NESTED.substring(0, NESTED.indexOf("\r\n\r\n") + 4), new String(back.header(), StandardCharsets.UTF_8));
    }

    @Test
    void brokenMessagesStillGetAStructure() throws Exception {
        String unclosed = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nfirst\r\n--b\r\nContent-Type: text/html\r\n\r\ncut off";
        MessageSummary.ParsedMessage p = parse(unclosed);
        assertEquals(2, p.summary().root().children().size());
        assertEquals("cut off", slice(unclosed, p.summary().part(List.of(2)).bodyOffset(), p.summary().part(List.of(2)).bodySize()));
        MessageSummary.ParsedMessage noBlank = parse("Subject: x\r\nthis is not a header\r\nmore\r\n");
        assertEquals("Subject: x\r\n".length(), noBlank.headerSize());
        MessageSummary.ParsedMessage noBoundary = parse("Content-Type: multipart/mixed\r\n\r\nbody\r\n");
        assertEquals("text", noBoundary.summary().root().type());
        MessageSummary.ParsedMessage garbage = MessageSummary.parse(new ByteArrayInputStream(new byte[]{(byte) 0xff, 0, '\n', (byte) 0x80}),
                MimeLimits.defaults());
        assertEquals(4, garbage.size());
    }

    @Test
    void nestingPastTheLimitIsServedAsALeaf() throws Exception {
        StringBuilder m = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            m.append("Content-Type: multipart/mixed; boundary=b").append(i).append("\r\n\r\n--b").append(i).append("\r\n");
        }
        m.append("\r\ndeep\r\n");
        MessageSummary.ParsedMessage p = MessageSummary.parse(new ByteArrayInputStream(m.toString().getBytes(StandardCharsets.US_ASCII)),
                new MimeLimits(5, 1000, 1 << 20, 100));
        MessageSummary.Part part = p.summary().root();
        int depth = 0;
        while (part.isMultipart()) {
            part = part.children().get(0);
            depth++;
        }
        assertEquals(5, depth);
    }

    @Test
    void aFiftyMegabyteMessageParsesWithFlatMemory() throws Exception {
        long size = 50L * 1024 * 1024;
        byte[] line = "0123456789012345678901234567890123456789012345678901234567890123456789\r\n".getBytes(StandardCharsets.US_ASCII);
        InputStream big = new InputStream() {
            long pos;
            final byte[] head = "Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

            @Override
            public int read() {
                if (pos >= size) {
                    return -1;
                }
                long p = pos++;
                return p < head.length ? head[(int) p] : line[(int) ((p - head.length) % line.length)];
            }
        };
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        MessageSummary.ParsedMessage p = MessageSummary.parse(new java.io.BufferedInputStream(big, 65536), MimeLimits.defaults());
        System.gc();
        long after = rt.totalMemory() - rt.freeMemory(); // what the parse keeps, not its short-lived garbage
        assertEquals(size, p.size());
        assertTrue(after - before < 32L * 1024 * 1024, "heap grew " + (after - before));
    }

    @Test
    void formatOneSummariesStillDecode() throws Exception {
        MessageSummary s = parse("Subject: old\r\n\r\nx\r\n").summary();
        byte[] v2 = s.encode();
        int headerLength = s.header().length;
        byte[] v1 = Arrays.copyOf(v2, v2.length - 4 - headerLength);
        v1[0] = 1;
        MessageSummary old = MessageSummary.decode(v1);
        assertEquals("old", old.envelope().subject());
        assertNull(old.header());
        assertFalse(old.root().isMultipart());
        assertArrayEquals(s.header(), MessageSummary.decode(v2).header());
    }

    @Test
    void tenThousandPartsStopAtTheLimitAndTheRestIsOneTextPart() throws Exception {
        StringBuilder m = new StringBuilder("Subject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n");
        for (int i = 0; i < 10_000; i++) {
            m.append("--x\r\nContent-Type: text/plain\r\n\r\npart ").append(i).append("\r\n");
        }
        m.append("--x--\r\n");
        String text = m.toString();
        MessageSummary.ParsedMessage p = parse(text);
        MessageSummary.Part root = p.summary().root();
        assertEquals(text.length(), p.size());
        assertEquals(1000, root.children().size(), "999 parsed parts and the rest");
        assertEquals("part 998", slice(text, root.children().get(998).bodyOffset(), root.children().get(998).bodySize()));
        MessageSummary.Part rest = root.children().get(999);
        assertEquals("text", rest.type());
        assertEquals(0, rest.headerSize());
        String restText = slice(text, rest.bodyOffset(), rest.bodySize());
        assertTrue(restText.startsWith("Content-Type: text/plain\r\n\r\npart 999\r\n--x\r\n"), restText.substring(0, 60));
        assertTrue(restText.endsWith("part 9999\r\n--x--\r\n"), "the rest runs to the end");
        MessageSummaryGoldenTest.checkInvariants(root, p.size());
        assertEquals(p.summary(), MessageSummary.decode(p.summary().encode()));
    }

    @Test
    void aThousandLevelsOfMultipartAndMessageNestingStayBounded() throws Exception {
        StringBuilder m = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            if (i % 2 == 0) {
                m.append("Content-Type: multipart/mixed; boundary=b").append(i).append("\r\n\r\n--b").append(i).append("\r\n");
            } else {
                m.append("Content-Type: message/rfc822\r\n\r\n");
            }
        }
        m.append("Content-Type: text/plain\r\n\r\nbottom\r\n");
        for (int i = 998; i >= 0; i -= 2) {
            m.append("--b").append(i).append("--\r\n");
        }
        String text = m.toString();
        MessageSummary.ParsedMessage p = parse(text);
        assertEquals(text.length(), p.size());
        int depth = 0;
        MessageSummary.Part part = p.summary().root();
        while (part.isMultipart() || part.isMessage()) {
            part = part.isMultipart() ? part.children().get(0) : part.embedded().root();
            depth++;
        }
        assertEquals(MimeLimits.defaults().maxDepth(), depth);
        assertEquals("text", part.type(), "past the depth limit the rest is one text part");
        assertTrue(slice(text, part.bodyOffset(), part.bodySize()).contains("bottom"));
        MessageSummaryGoldenTest.checkInvariants(p.summary().root(), p.size());
        assertEquals(p.summary(), MessageSummary.decode(p.summary().encode()), "deep summaries round trip");
    }

    @Test
    void sizesAndLinesFollowDovecotsRules() throws Exception {
        // built like Dovecot's own bodystructure test message (src/lib-imap/test-imap-bodystructure.c):
        // a part "hello\n\n" before a boundary is 6 octets and 1 line with LF line ends
        String m = "Content-Type: multipart/mixed; boundary=\"a b\"\n\nprologue\n\n--a b\n"
                + "Content-Type: text/x-own; charset=us-ascii\nContent-Language: en, fi\n\nhello\n\n--a b\n"
                + "Content-Type: message/rfc822\n\nSubject: sub\nContent-Type: multipart/alternative; boundary=s\n\n"
                + "--s\nContent-Type: text/html\nContent-Transfer-Encoding: 8bit\n\n<p>Hi</p>\n\n--s--\nepilogue\n\n"
                + "--a b--\nend\n";
        MessageSummary s = parse(m).summary();
        MessageSummary.Part hello = s.part(List.of(1));
        assertEquals("hello\n", slice(m, hello.bodyOffset(), hello.bodySize()));
        assertEquals(1, hello.bodyLines());
        assertEquals(List.of("en", "fi"), hello.language());
        assertEquals("a b", s.root().params().get("boundary"));
        MessageSummary.Part message = s.part(List.of(2));
        String enclosed = slice(m, message.bodyOffset(), message.bodySize());
        assertEquals("Subject: sub\nContent-Type: multipart/alternative; boundary=s\n\n--s\nContent-Type: text/html\n"
                + "Content-Transfer-Encoding: 8bit\n\n<p>Hi</p>\n\n--s--\nepilogue\n", enclosed);
        assertEquals(enclosed.chars().filter(c -> c == '\n').count(), message.bodyLines());
        MessageSummary.Part html = s.part(List.of(2, 1));
        assertEquals("<p>Hi</p>\n", slice(m, html.bodyOffset(), html.bodySize()));
        assertEquals(1, html.bodyLines());
        assertEquals(Map.of("charset", "us-ascii"), html.params(), "text without parameters is us-ascii");
    }

    @Test
    void theSummaryDoesNotDependOnHowTheInputArrivesInReads() throws Exception {
        // the parser scans eight octets at a time and across refills of its buffer: every split of
        // the input, CRLF or bare LF, CR at a read's end, must give the same result as one read
        String lf = NESTED.replace("\r\n", "\n");
        for (String text : List.of(NESTED, lf, NESTED + "-\r\n-x\r\nno line end")) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            MessageSummary.ParsedMessage whole = MessageSummary.parse(new ByteArrayInputStream(bytes), MimeLimits.defaults());
            for (int chunk = 1; chunk <= 17; chunk++) {
                MessageSummary.ParsedMessage split = MessageSummary.parse(new Trickle(bytes, chunk), MimeLimits.defaults());
                assertEquals(whole.summary(), split.summary(), "reads of " + chunk);
                assertEquals(whole.size(), split.size());
                assertEquals(whole.bodyLines(), split.bodyLines());
                assertEquals(whole.headerSize(), split.headerSize());
            }
        }
    }

    @Test
    void anEightBitOctetIsNoticedAtEveryPlaceInALine() throws Exception {
        String head = "Subject: x\r\n\r\n";
        for (int at = 0; at < 40; at++) {
            byte[] body = ("a".repeat(40) + "\r\n" + "b".repeat(20) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            body[at] = (byte) 0xe4;
            byte[] m = (head + new String(body, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
            assertTrue(MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults()).eightBit(), "at " + at);
        }
        assertFalse(parse(head + "a".repeat(40) + "\r\n").eightBit());
    }

    /** Hands out at most {@code chunk} octets per read and claims to know nothing of the length. */
    private static final class Trickle extends InputStream {
        private final byte[] bytes;
        private final int chunk;
        private int pos;

        Trickle(byte[] bytes, int chunk) {
            this.bytes = bytes;
            this.chunk = chunk;
        }

        @Override
        public int read() {
            return pos < bytes.length ? bytes[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, chunk), bytes.length - pos);
            System.arraycopy(bytes, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    @Test
    void lineCountsSurviveLinesLongerThanWhatIsKept() throws Exception {
        String longLine = "x".repeat(MimeParser.KEEP * 3);
        String m = "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n" + longLine + "\r\n" + longLine
                + "\r\n--q--\r\n";
        MessageSummary.Part part = parse(m).summary().part(List.of(1));
        assertEquals(longLine + "\r\n" + longLine, slice(m, part.bodyOffset(), part.bodySize()), "the CR of a long line is found");
        assertEquals(1, part.bodyLines());
    }

    @Test
    void aHeaderPastTheLimitIsCountedButNotKept() throws Exception {
        StringBuilder m = new StringBuilder("Subject: kept\r\n");
        for (int i = 0; i < 20_000; i++) {
            m.append("X-Field-").append(i).append(": value ").append(i).append("\r\n");
        }
        m.append("Content-Type: multipart/mixed; boundary=late\r\n\r\n--late\r\n\r\nbody\r\n--late--\r\n");
        String text = m.toString();
        MessageSummary.ParsedMessage p = MessageSummary.parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)),
                new MimeLimits(20, 1000, 64 * 1024, 100));
        assertEquals(text.indexOf("\r\n\r\n") + 4, p.headerSize(), "the header size stays exact");
        assertEquals("kept", p.summary().envelope().subject());
        assertEquals("text", p.summary().root().type(), "a Content-Type past the limit is not read");
        assertEquals(text.length(), p.size());
        assertThrows(IllegalArgumentException.class, () -> new MimeLimits(-1, 1, 1, 1));
        String multipart = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n";
        MessageSummary.Part flat = MessageSummary.parse(new ByteArrayInputStream(multipart.getBytes(StandardCharsets.US_ASCII)),
                new MimeLimits(0, 0, 0, 0)).summary().root();
        assertEquals("text", flat.type(), "zero limits: the message is one part");
        assertEquals(multipart.length() - 4 - multipart.indexOf("\r\n\r\n"), flat.bodySize());
    }
}
