package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DNS wire format as DANE reads it: queries with EDNS0 and DO, responses byte by byte. */
class DnsMessageTest {
    /** A response as a resolver sends it: the header, then the question and records written by the test. */
    static final class Wire {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Wire(int id, int flags, int questions, int answers) {
            u16(id).u16(flags).u16(questions).u16(answers).u16(0).u16(0);
        }

        Wire u16(int v) {
            out.write(v >> 8);
            out.write(v);
            return this;
        }

        Wire bytes(int... b) {
            for (int x : b) {
                out.write(x);
            }
            return this;
        }

        Wire label(String l) {
            out.write(l.length());
            out.writeBytes(l.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return this;
        }

        /** Owner as a pointer to {@code at}, then type, class IN, TTL 60 and RDLENGTH. */
        Wire record(int at, int type, int length) {
            return u16(0xc000 | at).u16(type).u16(1).u16(0).u16(60).u16(length);
        }

        int size() {
            return out.size();
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    @Test
    void aQueryAsksRecursivelyWithEdns0AndTheDoBit() {
        byte[] q = DnsMessage.query(0xbeef, "_25._tcp.mx.example.net.", DnsMessage.TLSA);
        assertEquals("beef" + "0120" + "0001" + "0000" + "0000" + "0001", HexFormat.of().formatHex(q, 0, 12),
                "id, RD and AD, one question, one additional record");
        byte[] name = DnsMessage.name("_25._tcp.mx.example.net");
        assertArrayEquals(name, Arrays.copyOfRange(q, 12, 12 + name.length));
        int at = 12 + name.length;
        assertEquals("0034" + "0001", HexFormat.of().formatHex(q, at, at + 4), "TLSA, IN");
        // RFC 6891 §6.1.2: root owner, OPT, payload size, extended RCODE and version 0, DO (RFC 3225 §3), no data
        assertEquals("00" + "0029" + "04d0" + "00" + "00" + "8000" + "0000", HexFormat.of().formatHex(q, at + 4, q.length));
    }

    @Test
    void mxAnswersAreReadThroughNameCompressionAndTheAdBitIsSeen() throws Exception {
        Wire w = new Wire(7, 0x81a0, 1, 2); // response, RD, RA, AD
        int question = w.size();
        w.label("example").label("net").bytes(0).u16(15).u16(1);
        // exchange "mx" + a pointer to the question's example.net
        w.record(question, 15, 2 + 3 + 2).u16(10);
        int mxLabel = w.size();
        w.label("mx").u16(0xc000 | question);
        // exchange "backup" + a pointer to the first answer's mx.example.net
        w.record(question, 15, 2 + 7 + 2).u16(20).label("backup").u16(0xc000 | mxLabel);
        DnsMessage.Response r = DnsMessage.parse(w.bytes());
        assertEquals(7, r.id());
        assertEquals(DnsMessage.NOERROR, r.rcode());
        assertTrue(r.authenticated());
        assertFalse(r.truncated());
        assertEquals(2, r.records("example.net", DnsMessage.MX).size());
        assertEquals("example.net", r.answers().getFirst().owner());
        assertEquals(new DnsMessage.Mx(10, "mx.example.net"), DnsMessage.mx(r.answers().get(0)));
        assertEquals(new DnsMessage.Mx(20, "backup.mx.example.net"), DnsMessage.mx(r.answers().get(1)));
    }

    @Test
    void tlsaAnswersAreReadAsTheirFourFields() throws Exception {
        byte[] digest = new byte[32];
        Arrays.fill(digest, (byte) 0xab);
        Wire w = new Wire(1, 0x81a0, 1, 1);
        w.label("_25").label("_tcp").label("mx").label("example").label("net").bytes(0).u16(52).u16(1);
        w.record(12, 52, 3 + 32).bytes(3, 1, 1);
        w.out.writeBytes(digest);
        DnsMessage.Response r = DnsMessage.parse(w.bytes());
        assertEquals("_25._tcp.mx.example.net", r.answers().getFirst().owner());
        TlsaRecord tlsa = TlsaRecord.parse(r.records("_25._tcp.mx.example.net", DnsMessage.TLSA).getFirst().data());
        assertEquals(new TlsaRecord(3, 1, 1, digest), tlsa);
        assertTrue(tlsa.usable());
        assertEquals("3 1 1 " + "ab".repeat(32), tlsa.toString());
    }

    @Test
    void rcodeAndAMissingAdBitAreReported() throws Exception {
        DnsMessage.Response failed = DnsMessage.parse(new Wire(2, 0x8182, 0, 0).bytes()); // SERVFAIL
        assertEquals(DnsMessage.SERVFAIL, failed.rcode());
        assertFalse(failed.authenticated());
        assertEquals(List.of(), failed.answers());
    }

    @Test
    void aTruncatedResponseIsMarkedAndItsMissingRecordsAreNoError() throws Exception {
        Wire w = new Wire(3, 0x8380, 1, 2); // TC, and two answers announced that did not fit
        w.label("example").label("net").bytes(0).u16(15).u16(1);
        DnsMessage.Response r = DnsMessage.parse(w.bytes());
        assertTrue(r.truncated());
        assertEquals(List.of(), r.answers());
        // cut inside a record, as a resolver may cut it
        w.record(12, 15, 20).u16(10);
        DnsMessage.Response cut = DnsMessage.parse(w.bytes());
        assertTrue(cut.truncated());
        assertEquals(List.of(), cut.answers());
    }

    @Test
    void aResponseAnswersOnlyTheQueryWhoseIdNameTypeAndClassItRepeats() throws Exception {
        // RFC 5452 §9.1: the id alone is 16 bits a forger can guess
        Wire w = new Wire(9, 0x81a0, 1, 0);
        w.label("Example").label("NET").bytes(0).u16(15).u16(1);
        DnsMessage.Response r = DnsMessage.parse(w.bytes());
        assertEquals(List.of(new DnsMessage.Question("example.net", 15, 1)), r.questions());
        assertTrue(r.isAnswerTo(9, "example.net", DnsMessage.MX));
        assertTrue(r.isAnswerTo(9, "EXAMPLE.net.", DnsMessage.MX), "names compare without case (RFC 4343)");
        assertFalse(r.isAnswerTo(10, "example.net", DnsMessage.MX), "another id");
        assertFalse(r.isAnswerTo(9, "example.org", DnsMessage.MX), "another name");
        assertFalse(r.isAnswerTo(9, "example.net", DnsMessage.TLSA), "another type");
        Wire chaos = new Wire(9, 0x81a0, 1, 0);
        chaos.label("example").label("net").bytes(0).u16(15).u16(3);
        assertFalse(DnsMessage.parse(chaos.bytes()).isAnswerTo(9, "example.net", DnsMessage.MX), "class CH, not IN");
        assertFalse(DnsMessage.parse(new Wire(9, 0x8182, 0, 0).bytes()).isAnswerTo(9, "example.net", DnsMessage.MX),
                "no question at all");
    }

    @Test
    void onlyRecordsOwnedByTheNameAskedOrItsCnameTargetCount() throws Exception {
        Wire w = new Wire(1, 0x81a0, 1, 4);
        int question = w.size();
        w.label("alias").label("example").label("net").bytes(0).u16(15).u16(1);
        int exampleNet = question + 6;
        // alias.example.net is a CNAME of target.example.net
        w.record(question, DnsMessage.CNAME, 7 + 2);
        int target = w.size();
        w.label("target").u16(0xc000 | exampleNet);
        // the target's MX record: the one that counts
        w.record(target, 15, 2 + 3 + 2).u16(10).label("mx").u16(0xc000 | exampleNet);
        // an MX record at the alias itself, and one of another owner altogether, both slipped in
        w.record(question, 15, 2 + 3 + 2).u16(5).label("aa").u16(0xc000 | exampleNet);
        w.label("evil").label("test").bytes(0).u16(15).u16(1).u16(0).u16(60).u16(2 + 3 + 2).u16(5).label("bb")
                .u16(0xc000 | exampleNet);
        DnsMessage.Response r = DnsMessage.parse(w.bytes());
        assertEquals(4, r.answers().size());
        List<DnsMessage.Answer> mx = r.records("Alias.Example.net.", DnsMessage.MX);
        assertEquals(1, mx.size(), mx.toString());
        assertEquals(new DnsMessage.Mx(10, "mx.example.net"), DnsMessage.mx(mx.getFirst()));
        assertEquals(List.of(), r.records("example.net", DnsMessage.MX), "no record is owned by the parent");
        assertEquals(1, r.records("evil.test", DnsMessage.MX).size(), "asked for by name, a record is found");
        assertEquals("target.example.net", DnsMessage.cname(r.records("alias.example.net", DnsMessage.CNAME).getFirst()));

        // a loop of CNAMEs ends as a malformed answer, not a hang
        Wire loop = new Wire(2, 0x81a0, 1, 2);
        loop.label("a").label("test").bytes(0).u16(15).u16(1);
        loop.record(question, DnsMessage.CNAME, 2 + 2);
        int b = loop.size();
        loop.label("b").u16(0xc000 | (question + 2));
        loop.record(b, DnsMessage.CNAME, 2).u16(0xc000 | question);
        DnsMessage.Response looped = DnsMessage.parse(loop.bytes());
        assertThrows(DnsMessage.MalformedDnsException.class, () -> looped.records("a.test", DnsMessage.MX));
    }

    @Test
    void aResponseCutToFitTheBufferCountsAsTruncated() throws Exception {
        // RFC 6891 §6.2.3: a datagram larger than we advertised was cut by receive(); ask again over TCP
        Wire w = new Wire(3, 0x8180, 1, 2); // no TC
        w.label("example").label("net").bytes(0).u16(15).u16(1);
        w.record(12, 15, 20).u16(10);
        assertThrows(DnsMessage.MalformedDnsException.class, () -> DnsMessage.parse(w.bytes()));
        DnsMessage.Response cut = DnsMessage.parse(w.bytes(), true);
        assertTrue(cut.truncated());
        assertTrue(cut.isAnswerTo(3, "example.net", DnsMessage.MX));
    }

    @Test
    void malformedResponsesAreRefused() {
        // a pointer to itself: a loop a careless reader would follow for ever
        Wire loop = new Wire(4, 0x8180, 0, 1);
        loop.u16(0xc000 | loop.size()).u16(1).u16(1).u16(0).u16(60).u16(0);
        assertThrows(DnsMessage.MalformedDnsException.class, () -> DnsMessage.parse(loop.bytes()));
        // a record longer than the message
        Wire cut = new Wire(5, 0x8180, 0, 1);
        cut.bytes(0).u16(1).u16(1).u16(0).u16(60).u16(4).bytes(127);
        assertThrows(DnsMessage.MalformedDnsException.class, () -> DnsMessage.parse(cut.bytes()));
        assertThrows(DnsMessage.MalformedDnsException.class, () -> DnsMessage.parse(new byte[5]));
        assertThrows(DnsMessage.MalformedDnsException.class, () -> DnsMessage.parse(new Wire(6, 0x0100, 0, 0).bytes()),
                "a query, not a response");
    }
}
