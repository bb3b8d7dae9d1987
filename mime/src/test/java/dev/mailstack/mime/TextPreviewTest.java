package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 8970 previews from the summary's offsets: decoded, collapsed, cut, and read by a bounded prefix. */
class TextPreviewTest {
    /** The offsets each preview read from, to show that it reads a prefix and not the message. */
    private final List<long[]> reads = new ArrayList<>();

    private String preview(byte[] raw) throws IOException {
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        ContentSource content = offset -> {
            InputStream in = new ByteArrayInputStream(raw, (int) offset, raw.length - (int) offset) {
                @Override
                public int read(byte[] b, int off, int len) {
                    int n = super.read(b, off, len);
                    reads.add(new long[]{offset, n});
                    return n;
                }
            };
            return in;
        };
        return TextPreview.of(s, content);
    }

    private String preview(String message) throws IOException {
        return preview(message.getBytes(StandardCharsets.UTF_8));
    }

    private static String single(String type, String encoding, String body) {
        return "From: a@b.test\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: " + type + "\r\n"
                + (encoding == null ? "" : "Content-Transfer-Encoding: " + encoding + "\r\n") + "\r\n" + body;
    }

    @Test
    void plainUtf8TextHasItsWhiteSpaceCollapsed() throws IOException {
        assertEquals("你好, 世界! Second line.",
                preview(single("text/plain; charset=UTF-8", "8bit", "  你好,\r\n\r\n\t世界!\r\nSecond   line.\r\n")));
    }

    @Test
    void gbkInBase64AndUtf8InQuotedPrintableWithSoftBreaksDecode() throws IOException {
        String gbk = Base64.getMimeEncoder().encodeToString("销售额增长了百分之二十".getBytes(Charset.forName("GBK")));
        assertEquals("销售额增长了百分之二十", preview(single("text/plain; charset=GBK", "base64", gbk + "\r\n")));
        String qp = "=E4=BD=A0=E5=A5=BD=EF=BC=8C=E4=B8=96=\r\n=E7=95=8C soft=\r\nbreak\r\n";
        assertEquals("你好，世界 softbreak", preview(single("text/plain; charset=utf-8", "quoted-printable", qp)));
    }

    @Test
    void alternativeGivesThePlainVersionAndHtmlAloneLosesItsMarkup() throws IOException {
        String alternative = "From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n"
                + "--x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>the html</p>\r\n"
                + "--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe plain text\r\n--x--\r\n";
        assertEquals("the plain text", preview(alternative));
        String html = "<html><head><title>Title</title><style>p { color: red; }</style></head><body>"
                + "<script>var x = 1;</script><!-- hidden --><p>Hello&nbsp;&amp; welcome&hellip;</p><br>"
                + "<p>Caf&#233; &lt;ok&gt;</p></body></html>\r\n";
        assertEquals("Hello & welcome… Café <ok>", preview(single("text/html; charset=utf-8", null, html)));
    }

    /** RFC 8970 §3.1: nothing to make a preview of is the empty string. */
    @Test
    void noTextPartAndAnEmptyBodyGiveTheEmptyString() throws IOException {
        String attachmentOnly = "From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
                + "--x\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
                + "--x\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nnot shown\r\n"
                + "--x--\r\n";
        assertEquals("", preview(attachmentOnly));
        assertEquals("", preview("From: a@b.test\r\nSubject: empty\r\n\r\n"));
        assertEquals("", preview(single("text/plain", null, " \r\n\t\r\n")));
    }

    @Test
    void longTextIsCutAt256CharactersAndNeverInsideASurrogatePair() throws IOException {
        String preview = preview(single("text/plain; charset=utf-8", null, "x".repeat(300) + "\r\n"));
        assertEquals("x".repeat(256), preview);
        // 255 chars, then U+20BB7 (two chars): it does not fit whole, so it is left out
        String astral = preview(single("text/plain; charset=utf-8", "8bit", "a".repeat(255) + "𠮷𠮷𠮷\r\n"));
        assertEquals("a".repeat(255), astral);
        String all = preview(single("text/plain; charset=utf-8", "8bit", "a".repeat(254) + "𠮷𠮷\r\n"));
        assertEquals("a".repeat(254) + "𠮷", all);
    }

