package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import dev.mailstack.mime.HeaderCodecTest.MessageText;
import org.junit.jupiter.api.Test;

class SevenBitDowngradeTest {
    static final Charset GBK = Charset.forName("GBK");

    static byte[] downgrade(byte[] raw) throws IOException {
        MessageSummary s = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SevenBitDowngrade.write(CodecTest.source(raw), s, raw.length, out);
        return out.toByteArray();
    }

    static void assertSevenBit(byte[] b) {
        for (byte x : b) {
            assertTrue(x >= 0, "only 7-bit octets remain");
        }
    }

    static MessageSummary.Part part(byte[] message, List<Integer> path) throws IOException {
        return MessageSummary.parse(new ByteArrayInputStream(message), MimeLimits.defaults()).summary().part(path);
    }

    static byte[] decodedBody(byte[] message, List<Integer> path) throws IOException {
        MessageSummary.Part p = part(message, path);
        return TransferEncoding.decode(java.util.Arrays.copyOfRange(message, (int) p.bodyOffset(),
                (int) (p.bodyOffset() + p.bodySize())), p.encoding());
    }

    @Test
    void mostlyAsciiTextBecomesQuotedPrintableAndDecodesBackExactly() throws Exception {
        String body = "Hello Zoë,\r\nthe café opens at 9.\r\nTrailing space \r\n=equals=\r\n" + "x".repeat(200) + "é\r\n";
        byte[] raw = ("Subject: Café\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        assertSevenBit(seven);
        String text = new String(seven, StandardCharsets.US_ASCII);
        assertTrue(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"), text);
        for (String line : text.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertEquals(body, new String(decodedBody(seven, List.of()), StandardCharsets.UTF_8));
        assertEquals("Café", Rfc2047.decode(MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults())
                .summary().envelope().subject()));
    }

    @Test
    void chineseTextBecomesBase64WhenThatIsSmallerAndStructureIsKept() throws Exception {
        String chinese = "这是一段很长的中文正文，用于测试降级编码。\r\n".repeat(5);
        byte[] gbk = chinese.getBytes(GBK);
        java.io.ByteArrayOutputStream m = new java.io.ByteArrayOutputStream();
        m.writeBytes(("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\n"
                + "Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        m.writeBytes(gbk);
        m.writeBytes(("\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        m.writeBytes(new byte[]{0, 1, (byte) 0xfe, (byte) 0xff, 'z'});
        m.writeBytes("\r\n--b\r\nContent-Type: text/plain\r\n\r\nascii stays\r\n--b--\r\nepilogue\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] raw = m.toByteArray();
        byte[] seven = downgrade(raw);
        assertSevenBit(seven);
        MessageSummary after = MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults()).summary();
        assertEquals(3, after.root().children().size());
        assertEquals("base64", after.part(List.of(1)).encoding(), "base64 is smaller than QP for Chinese");
        assertEquals(chinese, new String(decodedBody(seven, List.of(1)), GBK));
        assertEquals("base64", after.part(List.of(2)).encoding(), "non-text is never QP");
        assertArrayEquals(new byte[]{0, 1, (byte) 0xfe, (byte) 0xff, 'z'}, decodedBody(seven, List.of(2)));
        String text = new String(seven, StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\n"));
        assertTrue(text.endsWith("--b\r\nContent-Type: text/plain\r\n\r\nascii stays\r\n--b--\r\nepilogue\r\n"), text);
    }

    @Test
    void eightBitPreambleAndEpilogueOctetsBecomeQuestionMarks() throws Exception {
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n这是前言\r\n--b\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n正文\r\n"
                + "--b--\r\n结语 end\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        assertSevenBit(seven);
        String text = new String(seven, StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "?".repeat(12) + "\r\n--b\r\n"), text);
        assertTrue(text.endsWith("--b--\r\n" + "?".repeat(6) + " end\r\n"), text);
        MessageSummary after = MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults()).summary();
        assertEquals(1, after.root().children().size());
        assertEquals("正文", new String(decodedBody(seven, List.of(1)), StandardCharsets.UTF_8));
    }

    @Test
    void eightBitHeadersInsidePartsAndEnclosedMessagesAreEncoded() throws Exception {
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                + "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: 内部主题\r\n\r\n内部正文\r\n"
                + "--b--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        assertSevenBit(seven);
        MessageSummary after = MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults()).summary();
        MessageSummary.Part message = after.part(List.of(1));
        assertEquals("7bit", message.encoding(), "an 8bit label on what is now 7-bit becomes 7bit");
        assertEquals("内部主题", Rfc2047.decode(message.embedded().envelope().subject()));
        assertTrue(TextExtractor.bodyText(after, CodecTest.source(seven)).contains("内部正文"));
    }

    /**
     * RFC 2047 §5 allows no encoded-word in a parameter, and RFC 6152 §3 wants the content kept:
     * a raw UTF-8 attachment name becomes an RFC 2231 parameter (in sections when long), never an
     * encoded-word that swallows "filename=" (which lost the name).
     */
    @Test
    void downgradeKeepsANonAsciiAttachmentName() throws Exception {
        String longName = "二〇二五年第三季度华东区销售业绩分析报告（最终修订版，请勿外传）附件.pdf";
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n中文\r\n--b\r\n"
                + "Content-Type: application/pdf; name=\"报告.pdf\"\r\n"
                + "Content-Disposition: attachment; filename=\"报告.pdf\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b\r\n"
                + "Content-Type: application/pdf\r\n"
                + "Content-Disposition: attachment; filename=\"" + longName + "\"; size=6\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        String text = new String(seven, StandardCharsets.ISO_8859_1);
        assertSevenBit(seven);
        for (String line : text.split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }
        assertTrue(text.contains("filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"), text);
        assertTrue(text.contains("filename*0*=UTF-8''%E4%BA%8C"), text);
        MessageSummary.Part pdf = part(seven, List.of(2));
        assertEquals("报告.pdf", pdf.params().get("name"), text);
        assertEquals("报告.pdf", pdf.disposition().params().get("filename"), text);
        MessageSummary.Part second = part(seven, List.of(3));
        assertEquals(longName, second.disposition().params().get("filename"), text);
        assertEquals("6", second.disposition().params().get("size"), text);
        java.util.Map<String, String> plainOnly = HeaderValue.parse(
                MessageText.unfold(text.substring(text.indexOf("--b\r\nContent-Type: application/pdf;")), "Content-Disposition")
                        .replaceAll("filename\\*=[^;]*", ""), 10).params();
        assertEquals("报告.pdf", plainOnly.get("filename"), "the encoded-word copy for readers without RFC 2231");
    }

    /**
     * A body labelled quoted-printable or base64 that also carries raw 8-bit octets (broken
     * senders) keeps its label: a second encoding made readers, who decode once, see "Caf=C3=A9"
     * or an attachment still in base64.
     */
    @Test
    void downgradeDoesNotEncodeAQuotedPrintableBodyTwice() throws Exception {
        String longLine = "中文".repeat(40);
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "Caf=C3=A9 and raw 中文 line\r\n" + longLine + "=\r\n end\r\n--b\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + "AAEC中/v8=\r\n--b--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        assertSevenBit(seven);
        for (String line : new String(seven, StandardCharsets.US_ASCII).split("\r\n")) {
            assertTrue(line.length() <= 76, line);
        }
        assertEquals("quoted-printable", part(seven, List.of(1)).encoding());
        assertEquals("Café and raw 中文 line\r\n" + longLine + " end", // the CRLF before a boundary belongs to it (RFC 2046 §5.1.1)
                new String(decodedBody(seven, List.of(1)), StandardCharsets.UTF_8));
        assertEquals("base64", part(seven, List.of(2)).encoding());
        assertArrayEquals(new byte[]{0, 1, 2, (byte) 0xfe, (byte) 0xff}, decodedBody(seven, List.of(2)));
    }

    @Test
    void aSevenBitMessagePassesByteForByte() throws Exception {
        for (String name : List.of("02-alternative-qp.eml", "04-message-rfc822.eml", "09-missing-final-boundary.eml")) {
            byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("src/test/resources/corpus", name));
            if (name.startsWith("02")) {
                raw = new String(raw, StandardCharsets.UTF_8).replace("\"Zoë\"", "Zoe").getBytes(StandardCharsets.US_ASCII);
            }
            assertArrayEquals(raw, downgrade(raw), name);
        }
    }

    @Test
    void everyGoldenMessageDowngradesToSevenBitWithTheSameText() throws Exception {
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("src/test/resources/corpus"))) {
            List<java.nio.file.Path> golden = files.filter(f -> f.toString().endsWith(".eml")).toList();
            assertTrue(golden.size() >= 35, "golden messages found: " + golden.size()); // 35 when this was written
            for (var file : golden) {
                byte[] raw = java.nio.file.Files.readAllBytes(file);
                MessageSummary before = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults()).summary();
                byte[] seven = downgrade(raw);
                MessageSummary after = MessageSummary.parse(new ByteArrayInputStream(seven), MimeLimits.defaults()).summary();
                assertSevenBit(seven);
                assertEquals(count(before.root()), count(after.root()), file + ": same structure");
                assertEquals(TextExtractor.bodyText(before, CodecTest.source(raw)).replace("\r\n", "\n").strip(),
                        TextExtractor.bodyText(after, CodecTest.source(seven)).replace("\r\n", "\n").strip(), file.toString());
            }
        }
    }

