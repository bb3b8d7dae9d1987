package dev.mailstack.mta.delivery;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The DNS wire format (RFC 1035 §4), as much of it as DANE needs: a query with EDNS0 and the DO
 * bit (RFC 6891, RFC 3225), and the header flags and answer records of the response. The JDK's
 * DNS provider hides the AD bit, so DANE asks with this instead.
 */
final class DnsMessage {
    static final int A = 1;
    static final int CNAME = 5;
    static final int MX = 15;
    static final int AAAA = 28;
    /** RFC 6698 §7.1. */
    static final int TLSA = 52;
    static final int OPT = 41;

    static final int NOERROR = 0;
    static final int SERVFAIL = 2;
    static final int NXDOMAIN = 3;

    static final int IN = 1;

    /** RFC 6891 §6.2.5: a payload size that avoids IP fragmentation (the DNS flag day 2020 figure). */
    static final int UDP_PAYLOAD = 1232;
    /** CNAME links followed in one answer (RFC 1034 §3.6.2 allows chains but discourages them); more is a loop or abuse. */
    static final int MAX_CNAMES = 8;

    private DnsMessage() {
    }

    /**
     * One resource record of the answer section: its owner, type and RDATA, kept as a place in the
     * whole message because names inside RDATA (an MX exchange) may point elsewhere in it.
     */
    record Answer(String owner, int type, byte[] message, int dataOffset, int dataLength) {
        byte[] data() {
            return Arrays.copyOfRange(message, dataOffset, dataOffset + dataLength);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Answer a && owner.equals(a.owner) && type == a.type && Arrays.equals(data(), a.data());
        }

        @Override
        public int hashCode() {
            return owner.hashCode() * 31 + type * 17 + Arrays.hashCode(data());
        }
    }

    /** One entry of the question section (RFC 1035 §4.1.2); the name in lower case, no trailing dot. */
    record Question(String name, int type, int dnsClass) {
    }

    /**
     * A response: its RCODE, whether the resolver says it validated every record in it (AD, RFC 4035
     * §3.2.3; RFC 6840 §5.8), whether it was cut short (TC, RFC 1035 §4.1.1), its question section
     * and its answers.
     */
    record Response(int id, int rcode, boolean authenticated, boolean truncated, List<Question> questions,
                    List<Answer> answers) {
        Response {
            questions = List.copyOf(questions);
            answers = List.copyOf(answers);
        }

        /**
         * Whether this answers the query {@code id} for {@code type} records of {@code name} in
         * class IN: RFC 5452 §4.2 and §9.1 ask for the id and the question (name compared
         * case-insensitively, RFC 4343), not the id alone, before a response is believed.
         */
        boolean isAnswerTo(int id, String name, int type) {
            return this.id == id && questions.size() == 1
                    && questions.getFirst().equals(new Question(canonical(name), type, IN));
        }

        /**
         * The {@code type} records of {@code name}: only those whose owner is that name, or the end
         * of the CNAME chain that starts at it in this answer (RFC 1034 §3.6.2: a resolver adds the
         * chain and the target's records), so a record some other owner slipped in counts for
         * nothing. A chain longer than {@link #MAX_CNAMES} or with a loop is malformed.
         */
        List<Answer> records(String name, int type) throws MalformedDnsException {
            String target = type == CNAME ? canonical(name) : expanded(name);
            return answers.stream().filter(a -> a.type() == type && a.owner().equals(target)).toList();
        }

        /**
         * {@code name} with the CNAME chain that starts at it in this answer followed to its end
         * (RFC 7672 §2.2.2's "fully CNAME-expanded" name); the name itself when it is no alias.
         */
        String expanded(String name) throws MalformedDnsException {
            String owner = canonical(name);
            for (int links = 0; ; links++) {
                String at = owner;
                List<Answer> alias = answers.stream().filter(a -> a.type() == CNAME && a.owner().equals(at)).toList();
                if (alias.isEmpty()) {
                    break;
                }
                if (alias.size() > 1 || links == MAX_CNAMES) {
                    throw new MalformedDnsException(alias.size() > 1 ? "two CNAME records for " + at
                            : "a CNAME chain longer than " + MAX_CNAMES + " from " + name);
                }
                owner = cname(alias.getFirst());
            }
            return owner;
        }
    }

    /** An MX record's preference and exchange (RFC 1035 §3.3.9). */
    record Mx(int preference, String exchange) {
    }

    /**
     * A recursive query (RD) for {@code name} and {@code type}, with an EDNS0 OPT record setting DO
     * (RFC 3225 §3: we want DNSSEC answers) and AD (RFC 6840 §5.7: we want to hear whether they
     * validated).
     */
    static byte[] query(int id, String name, int type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(id >> 8);
        out.write(id);
        out.write(0x01); // RD
        out.write(0x20); // AD
        out.writeBytes(new byte[]{0, 1, 0, 0, 0, 0, 0, 1}); // one question, one additional (OPT)
        out.writeBytes(name(name));
        short2(out, type);
        short2(out, 1); // IN
        out.write(0); // OPT: the root name
        short2(out, OPT);
        short2(out, UDP_PAYLOAD); // the class field carries the payload size (RFC 6891 §6.1.2)
        out.writeBytes(new byte[]{0, 0, (byte) 0x80, 0}); // extended RCODE 0, version 0, DO
        short2(out, 0);
        return out.toByteArray();
    }

    private static void short2(ByteArrayOutputStream out, int value) {
        out.write(value >> 8);
        out.write(value);
    }