    /**
     * A big body is read by its first few KiB only; a character cut at the end of that prefix does
     * not turn the guess of an unlabelled UTF-8 body into GB18030, nor leave U+FFFD behind.
     */
    @Test
    void aLargeBodyIsReadByAPrefixThatMayEndInsideACharacter() throws IOException {
        for (int shift = 0; shift < 3; shift++) {
            String body = "z".repeat(shift) + "中".repeat(20_000);
            byte[] raw = single("text/plain", "8bit", body).getBytes(StandardCharsets.UTF_8);
            reads.clear();
            assertEquals("z".repeat(shift) + "中".repeat(256 - shift), preview(raw));
            long read = reads.stream().mapToLong(r -> Math.max(0, r[1])).sum();
            assertTrue(read <= TextPreview.FIRST_READ, "read " + read + " octets of " + raw.length);
        }
        String gbk = Base64.getMimeEncoder().encodeToString("中文".repeat(10_000).getBytes(Charset.forName("GBK")));
        String preview = preview(single("text/plain; charset=gb2312", "base64", gbk));
        assertEquals("中文".repeat(128), preview);
    }

    /** A long style block fills the first read with markup: more is read, up to a bound, and the text found. */
    @Test
    void htmlWhoseFirstKilobytesAreStyleIsReadFurther() throws IOException {
        String html = "<html><head><style>" + ".c { margin: 0; }\r\n".repeat(1000) + "</style></head>"
                + "<body><p>Real text</p></body></html>";
        assertEquals("Real text", preview(single("text/html; charset=us-ascii", "quoted-printable", html)));
        String endless = "<html><body><style>" + ".c { margin: 0; }\r\n".repeat(10_000);
        reads.clear();
        assertEquals("", preview(single("text/html", null, endless)));
        long read = reads.stream().mapToLong(r -> Math.max(0, r[1])).sum();
        assertTrue(read <= 2L * TextPreview.MAX_READ, "read " + read);
    }

    @Test
    void invisiblePaddingAndNoBreakSpacesGo() throws IOException {
        String html = "<p>Sale&zwnj;&#847;&nbsp;&nbsp;now\u00A0on&shy;!</p>";
        String preview = preview(single("text/html; charset=utf-8", "8bit", html));
        assertEquals("Sale now on!", preview);
        assertFalse(preview.contains("\u200C"));
    }
    /** A reply's preview is what it says, not what it quotes (as Dovecot's snippets); a quote alone is kept. */
    @Test
    void quotedLinesAndBlockquotesAreLeftOutWhenThereIsOtherText() throws IOException {
        assertEquals("好的，周五见。 On Mon, Bob wrote:", preview(single("text/plain; charset=utf-8", "8bit",
                "好的，周五见。\r\n\r\nOn Mon, Bob wrote:\r\n> 周五开会吗？\r\n  >> older\r\n")));
        assertEquals("Bob wrote: Yes, Friday.", preview(single("text/plain", null,
                "Bob wrote:\r\n> Meeting on Friday?\r\n>\r\nYes, Friday.\r\n")));
        assertEquals("> only a quote > here", preview(single("text/plain", null, "> only a quote\r\n> here\r\n")));
        String html = "<div>Sounds good</div><div class=gmail_quote>On Mon, Bob wrote:<BLOCKQUOTE type=cite>"
                + "Lunch?<blockquote>Earlier</blockquote>Still quoted</blockquote>after</div><blockquotes>kept</blockquotes>";
        assertEquals("Sounds good On Mon, Bob wrote: after kept", preview(single("text/html", null, html)));
        assertEquals("Top", preview(single("text/html", null, "<p>Top</p><blockquote>cut off inside a quote")));
        assertEquals("Lunch?", preview(single("text/html", null, "<blockquote>Lunch?</blockquote>")));
        // an end tag without its '>', and a '<blockquote' inside an end tag's attributes
        assertEquals("z", preview(single("text/html", null, "<blockquote>x</blockquote<blockquote>y</blockquote>z")));
        // (the second opens a quote never closed: nothing is left outside it, so the preview is all the text)
        assertEquals("q \">after", preview(single("text/html", null, "<blockquote>q</blockquote title=\"<blockquote>\">after")));
    }

    /** A bottom-posted answer after a quote longer than the first read is still found, by a bounded read. */
    @Test
    void anAnswerBelowALongQuoteIsReadFurther() throws IOException {
        String body = "> quoted line of the earlier message\r\n".repeat(400) + "My answer.\r\n";
        assertEquals("My answer.", preview(single("text/plain", null, body)));
        reads.clear();
        assertTrue(preview(single("text/plain", null, "> q\r\n".repeat(100_000))).startsWith("> q > q"));
        long read = reads.stream().mapToLong(r -> Math.max(0, r[1])).sum();
        assertTrue(read <= 2L * TextPreview.MAX_READ, "read " + read);
    }
}
