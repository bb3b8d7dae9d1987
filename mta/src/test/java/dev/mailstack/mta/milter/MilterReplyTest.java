package dev.mailstack.mta.milter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MilterReplyTest {
    private static MilterReply parse(byte[] wire) throws MilterProtocolException {
        return MilterReply.parse(new MilterPacket(wire[4], Arrays.copyOfRange(wire, 5, wire.length)));
    }

    @Test
    void aMultiLineReplyCodeKeepsEachLine() throws Exception {
        MilterReply.Refuse r = MilterReply.replyCode("550-5.7.1 first line\r\n550 5.7.1 second line");
        assertEquals(new MilterReply.Refuse(550, "5.7.1", "first line\nsecond line"), r);
        assertEquals(new MilterReply.Refuse(451, null, "later"), MilterReply.replyCode("451 later"));
    }

    @Test
    void malformedReplyCodesAreProtocolErrors() {
        for (String bad : List.of("250 2.0.0 ok", "550 4.7.1 wrong class", "550-first\r\n451 second", "550 a\r\n550 b",
                "55 short", "550 bell\u0007", "550-never ends")) {
            assertThrows(MilterProtocolException.class, () -> MilterReply.replyCode(bad), bad);
        }
    }

    @Test
    void repliesAreParsedAndUnknownOnesRefused() throws Exception {
        assertInstanceOf(MilterReply.Continue.class, parse(TestMilter.cont()));
        assertEquals(new MilterReply.AddHeader("X-Spam", "yes"), parse(TestMilter.addHeader("X-Spam", "yes")));
        assertEquals(new MilterReply.ChangeHeader(2, "Subject", ""), parse(TestMilter.indexed('m', 2, "Subject", "")));
        assertEquals(new MilterReply.InsertHeader(0, "X-A", "b"), parse(TestMilter.indexed('i', 0, "X-A", "b")));
        assertThrows(MilterProtocolException.class, () -> parse(TestMilter.packet('Z', new byte[0])));
        assertThrows(MilterProtocolException.class, () -> parse(TestMilter.addHeader("Bad:Name", "v")));
        assertThrows(MilterProtocolException.class, () -> parse(TestMilter.packet('h', "no-nul".getBytes(StandardCharsets.US_ASCII))));
        assertThrows(MilterProtocolException.class, () -> parse(TestMilter.packet('m', new byte[]{0, 0})));
    }

    @Test
    void addressesFollowPostfixSyntax() {
        assertEquals(List.of(new MilterAddress.Inet("127.0.0.1", 11332), new MilterAddress.Unix(Path.of("/run/clamav/milter.ctl")),
                new MilterAddress.Inet("::1", 8891)), MilterAddress.parseList("inet:127.0.0.1:11332, unix:/run/clamav/milter.ctl inet:[::1]:8891"));
        assertEquals("inet:[::1]:8891", MilterAddress.parse("inet:[::1]:8891").toString());
        assertEquals(List.of(), MilterAddress.parseList(" "));
        for (String bad : List.of("127.0.0.1:11332", "inet:host", "inet:host:0", "inet::25", "unix:", "local:/x")) {
            assertThrows(IllegalArgumentException.class, () -> MilterAddress.parse(bad), bad);
        }
    }

    @Test
    void headerChangesApplyOnTopByIndexAndDelete() throws Exception {
        String message = "Return-Path: <a@b>\r\nReceived: by us\r\nSubject: one\r\nX-Old: 1\r\nSubject: two\r\n\r\nbody\r\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        EditedHeader.write(new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)), List.of(
                new MilterReply.AddHeader("X-Spam", " yes"),
                new MilterReply.AddHeader("X-Score", " 9.1\n\tmore"),
                new MilterReply.ChangeHeader(2, "subject", " [SPAM] two"),
                new MilterReply.ChangeHeader(1, "X-Old", ""),
                new MilterReply.InsertHeader(3, "X-Here", " 3")), Optional.empty(), out, 1 << 20);
        // index 3 counts in the header the milter saw (without the fields added on top): after its third field
        assertEquals("Return-Path: <a@b>\r\nX-Spam: yes\r\nX-Score: 9.1\r\n\tmore\r\nReceived: by us\r\n"
                + "Subject: one\r\nsubject: [SPAM] two\r\nX-Here: 3\r\n\r\nbody\r\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aChangedSenderReplacesTheReturnPath() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        EditedHeader.write(new ByteArrayInputStream("Return-Path: <a@b>\r\nSubject: x\r\n\r\nbody\r\n"
                .getBytes(StandardCharsets.US_ASCII)), List.of(), Optional.of("bounces@example.org"), out, 1 << 20);
        assertEquals("Return-Path: <bounces@example.org>\r\nSubject: x\r\n\r\nbody\r\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void envelopeChangesAreParsedWithTheirArguments() throws Exception {
        assertEquals(new MilterReply.AddRecipient("bob@example.org", Optional.empty(), Optional.empty(), false),
                parse(TestMilter.strings('+', "<bob@example.org>")));
        assertEquals(new MilterReply.AddRecipient("bob@example.org", Optional.empty(), Optional.empty(), false),
                parse(TestMilter.strings('+', "bob@example.org")));
        assertEquals(new MilterReply.AddRecipient("bob@example.org", Optional.of("SUCCESS,FAILURE"),
                        Optional.of("rfc822;bob@example.org"), true),
                parse(TestMilter.strings('2', "<bob@example.org>", "notify=success,failure ORCPT=rfc822;bob@example.org")));
        assertEquals(new MilterReply.AddRecipient("bob@example.org", Optional.empty(), Optional.empty(), true),
                parse(TestMilter.strings('2', "<bob@example.org>")));
        assertEquals(new MilterReply.DeleteRecipient("Alice@Example.org"), parse(TestMilter.strings('-', "<Alice@Example.org>")));
        assertEquals(new MilterReply.ChangeSender("", Optional.empty(), Optional.empty()), parse(TestMilter.strings('e', "<>")));
        assertEquals(new MilterReply.ChangeSender("srs@example.org", Optional.of("HDRS"), Optional.of("id+2B1")),
                parse(TestMilter.strings('e', "<srs@example.org>", "RET=hdrs ENVID=id+2B1 SIZE=100 BODY=8BITMIME")));
        for (byte[] bad : List.of(TestMilter.strings('+', "<>"), TestMilter.strings('-', ""),
                TestMilter.strings('+', "<a@b"), TestMilter.strings('+', "<@relay:a@b>"),
                TestMilter.strings('2', "<a@b>", "XFORWARD=1"), TestMilter.strings('2', "<a@b>", "NOTIFY=SOMETIMES"),
                TestMilter.strings('2', "<a@b>", "NOTIFY=NEVER NOTIFY=NEVER"), TestMilter.strings('e', "<a@b>", "NOTIFY=NEVER"),
                TestMilter.strings('e', "<a@b>", "RET=ALL"), TestMilter.strings('+', "<a@b>", "extra"))) {
            assertThrows(MilterProtocolException.class, () -> parse(bad), new String(bad, StandardCharsets.ISO_8859_1));
        }
    }
}
