package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodecTest {
    static final Charset GBK = Charset.forName("GBK");

    static ContentSource source(byte[] b) {
        return offset -> {
            InputStream in = new ByteArrayInputStream(b);
            in.skipNBytes(offset);
            return in;
        };
    }

    @Test
    void encodedWordsJoinBytesAcrossWordsAndSurviveBreakage() {
        byte[] utf8 = "中文".getBytes(StandardCharsets.UTF_8); // 6 bytes: split inside the first character
        String a = Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(utf8, 0, 2));
        String b = Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(utf8, 2, 6));
        assertEquals("中文", Rfc2047.decode("=?UTF-8?B?" + a + "?= =?utf-8?b?" + b + "?="));
        assertEquals("Re: 测试 ok", Rfc2047.decode("Re: =?GBK?B?" + Base64.getEncoder().encodeToString("测试".getBytes(GBK)) + "?= ok"));
        assertEquals("a b_c", Rfc2047.decode("=?iso-8859-1?q?a_b=5Fc?="));
        assertEquals("中", Rfc2047.decode("=?gb2312?B?" + Base64.getEncoder().encodeToString("中".getBytes(GBK)) + "?="));
        assertEquals("x=?bad", Rfc2047.decode("x=?bad"));
        String encoded = Rfc2047.encode("很长的中文主题".repeat(6), StandardCharsets.UTF_8, 9);
        for (String line : encoded.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals("很长的中文主题".repeat(6), Rfc2047.decode(encoded.replace("\r\n", "")));
    }

    /** Broken senders split the base64 of a text into B-words mid-quantum: joined, it decodes. */
    @Test
    void base64EncodedWordsSplitMidQuantumAreJoinedBeforeDecoding() {
        assertEquals("中文测试", Rfc2047.decode("=?utf-8?B?5Lit5paH5r?= =?utf-8?B?WL6K+V?="));
        assertEquals("中文测试", Rfc2047.decode("=?utf-8?B?5Lit5p?=\r\n =?UTF-8?B?aH5rWL6K?= =?utf-8?B?+V?="));
        assertEquals("abab", Rfc2047.decode("=?utf-8?B?YWI?= =?utf-8?B?YWI?="), "words only missing padding stay apart");
        assertEquals("AA", Rfc2047.decode("=?UTF-8?B?QQ?= =?UTF-8?B?QQ?="), "two words of one letter each, padding left out");
        assertEquals("中文", Rfc2047.decode("=?GBK?B?1tA?= =?GBK?B?zsQ?="), "GBK characters, each word whole but unpadded");
    }

    /** Names the JDK maps to strict GB2312 or does not know, which mail readers treat as the superset. */
    @Test
    void everyGb2312AliasDecodesGbkCharacters() {
        byte[] gbk = "朱镕基".getBytes(GBK); // 镕 is in GBK, not in GB2312
        for (String name : List.of("gb2312-80", "gb2312-1980", "euccn", "x-euc-cn", "euc_cn", "windows-936")) {
            assertEquals("GB18030", MailCharset.lookup(name).orElseThrow().name(), name);
            assertEquals("朱镕基", MailCharset.decode(gbk, 0, gbk.length, name), name);
        }
        assertEquals("x-windows-949", MailCharset.lookup("cp949").orElseThrow().name());
        assertEquals("x-windows-950", MailCharset.lookup("cp950").orElseThrow().name());
    }

    @Test
    void charsetsAreMappedAsMailReadersDo() {
        assertEquals("GB18030", MailCharset.lookup("gb2312").orElseThrow().name());
        assertEquals("GB18030", MailCharset.lookup("x-gbk").orElseThrow().name());
        assertEquals("x-windows-949", MailCharset.lookup("ks_c_5601-1987").orElseThrow().name());
        assertTrue(MailCharset.lookup("no-such-charset").isEmpty());
        byte[] gbk = "国标".getBytes(GBK);
        assertEquals("国标", MailCharset.decode(gbk, 0, gbk.length, "no-such-charset"), "unknown falls back to GB18030");
        assertEquals("国标", MailCharset.decode(gbk, 0, gbk.length, "us-ascii"), "8-bit labelled us-ascii is guessed");
        assertEquals("GB18030", MailCharset.lookup("GB_2312-80").orElseThrow().name());
        assertEquals("GB18030", MailCharset.lookup("cp936").orElseThrow().name());
        assertEquals("UTF-8", MailCharset.lookup("utf8").orElseThrow().name());
        assertEquals("UTF-8", MailCharset.lookup("\"UTF-8\"").orElseThrow().name());
        assertEquals("UTF-8", MailCharset.lookup("utf-8*en").orElseThrow().name(), "RFC 2231 §5 language suffix");
        assertEquals("Big5-HKSCS", MailCharset.lookup("big5").orElseThrow().name());
        byte[] ks = "한국어".getBytes(Charset.forName("x-windows-949"));
        assertEquals("한국어", MailCharset.decode(ks, 0, ks.length, "ks_c_5601-1987"));
        byte[] stray = java.util.Arrays.copyOf(("很长的中文文本".repeat(20)).getBytes(GBK), 20 * 14 + 1);
        stray[stray.length - 1] = (byte) 0xff; // one stray byte in 281: GB18030 is still the guess
        assertEquals("GB18030", MailCharset.detect(stray, 0, stray.length, MailCharset.DEFAULT_FALLBACK).name());
        byte[] noise = {(byte) 0xff, (byte) 0xfe, (byte) 0x80, 'a'};
        assertEquals("ISO-8859-1", MailCharset.detect(noise, 0, noise.length, MailCharset.DEFAULT_FALLBACK).name(),
                "what no fallback decodes ends in ISO-8859-1, which never fails");
        assertEquals("\u00ff\u00fe\u0080a", MailCharset.decode(noise, 0, noise.length, null));
        assertEquals("é", MailCharset.decode(new byte[]{(byte) 0xe9}, 0, 1, "x-bogus", List.of(StandardCharsets.ISO_8859_1)),
                "the fallback chain is configurable");
    }

    @Test
    void transferEncodingsTolerateDamage() {
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII),
                TransferEncoding.base64("aGVs\r\nbG8".getBytes(StandardCharsets.US_ASCII), 0, 9), "missing padding");
        assertEquals("a=b c", new String(TransferEncoding.quotedPrintable("a=3Db=\r\n c".getBytes(StandardCharsets.US_ASCII), 0, 10, false),
                StandardCharsets.US_ASCII));
        assertEquals("50=% off", new String(TransferEncoding.quotedPrintable("50=% off".getBytes(StandardCharsets.US_ASCII), 0, 8, false),
                StandardCharsets.US_ASCII));
    }

    @Test
    void quotedPrintableWeWriteIsSevenBitAndDecodesBack() {
        byte[] text = "我在度假。\n下周一回来。 \n".getBytes(StandardCharsets.UTF_8);
        byte[] qp = TransferEncoding.encodeQuotedPrintable(text);
        for (byte b : qp) {
            assertTrue(b > 0, "7-bit");
        }
        assertEquals("我在度假。\r\n下周一回来。 \r\n", new String(TransferEncoding.quotedPrintable(qp, 0, qp.length, false),
                StandardCharsets.UTF_8), "LF became CRLF; the trailing space survived");
    }

    @Test
    void textExtractionFindsChineseInGbkQuotedPrintableAndBase64() throws Exception {
        String qp = new String(SevenBitDowngrade.quotedPrintable("季度报告\r\n".getBytes(GBK)), StandardCharsets.US_ASCII);
        String m = "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                + "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp
                + "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getEncoder().encodeToString("<b>世界</b>".getBytes(StandardCharsets.UTF_8)) + "\r\n--b--\r\n";
        byte[] bytes = m.getBytes(StandardCharsets.US_ASCII);
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(bytes), MimeLimits.defaults()).summary();
        String text = TextExtractor.bodyText(s, source(bytes));
        assertTrue(text.contains("季度报告"), text);
        assertTrue(text.contains("世界") && !text.contains("<b>"), text);
    }

    @Test
    void rawEightBitMailIsLabelledAndWellFormedMimeIsLeftAlone() throws Exception {
        for (Charset cs : new Charset[]{StandardCharsets.UTF_8, GBK}) {
            byte[] raw = "Subject: 你好\r\n\r\n今天天气很好\r\n".getBytes(cs);
            MessageSummary.ParsedMessage p = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults());
            assertTrue(MessageNormalizer.needsLabels(p));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MessageNormalizer.label(source(raw), p, MailCharset.DEFAULT_FALLBACK, out);
            String labelled = out.toString(StandardCharsets.ISO_8859_1);
            String expectedCharset = cs == StandardCharsets.UTF_8 ? "UTF-8" : "GB18030";
            assertTrue(labelled.contains("Content-Type: text/plain; charset=" + expectedCharset + "\r\n"), labelled);
            assertTrue(labelled.contains("MIME-Version: 1.0\r\n"));
            assertTrue(labelled.startsWith("Subject: =?" + expectedCharset + "?B?"), labelled);
            MessageSummary.ParsedMessage again = MessageSummary.parse(new ByteArrayInputStream(out.toByteArray()), MimeLimits.defaults());
            assertFalse(MessageNormalizer.needsLabels(again));
            assertEquals("你好", Rfc2047.decode(again.summary().envelope().subject()));
            assertEquals("今天天气很好\r\n", TextExtractor.bodyText(again.summary(), source(out.toByteArray())).strip() + "\r\n");
        }
        byte[] mime = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n你好\r\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(MessageNormalizer.needsLabels(MessageSummary.parse(new ByteArrayInputStream(mime), MimeLimits.defaults())),
                "signed or well-formed MIME is never rewritten");
    }

    @Test
    void sevenBitDowngradeReencodesOnlyEightBitParts() throws Exception {
        String m = "Subject: =?UTF-8?B?5rWL6K+V?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n中文正文\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\nascii only\r\n--b--\r\n";
        byte[] bytes = m.getBytes(StandardCharsets.UTF_8);
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(bytes), MimeLimits.defaults()).summary();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SevenBitDowngrade.write(source(bytes), s, bytes.length, out);
        byte[] seven = out.toByteArray();
        for (byte b : seven) {
            assertTrue(b >= 0, "only 7-bit octets remain");
        }
        MessageSummary after = MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults()).summary();
        assertEquals(2, after.root().children().size());
        assertTrue(TextExtractor.bodyText(after, source(seven)).contains("中文正文"));
        assertTrue(new String(seven, StandardCharsets.US_ASCII).contains("--b\r\nContent-Type: text/plain\r\n\r\nascii only\r\n--b--"));
        byte[] plain = "Subject: a\r\n\r\nascii\r\n".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream same = new ByteArrayOutputStream();
        SevenBitDowngrade.write(source(plain), MessageSummary.parse(new ByteArrayInputStream(plain), MimeLimits.defaults()).summary(),
                plain.length, same);
        assertArrayEquals(plain, same.toByteArray(), "a 7-bit message passes byte for byte");
    }

    /**
     * RFC 2231 sections of a long value: none longer than the line allows, no %XX cut, and they
     * join back to the value. A long run without escapes once made each cut look back over the
     * whole value for a '%' (quadratic: 2 MB took 22 s); the bound is for that, the work is linear.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void rfc2231SectionsKeepEscapesWholeAndComeInOnePass() {
        String value = "报告" + "a".repeat(37) + "é".repeat(40) + "b".repeat(50);
        List<String> sections = Rfc2231.encode("filename", value.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 70);
        for (String section : sections) {
            assertTrue(section.length() <= 70, section);
            assertFalse(section.matches(".*%.?$"), "an escape cut at the end of " + section);
        }
        assertEquals(value, HeaderValue.parse("attachment; " + String.join("; ", sections), 100).params().get("filename"));
        byte[] long_ = ("é" + "a".repeat(4_000_000)).getBytes(StandardCharsets.UTF_8);
        assertTrue(Rfc2231.encode("filename", long_, StandardCharsets.UTF_8, 76).size() > 50_000);
    }
}
