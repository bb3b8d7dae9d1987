package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SEARCH text: a Chinese substring must be found whatever the charset, transfer encoding or header encoding. */
class TextExtractorTest {
    static String extract(byte[] raw) throws Exception {
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        return TextExtractor.extract(new ByteArrayInputStream(raw), s);
    }

    static String extract(String goldenFile) throws Exception {
        return extract(Files.readAllBytes(Path.of("src/test/resources/corpus", goldenFile)));
    }

    @Test
    void chineseIsFoundInGbkQuotedPrintableBase64AndEncodedWordSubjects() throws Exception {
        String qp = extract("05-gbk-quoted-printable.eml");
        assertTrue(qp.contains("销售额增长"), qp);
        assertTrue(qp.contains("Subject: 销售通知"), qp);
        assertTrue(qp.contains("From: 张三 <zhang@example.cn>"), qp);
        String b64 = extract("06-gbk-base64-html.eml");
        assertTrue(b64.contains("欢迎光临") && b64.contains("Subject: 促销"), b64);
        assertFalse(b64.contains("<b>") || b64.contains("&nbsp;"), "HTML tags and entities are gone");
        assertTrue(extract("07-subject-split-mid-character.eml").contains("中文邮件主题"));
        String big5 = extract("08-big5-and-gb18030.eml");
        assertTrue(big5.contains("臺灣的繁體字") && big5.contains("扩展字𠮷与€") && big5.contains("繁體中文"), big5);
        assertTrue(extract("03-mixed-related-attachment.eml").contains("请查收附件中的季度报告"));
    }

    @Test
    void rawUtf8HeadersAndLabelledButWrongCharsetsAreGuessed() throws Exception {
        byte[] raw = ("Subject: 原始主题\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] gbkBody = "标签说谎的正文".getBytes(Charset.forName("GBK"));
        byte[] m = new byte[raw.length + gbkBody.length];
        System.arraycopy(raw, 0, m, 0, raw.length);
        System.arraycopy(gbkBody, 0, m, raw.length, gbkBody.length);
        String text = extract(m);
        assertTrue(text.contains("Subject: 原始主题"), text);
        assertTrue(text.contains("标签说谎的正文"), text);
    }

    @Test
    void htmlBecomesRoughText() {
        assertEquals(" a & b c ", TextExtractor.html("<p>a &amp; b</p><script>var x = '<b>';</script><!-- note --> c&nbsp;")
                .replaceAll("\\s+", " "), "scripts and comments are dropped, not searched");
        assertEquals("中 文 <x>", TextExtractor.html("&#20013; &#x6587; &lt;x&gt;"));
        assertEquals("&unknown; stays", TextExtractor.html("&unknown; stays"));
    }

    @Test
    void enclosedMessagesAndAttachmentsAreHandled() throws Exception {
        String fwd = extract("04-message-rfc822.eml");
        assertTrue(fwd.contains("inner plain") && fwd.contains("original"), fwd);
        byte[] attachment = ("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n" + Base64.getEncoder().encodeToString("秘密".getBytes(StandardCharsets.UTF_8))
                + "\r\n--b--\r\n").getBytes(StandardCharsets.US_ASCII);
        assertFalse(extract(attachment).contains("秘密"), "only text parts are searched");
    }

    @Test
    void headerTextUnfoldsAndDecodes() {
        byte[] header = "Subject: =?UTF-8?B?5Lit?=\r\n =?UTF-8?B?5paH?= tail\r\nX-Empty:\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(List.of("Subject: 中文 tail", "X-Empty: "), List.of(TextExtractor.headerText(header).split("\n")));
    }

    /** RFC 5173 §5.2's example: a multipart/mixed holding a multipart/alternative and a message/rfc822. */
    static final String NESTED = """
            From: Whomever
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
            """.replace("\n", "\r\n");

    @Test
    void aPartsOwnContentLeavesOutItsChildren() throws Exception {
        byte[] raw = NESTED.getBytes(StandardCharsets.US_ASCII);
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        ContentSource source = CodecTest.source(raw);
        assertEquals("This is a multi-part message in MIME format.\r\n\r\n\r\nThis is the end of the outer MIME multipart.\r\n",
                TextExtractor.partContent(s.root(), source, TextExtractor.MAX_PART_BYTES), "preamble and epilogue only");
        assertEquals("This is a nested multi-part message in MIME format.\r\n\r\n\r\nThis is the end of the inner MIME multipart.\r\n",
                TextExtractor.partContent(s.part(List.of(1)), source, TextExtractor.MAX_PART_BYTES));
        assertEquals("From: Someone Else\nSubject: hello request\n",
                TextExtractor.partContent(s.part(List.of(2)), source, TextExtractor.MAX_PART_BYTES), "the enclosed header only");
        MessageSummary.Part html = s.part(List.of(1, 2));
        assertEquals("<html><body>Hello</body></html>\r\n", TextExtractor.partContent(html, source, TextExtractor.MAX_PART_BYTES));
        assertEquals(" Hello ", TextExtractor.partText(html, source, TextExtractor.MAX_PART_BYTES).replaceAll("\\s+", " "));
    }

    @Test
    void aPartIsDecodedAndReadOnlyUpToTheLimit() throws Exception {
        byte[] raw = ("Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString("请查收发票附件".getBytes(Charset.forName("GBK"))) + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        assertEquals("请查收发票附件", TextExtractor.partContent(s.root(), CodecTest.source(raw), 100));
        // 8 base64 characters are 6 GBK octets: the first three characters
        assertEquals("请查收", TextExtractor.partContent(s.root(), CodecTest.source(raw), 8));
    }

    @Test
    void aMultipartWithoutItsCloseDelimiterHasNoEpilogue() throws Exception {
        byte[] raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\nbefore\r\n--b\r\n\r\npart\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        assertEquals("before", TextExtractor.partContent(s.root(), CodecTest.source(raw), 1000));
    }
}
