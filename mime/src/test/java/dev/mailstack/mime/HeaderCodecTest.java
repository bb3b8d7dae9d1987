package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RFC 2047 encoded-words, RFC 2231 parameters, address lists and header folding. */
class HeaderCodecTest {
    static final Charset GBK = Charset.forName("GBK");

    static String b(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Test
    void aGbkCharacterSplitAcrossTwoEncodedWordsIsJoinedBeforeDecoding() {
        byte[] gbk = "季度报告".getBytes(GBK); // 8 bytes; split after the 3rd, inside 度
        String split = "=?gbk?B?" + b(Arrays.copyOfRange(gbk, 0, 3)) + "?=\r\n =?GBK?B?" + b(Arrays.copyOfRange(gbk, 3, 8)) + "?=";
        assertEquals("季度报告", Rfc2047.decode(split));
    }

    @Test
    void toleratesCommonBreakage() {
        String zhong = b("中".getBytes(StandardCharsets.UTF_8));
        assertEquals("[中]", Rfc2047.decode("[=?utf-8?b?" + zhong + "?=]"), "glued to text");
        assertEquals("\"中\" <a@b>", Rfc2047.decode("\"=?UTF-8?B?" + zhong + "?=\" <a@b>"), "inside quotes");
        assertEquals("中中", Rfc2047.decode("=?UTF-8?B?" + zhong + "?==?UTF-8?B?" + zhong + "?="), "no space between words");
        assertEquals("a b", Rfc2047.decode("=?us-ascii?q?a?= b"), "text after a word keeps its space");
        assertEquals("中", Rfc2047.decode("=?x-unknown?B?" + b("中".getBytes(GBK)) + "?="), "unknown charset: guessed");
        assertEquals("=?utf-8?x?abc?=", Rfc2047.decode("=?utf-8?x?abc?="), "unknown encoding left as it is");
        assertEquals("ab", Rfc2047.decode("=?utf-8?B?YWI?="), "missing padding still gives the bytes");
        assertEquals("Caf\u00e9 ok", Rfc2047.decode("=?ISO-8859-1?Q?Caf=E9?= ok"));
        assertEquals("plain", Rfc2047.decode("plain"));
    }

    @Test
    void encodingFoldsAt78ColumnsAndRoundTrips() {
        String subject = "这是一个很长的中文邮件主题，用来测试编码后的折行是否正确处理，每个编码字都不超过七十五个字符";
        for (Charset cs : List.of(StandardCharsets.UTF_8, Charset.forName("GB18030"))) {
            String value = Rfc2047.encode(subject, cs, "Subject: ".length());
            String[] lines = ("Subject: " + value).split("\r\n");
            assertTrue(lines.length > 1);
            for (String line : lines) {
                assertTrue(line.length() <= 78, line);
            }
            for (String word : value.split("\r\n ")) {
                assertTrue(word.length() <= 75 && word.startsWith("=?" + cs.name() + "?B?"), word);
                assertEquals(word, word.strip());
            }
            assertEquals(subject, Rfc2047.decode(value.replace("\r\n", "")));
        }
        assertEquals("", Rfc2047.encode("", StandardCharsets.UTF_8));
        String astral = "𠮷".repeat(40);
        assertEquals(astral, Rfc2047.decode(Rfc2047.encode(astral, StandardCharsets.UTF_8).replace("\r\n", "")),
                "surrogate pairs are never split");
    }

    /** After a field name that leaves no room for a word, the first word goes to a line of its own. */
    @Test
    void theFirstWordAfterALongFieldNameIsFoldedToo() {
        String name = "X-A-Rather-Long-Field-Name-That-Takes-Most-Of-The-Line-By-Itself";
        String value = Rfc2047.encode("一个很长的中文主题", StandardCharsets.UTF_8, name.length() + 2);
        assertTrue(value.startsWith("\r\n =?UTF-8?B?"), value);
        assertEquals("一个很长的中文主题", Rfc2047.decode(value.replace("\r\n", "").strip()));
        for (String line : (name + ": " + value).split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        byte[] header = (name + ": 关于下一季度预算的讨论会议安排 and more\r\n\r\n").getBytes(GBK);
        String out = new String(HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of()),
                StandardCharsets.US_ASCII);
        assertTrue(out.startsWith(name + ":\r\n =?"), out);
        for (String line : out.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals("关于下一季度预算的讨论会议安排 and more", Rfc2047.decode(MessageText.unfold(out, name)));
    }

    @Test
    void rfc2231ContinuationsCharsetAndOrder() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("name", "first");
        raw.put("filename*1*", "%E6%8A%A5%E5%91%8A");
        raw.put("filename*0*", "UTF-8'zh-CN'%E5%AD%A3%E5%BA%A6");
        raw.put("filename*2", ".pdf");
        raw.put("title*", "iso-8859-1'de'Gr%FC%DFe");
        raw.put("title", "fallback");
        raw.put("odd*", "no-charset-given%21");
        Map<String, String> decoded = Rfc2231.decode(raw);
        assertEquals(List.of("name", "filename", "title", "odd"), List.copyOf(decoded.keySet()), "first-seen order");
        assertEquals("季度报告.pdf", decoded.get("filename"));
        assertEquals("Grüße", decoded.get("title"), "the RFC 2231 form wins");
        assertEquals("no-charset-given!", decoded.get("odd"));
        assertEquals("中文.txt", Rfc2231.extendedValue("gb2312''%D6%D0%CE%C4.txt"));
        assertEquals("100%", Rfc2231.extendedValue("utf-8''100%"), "a lone percent stays");
    }

    @Test
    void contentTypeParametersAreParsedFromTheRawHeader() {
        HeaderValue v = HeaderValue.parse("Text/Plain (comment); Charset=\"UTF-8\"; name=\"=?UTF-8?B?"
                + b("报告;v2.txt".getBytes(StandardCharsets.UTF_8)) + "?=\"; format=flowed", 100);
        assertEquals("text/plain", v.value());
        assertEquals("UTF-8", v.params().get("charset"));
        assertEquals("报告;v2.txt", v.params().get("name"), "an encoded ';' does not split parameters");
        assertEquals("flowed", v.params().get("format"));
        assertEquals(2, HeaderValue.parse("a/b; p1=1; p2=2; p3=3", 2).params().size(), "maxParamsPerHeader");
    }

    @Test
    void addressListsWithGroupsCommentsAndRoutes() {
        assertEquals(List.of(new AddressList.Address(null, "undisclosed-recipients", null), new AddressList.Address(null, null, null)),
                AddressList.parse("undisclosed-recipients:;"));
        assertEquals(List.of(new AddressList.Address("Bob", "bob", "example.org")), AddressList.parse("bob@example.org (Bob)"));
        assertEquals(List.of(new AddressList.Address("=?UTF-8?B?5p2O5Zub?=", "li", "example.cn")),
                AddressList.parse("=?UTF-8?B?5p2O5Zub?= <li@example.cn>"), "names stay raw for ENVELOPE");
        assertEquals(List.of(new AddressList.Address(null, "x", "y.z")), AddressList.parse("<@a.example,@b.example:x@y.z>"));
        assertTrue(AddressList.parse("").isEmpty());
        assertTrue(AddressList.parse(null).isEmpty());
    }

    @Test
    void rawEightBitHeadersBecomeFoldedEncodedWordsWithAddressesKept() {
        byte[] header = ("From: \"张三\" <zhang@example.cn>\r\nTo: 李四<li@example.cn>, plain@example.org\r\nSubject: "
                + "关于下一季度预算的讨论会议安排和相关材料准备情况的说明 please read\r\nX-Ascii: unchanged\r\n\r\n")
                .getBytes(GBK);
        String out = new String(HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of()),
                StandardCharsets.US_ASCII);
        for (String line : out.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
            assertTrue(line.chars().allMatch(c -> c < 0x80), line);
        }
        assertTrue(out.contains("<zhang@example.cn>") && out.contains("<li@example.cn>, plain@example.org"), out);
        assertTrue(out.contains("X-Ascii: unchanged\r\n\r\n"), out);
        String from = MessageText.unfold(out, "From");
        assertEquals("张三 <zhang@example.cn>", Rfc2047.decode(from));
        assertFalse(from.contains("\""), "no encoded-word inside quotes (RFC 2047 §5(3))");
        assertEquals(List.of(new AddressList.Address(from.substring(0, from.indexOf(" <")), "zhang", "example.cn")),
                AddressList.parse(from));
        assertEquals("李四 <li@example.cn>, plain@example.org", Rfc2047.decode(MessageText.unfold(out, "To")));
        assertEquals("关于下一季度预算的讨论会议安排和相关材料准备情况的说明 please read",
                Rfc2047.decode(MessageText.unfold(out, "Subject")));
    }

