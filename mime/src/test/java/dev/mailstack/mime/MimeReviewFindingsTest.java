package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Findings of the wt-rmime review of module mime; each test fails until its finding is fixed.
 */
class MimeReviewFindingsTest {
    private static MessageSummary.ParsedMessage parse(byte[] m) throws IOException {
        return MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults());
    }

    private static byte[] downgrade(byte[] raw) throws IOException {
        MessageSummary s = parse(raw).summary();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SevenBitDowngrade.write(CodecTest.source(raw), s, raw.length, out);
        return out.toByteArray();
    }

    /**
     * Finding 2: the 7-bit downgrade encodes a whole "name=\"...\"" token of Content-Type and
     * Content-Disposition as one encoded-word, so the parameter name is lost: a raw UTF-8
     * attachment name disappears (and the header no longer parses as a parameter).
     */
    @Test
    void downgradeKeepsANonAsciiAttachmentName() throws Exception {
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n中文\r\n--b\r\n"
                + "Content-Type: application/pdf; name=\"报告.pdf\"\r\n"
                + "Content-Disposition: attachment; filename=\"报告.pdf\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        MessageSummary.Part pdf = parse(seven).summary().part(List.of(2));
        assertEquals("报告.pdf", pdf.params().get("name"), new String(seven, StandardCharsets.ISO_8859_1));
        assertEquals("报告.pdf", pdf.disposition().params().get("filename"), new String(seven, StandardCharsets.ISO_8859_1));
    }

    /**
     * Finding 3: a body labelled quoted-printable (or base64) that also carries raw 8-bit octets
     * (common from broken Chinese mailers) is encoded a second time, so a reader that decodes once
     * sees the first encoding as text ("Caf=C3=A9").
     */
    @Test
    void downgradeDoesNotEncodeAQuotedPrintableBodyTwice() throws Exception {
        byte[] raw = ("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 and raw 中文 line\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        MessageSummary.Part root = parse(seven).summary().root();
        byte[] body = Arrays.copyOfRange(seven, (int) root.bodyOffset(), (int) (root.bodyOffset() + root.bodySize()));
        assertEquals("Café and raw 中文 line\r\n",
                new String(TransferEncoding.decode(body, root.encoding()), StandardCharsets.UTF_8));
    }

    /**
     * Finding 4: HeaderRewriter leaves a non-ASCII token holding an address in an address field as
     * text, then writes the header with getBytes(ISO_8859_1): every CJK character becomes '?'.
     * A quoted display name containing '@' and an internationalised address are destroyed.
     */
    @Test
    void headerRewriteNeverTurnsAddressTextIntoQuestionMarks() throws Exception {
        byte[] raw = ("From: a@b.c\r\nTo: \"张三@公司\" <z@b.c>\r\nCc: <zhang@例子.中国>\r\nSubject: x\r\n\r\nbody 中\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        MessageSummary.Envelope e = parse(seven).summary().envelope();
        AddressList.Address to = AddressList.parse(e.to()).getFirst();
        assertEquals("张三@公司", Rfc2047.decode(to.name()), e.to());
        assertEquals("例子.中国", AddressList.parse(e.cc()).getFirst().host(), e.cc());
    }

    /**
     * Finding 5: a comment after an addr-spec is encoded with its parentheses as a bare
     * encoded-word, which then follows the address: the ENVELOPE host becomes
     * "example.com =?UTF-8?B?...?=". RFC 2047 §5(2) allows encoded-words inside the comment.
     */
    @Test
    void headerRewriteKeepsACommentAComment() throws Exception {
        byte[] raw = "From: zhang@example.com (张三)\r\nSubject: x\r\n\r\nbody 中\r\n".getBytes(StandardCharsets.UTF_8);
        byte[] seven = downgrade(raw);
        String from = parse(seven).summary().envelope().from();
        AddressList.Address a = AddressList.parse(from).getFirst();
        assertEquals("example.com", a.host(), from);
        assertEquals("张三", Rfc2047.decode(a.name()), from);
    }

    /**
     * Finding 6: the streaming decoder cuts quoted-printable after the last LF of a chunk, or
     * anywhere when a 64 KiB chunk has none: an escape cut in two comes out literally, unlike the
     * array decoder (IMAP BINARY of a long-lined HTML part).
     */
    @Test
    void streamingQuotedPrintableMatchesTheArrayDecoderOnLongLines() throws Exception {
        byte[] encoded = "=41".repeat(70_000).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TransferEncoding.decode(new ByteArrayInputStream(encoded), "quoted-printable", out);
        assertArrayEquals(TransferEncoding.decode(encoded, "quoted-printable"), out.toByteArray());
        assertTrue(out.size() == 70_000);
    }
}