    private static int count(MessageSummary.Part p) {
        int n = 1;
        for (MessageSummary.Part c : p.children()) {
            n += count(c);
        }
        return n + (p.embedded() == null ? 0 : count(p.embedded().root()));
    }

    @Test
    void quotedPrintableEscapesWhatRfc2045Requires() {
        assertEquals("a=3Db=20\r\n\tx=C3=A9", new String(SevenBitDowngrade.quotedPrintable("a=b \r\n\tx\u00e9".getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.US_ASCII));
        assertEquals("lone=0Dcr", new String(SevenBitDowngrade.quotedPrintable("lone\rcr".getBytes(StandardCharsets.US_ASCII)),
                StandardCharsets.US_ASCII));
        byte[] long8 = "é".repeat(100).getBytes(StandardCharsets.UTF_8);
        byte[] qp = SevenBitDowngrade.quotedPrintable(long8);
        for (String line : new String(qp, StandardCharsets.US_ASCII).split("\r\n")) {
            assertTrue(line.length() <= 76, line);
        }
        assertArrayEquals(long8, TransferEncoding.quotedPrintable(qp, 0, qp.length, false));
        assertEquals(SevenBitDowngrade.base64Length(57), 76 + 2);
        assertEquals(SevenBitDowngrade.base64Length(58), 76 + 2 + 4 + 2);
    }

    @Test
    void aLargeEightBitPartIsDowngradedWithFlatMemory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("big.eml");
        byte[] line = "这是一行很长的中文正文，用来测试大邮件的降级。The quick brown fox.\r\n".getBytes(StandardCharsets.UTF_8);
        long size;
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            out.write("Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 30 * 1024 * 1024 / line.length; i++) {
                out.write(line);
            }
        }
        size = Files.size(file);
        ContentSource source = offset -> {
            var in = Files.newInputStream(file);
            in.skipNBytes(offset);
            return in;
        };
        MessageSummary summary;
        try (var in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            summary = MessageSummary.parse(in, MimeLimits.defaults()).summary();
        }
        long[] written = {0};
        boolean[] eightBit = {false};
        java.io.OutputStream sink = new java.io.OutputStream() {
            @Override
            public void write(int b) {
                written[0]++;
                eightBit[0] |= b >= 0x80 || b < 0;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                written[0] += len;
                for (int i = off; i < off + len; i++) {
                    eightBit[0] |= b[i] < 0;
                }
            }
        };
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long[] peak = {before};
        java.io.OutputStream watched = new java.io.FilterOutputStream(sink) {
            long calls;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (++calls % 512 == 0) {
                    peak[0] = Math.max(peak[0], rt.totalMemory() - rt.freeMemory());
                }
                out.write(b, off, len);
            }
        };
        SevenBitDowngrade.write(source, summary, size, watched);
        assertTrue(!eightBit[0] && written[0] > size, "7-bit, and base64 makes it larger");
        assertTrue(peak[0] - before < 64L * 1024 * 1024, "heap grew " + (peak[0] - before) + " for a " + size + "-octet part");
    }
}
