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
}
