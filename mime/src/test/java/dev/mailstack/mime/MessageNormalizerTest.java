package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageNormalizerTest {
    static final Charset GBK = Charset.forName("GBK");

    static MessageSummary.ParsedMessage parse(byte[] b) throws IOException {
        return MessageSummary.parse(new ByteArrayInputStream(b), MimeLimits.defaults());
    }

    static byte[] label(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MessageNormalizer.label(CodecTest.source(raw), parse(raw), MailCharset.DEFAULT_FALLBACK, out);
        return out.toByteArray();
    }

    @Test
    void rawUtf8TypedOverTelnetIsLabelledUtf8With8bit() throws Exception {
        byte[] raw = "From: 用户 <u@example.org>\r\nSubject: 你好，世界\r\n\r\n今天天气很好\r\n第二行\r\n".getBytes(StandardCharsets.UTF_8);
        assertTrue(MessageNormalizer.needsLabels(parse(raw)));
        byte[] labelled = label(raw);
        String text = new String(labelled, StandardCharsets.ISO_8859_1);
        String header = text.substring(0, text.indexOf("\r\n\r\n") + 4);
        assertTrue(header.chars().allMatch(c -> c < 0x80), "the header is 7-bit now: " + header);
        assertTrue(header.contains("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n"), header);
        MessageSummary.ParsedMessage again = parse(labelled);
        assertFalse(MessageNormalizer.needsLabels(again), "labelling is done once");
        assertEquals("你好，世界", Rfc2047.decode(again.summary().envelope().subject()));
        assertEquals("用户", Rfc2047.decode(AddressList.parse(again.summary().envelope().from()).get(0).name()));
        String body = new String(labelled, (int) again.headerSize(), labelled.length - (int) again.headerSize(), StandardCharsets.UTF_8);
        assertEquals("今天天气很好\r\n第二行\r\n", body, "the body is kept byte for byte");
    }

    @Test
    void rawGbkIsLabelledGb18030() throws Exception {
        byte[] raw = "Subject: 报告\r\n\r\n季度销售报告\r\n".getBytes(GBK);
        byte[] labelled = label(raw);
        String text = new String(labelled, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("Content-Type: text/plain; charset=GB18030\r\n"), text);
        assertTrue(text.startsWith("Subject: =?GB18030?B?"), text);
        MessageSummary.ParsedMessage again = parse(labelled);
        assertEquals("报告", Rfc2047.decode(again.summary().envelope().subject()));
        assertTrue(TextExtractor.bodyText(again.summary(), CodecTest.source(labelled)).contains("季度销售报告"));
    }

    @Test
    void eightBitOnlyInTheHeaderGives7bitAndLongLinesGiveBase64() throws Exception {
        byte[] headerOnly = "Subject: 你好\r\n\r\nascii body\r\n".getBytes(StandardCharsets.UTF_8);
        assertTrue(new String(label(headerOnly), StandardCharsets.US_ASCII).contains("Content-Transfer-Encoding: 7bit\r\n"));
        String longLine = "长".repeat(600); // 1800 octets on one line: more than RFC 5322's 998
        byte[] raw = ("Subject: x\r\n\r\n" + longLine + "\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] labelled = label(raw);
        String text = new String(labelled, StandardCharsets.US_ASCII);
        assertTrue(text.contains("Content-Transfer-Encoding: base64\r\n"), text);
        for (String line : text.split("\r\n")) {
            assertTrue(line.length() <= 998);
        }
        MessageSummary.ParsedMessage again = parse(labelled);
        assertEquals(longLine + "\r\n", TextExtractor.bodyText(again.summary(), CodecTest.source(labelled)).strip() + "\r\n");
    }

    @Test
    void wellFormedOrLabelledMimeIsNeverTouched() throws Exception {
        byte[] signed = ("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from:subject; bh=x; b=y\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                + "Subject: =?UTF-8?B?" + Base64.getEncoder().encodeToString("测试".getBytes(StandardCharsets.UTF_8)) + "?=\r\n\r\n"
                + "正文\r\n").getBytes(StandardCharsets.UTF_8);
        assertFalse(MessageNormalizer.needsLabels(parse(signed)));
        byte[] versionOnly = "MIME-Version: 1.0\r\nSubject: x\r\n\r\n正文\r\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(MessageNormalizer.needsLabels(parse(versionOnly)), "MIME-Version alone is the sender's MIME");
        byte[] ascii = "Subject: x\r\n\r\nplain\r\n".getBytes(StandardCharsets.US_ASCII);
        assertFalse(MessageNormalizer.needsLabels(parse(ascii)), "7-bit mail needs no labels");
    }

    @Test
    void prependStreamsAFoldedTraceFieldInFrontOfTheMessage() throws Exception {
        byte[] message = "Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        String received = "Received: from client.example.org (client.example.org [192.0.2.10]) by mx.example.net "
                + "(mailstack) with ESMTP id 42 for <a@example.net>; Mon, 7 Dec 2026 10:00:00 +0000";
        byte[] out;
        try (InputStream in = MessageNormalizer.prepend(received, new ByteArrayInputStream(message))) {
            out = in.readAllBytes();
        }
        String text = new String(out, StandardCharsets.US_ASCII);
        assertTrue(text.endsWith("\r\nSubject: x\r\n\r\nbody\r\n"));
        String field = text.substring(0, text.indexOf("\r\nSubject:"));
        assertEquals(received, field.replace("\r\n", ""));
        for (String line : field.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        MessageSummary.ParsedMessage p = parse(out);
        assertEquals("x", p.summary().envelope().subject());
        assertArrayEquals(message, java.util.Arrays.copyOfRange(out, out.length - message.length, out.length));
        assertThrows(IllegalArgumentException.class, () -> MessageNormalizer.prepend("X: a\r\nY: b", InputStream.nullInputStream()));
        assertThrows(IllegalArgumentException.class, () -> MessageNormalizer.prepend("no colon", InputStream.nullInputStream()));
    }

    @Test
    void fallbackChainIsConfigurable() throws Exception {
        byte[] raw = "Subject: x\r\n\r\n\u00e9t\u00e9 \u00e0 Paris\r\n".getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MessageNormalizer.label(CodecTest.source(raw), parse(raw), List.of(StandardCharsets.ISO_8859_1), out);
        assertTrue(out.toString(StandardCharsets.ISO_8859_1).contains("charset=ISO-8859-1"), out.toString(StandardCharsets.ISO_8859_1));
    }
}