    /**
     * Only an angle-addr or addr-spec is an address: a quoted display name with '@' is a phrase and
     * is encoded (RFC 2047 §5(3)); an internationalised address, which no encoding may replace,
     * keeps its UTF-8 octets. Both used to come out as '?' (text written as ISO-8859-1).
     */
    @Test
    void headerRewriteNeverTurnsAddressTextIntoQuestionMarks() throws Exception {
        byte[] raw = ("From: a@b.c\r\nTo: \"张三@公司\" <z@b.c>\r\nCc: <zhang@例子.中国>\r\nSubject: x\r\n\r\nbody 中\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] seven = SevenBitDowngradeTest.downgrade(raw);
        String text = new String(seven, StandardCharsets.UTF_8);
        assertTrue(text.contains("Cc: <zhang@例子.中国>\r\n"), text);
        assertFalse(text.contains("?@"), text);
        MessageSummary.Envelope e = MessageSummary.parse(new java.io.ByteArrayInputStream(seven), MimeLimits.defaults())
                .summary().envelope();
        AddressList.Address to = AddressList.parse(e.to()).getFirst();
        assertTrue(to.name().startsWith("=?UTF-8?B?"), e.to());
        assertEquals("张三@公司", Rfc2047.decode(to.name()), e.to());
        assertEquals("z", to.mailbox(), e.to());
        assertEquals("例子.中国", AddressList.parse(e.cc()).getFirst().host(), e.cc());
    }

    /** RFC 2047 §5(2): the encoded-word goes inside the comment, so the comment stays one. */
    @Test
    void headerRewriteKeepsACommentAComment() throws Exception {
        byte[] raw = "From: zhang@example.com (张三)\r\nSubject: x\r\n\r\nbody 中\r\n".getBytes(StandardCharsets.UTF_8);
        byte[] seven = SevenBitDowngradeTest.downgrade(raw);
        String from = MessageSummary.parse(new java.io.ByteArrayInputStream(seven), MimeLimits.defaults()).summary().envelope().from();
        assertTrue(from.startsWith("zhang@example.com (=?UTF-8?B?"), from);
        AddressList.Address a = AddressList.parse(from).getFirst();
        assertEquals("example.com", a.host(), from);
        assertEquals("张三", Rfc2047.decode(a.name()), from);
    }

    /**
     * RFC 5322 §2.1.1: a comment or quoted parameter the sender folded, unfolded into one token by
     * the rewrite, is folded again at its own white space: no line past 998 octets.
     */
    @Test
    void aRewrittenFieldHasNoLinePast998Octets() throws Exception {
        String folded = "a".repeat(500) + "\r\n " + "b".repeat(500);
        byte[] raw = ("To: (" + folded + ") <a@b.example>, Jörg <j@x.de>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
                + "Content-Type: application/pdf; name=\"Jörg.pdf\"; x=\"" + folded + "\"\r\n\r\nbody\r\n--x--\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] seven = SevenBitDowngradeTest.downgrade(raw);
        for (String line : new String(seven, StandardCharsets.ISO_8859_1).split("\r\n")) {
            assertTrue(line.length() <= 998, () -> line.length() + " octets: " + line.substring(0, 60));
        }
    }

    @Test
    void longTraceFieldsFoldAtWhitespace() {
        String field = "Received: from client.example.org (client.example.org [192.0.2.10]) by mx.example.net "
                + "(mailstack) with ESMTPS id 0123456789abcdef for <someone@example.net>; Mon, 7 Dec 2026 10:00:00 +0000";
        String folded = HeaderRewriter.fold(field);
        for (String line : folded.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals(field, folded.replace("\r\n", ""), "folding only inserts CRLF before whitespace");
    }

    /** Unfolds one field out of a header block, for the assertions above. */
    static final class MessageText {
        static String unfold(String header, String name) {
            String unfolded = header.replaceAll("\r\n[ \t]", " ");
            for (String line : unfolded.split("\r\n")) {
                if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                    return line.substring(name.length() + 1).strip();
                }
            }
            throw new AssertionError("no " + name + " in " + header);
        }
    }

    /**
     * An address header of a mebibyte of comments (from any sender: FETCH ENVELOPE and SORT read
     * it) parses in linear time; it used to re-read the text before each ")" (15 s for 1 MiB).
     */
    @Test
    void aMebibyteOfCommentsInAnAddressParsesPromptly() {
        String hostile = "bob@example.org" + " (x)".repeat(262_144);
        List<AddressList.Address> parsed = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(2), () -> AddressList.parse(hostile));
        assertEquals(List.of(new AddressList.Address("x", "bob", "example.org")), parsed);
    }
}