    /** A name as labels (RFC 1035 §3.1); a trailing dot or none is the same name. */
    static byte[] name(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String label : name.split("\\.")) {
            if (label.isEmpty()) {
                continue;
            }
            byte[] b = label.getBytes(StandardCharsets.US_ASCII);
            if (b.length > 63) {
                throw new IllegalArgumentException("label longer than 63 octets in " + name);
            }
            out.write(b.length);
            out.writeBytes(b);
        }
        out.write(0);
        if (out.size() > 255) {
            throw new IllegalArgumentException("name longer than 255 octets: " + name);
        }
        return out.toByteArray();
    }

    /** Parses a response; a malformed one throws. */
    static Response parse(byte[] m) throws MalformedDnsException {
        return parse(m, false);
    }

    /**
     * Parses a response that is {@code cut} short when the datagram was larger than the buffer it
     * was read into: it counts as truncated, TC or not, so the caller asks again over TCP instead of
     * taking what fitted (RFC 6891 §6.2.3: the payload size we advertise is the most we take; a
     * responder that sends more must not cost us records).
     */
    static Response parse(byte[] m, boolean cut) throws MalformedDnsException {
        if (m.length < 12) {
            throw new MalformedDnsException("shorter than a header: " + m.length + " octets");
        }
        int id = u16(m, 0);
        int flags = u16(m, 2);
        if ((flags & 0x8000) == 0) {
            throw new MalformedDnsException("not a response");
        }
        int questions = u16(m, 4);
        int answers = u16(m, 6);
        int pos = 12;
        List<Question> asked = new ArrayList<>();
        List<Answer> out = new ArrayList<>();
        boolean truncated = cut || (flags & 0x0200) != 0;
        try {
            for (int i = 0; i < questions; i++) {
                StringBuilder name = new StringBuilder();
                pos = readName(m, pos, name);
                need(m, pos + 4);
                asked.add(new Question(name.toString(), u16(m, pos), u16(m, pos + 2)));
                pos += 4;
            }
            for (int i = 0; i < answers; i++) {
                StringBuilder owner = new StringBuilder();
                pos = readName(m, pos, owner);
                need(m, pos + 10);
                int type = u16(m, pos);
                int length = u16(m, pos + 8);
                need(m, pos + 10 + length);
                out.add(new Answer(owner.toString(), type, m, pos + 10, length));
                pos += 10 + length;
            }
        } catch (MalformedDnsException e) {
            if (!truncated) {
                throw e;
            }
            // a truncated answer may end anywhere, even inside a record; the caller asks again over TCP
        }
        return new Response(id, flags & 0x000f, (flags & 0x0020) != 0, truncated, asked, out);
    }

    /** A name as {@link #readName} gives it: lower case, no trailing dot (RFC 4343: case does not count). */
    static String canonical(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    static Mx mx(Answer a) throws MalformedDnsException {
        if (a.dataLength() < 3) {
            throw new MalformedDnsException("MX record of " + a.dataLength() + " octets");
        }
        StringBuilder exchange = new StringBuilder();
        int end = readName(a.message(), a.dataOffset() + 2, exchange);
        if (end > a.dataOffset() + a.dataLength()) {
            throw new MalformedDnsException("MX exchange runs past its record");
        }
        return new Mx(u16(a.message(), a.dataOffset()), exchange.toString());
    }

    /** The target of a CNAME record (RFC 1035 §3.3.1). */
    static String cname(Answer a) throws MalformedDnsException {
        StringBuilder target = new StringBuilder();
        int end = readName(a.message(), a.dataOffset(), target);
        if (end > a.dataOffset() + a.dataLength()) {
            throw new MalformedDnsException("CNAME target runs past its record");
        }
        return target.toString();
    }

    private static int u16(byte[] m, int at) {
        return ((m[at] & 0xff) << 8) | (m[at + 1] & 0xff);
    }

    private static void need(byte[] m, int end) throws MalformedDnsException {
        if (end > m.length) {
            throw new MalformedDnsException("record runs past the end of the message");
        }
    }

    /**
     * Reads the name at {@code pos} into {@code name} (lower case, no trailing dot), following
     * compression pointers (RFC 1035 §4.1.4); returns where the name ends in the record itself.
     * Pointers may only point backwards, so a loop of them cannot hold us.
     */
    private static int readName(byte[] m, int pos, StringBuilder name) throws MalformedDnsException {
        int end = -1;
        int at = pos;
        while (true) {
            need(m, at + 1);
            int len = m[at] & 0xff;
            if ((len & 0xc0) == 0xc0) {
                need(m, at + 2);
                int target = ((len & 0x3f) << 8) | (m[at + 1] & 0xff);
                if (end < 0) {
                    end = at + 2;
                }
                if (target >= at) {
                    throw new MalformedDnsException("compression pointer that does not point backwards");
                }
                at = target;
                continue;
            }
            if ((len & 0xc0) != 0) {
                throw new MalformedDnsException("unknown label type " + Integer.toHexString(len));
            }
            if (len == 0) {
                return end < 0 ? at + 1 : end;
            }
            need(m, at + 1 + len);
            if (!name.isEmpty()) {
                name.append('.');
            }
            name.append(new String(m, at + 1, len, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT));
            if (name.length() > 255) {
                throw new MalformedDnsException("name longer than 255 octets");
            }
            at += 1 + len;
        }
    }

    /** A response that does not follow RFC 1035's format. */
    static final class MalformedDnsException extends java.io.IOException {
        MalformedDnsException(String message) {
            super("malformed DNS response: " + message);
        }
    }
}
