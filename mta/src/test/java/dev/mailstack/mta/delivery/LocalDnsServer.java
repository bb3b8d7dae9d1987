package dev.mailstack.mta.delivery;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS responder on loopback UDP and TCP (RFC 1035 §4) that answers MX, TXT, A, AAAA, PTR and TLSA queries
 * from a table, so routing is tested through the JDK's real resolver without touching real DNS.
 * A signed table plays a validating resolver's answers for a DNSSEC-signed zone: every answer
 * carries the AD bit (RFC 4035 §3.2.3), except for names marked {@link Unsigned}.
 */
public final class LocalDnsServer implements AutoCloseable {
    /** A resource record of a name in the table, of the type it answers. */
    public sealed interface Record {
        int type();

        /** RDATA (RFC 1035 §3.3). */
        byte[] data();
    }

    /** One MX record: preference and exchange ("." for RFC 7505's null MX). */
    public record Mx(int preference, String exchange) implements Record {
        public int type() {
            return 15;
        }

        public byte[] data() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(preference >> 8);
            out.write(preference);
            out.writeBytes(labels(exchange));
            return out.toByteArray();
        }
    }

    /** One TXT record of one or more character-strings (RFC 1035 §3.3.14), each under 256 bytes. */
    public record Txt(List<String> strings) implements Record {
        public Txt(String... strings) {
            this(List.of(strings));
        }

        public int type() {
            return 16;
        }

        public byte[] data() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String s : strings) {
                byte[] b = s.getBytes(StandardCharsets.US_ASCII);
                out.write(b.length);
                out.writeBytes(b);
            }
            return out.toByteArray();
        }
    }

    /** One A record. */
    public record A(String address) implements Record {
        public int type() {
            return 1;
        }

        public byte[] data() {
            try {
                return InetAddress.getByName(address).getAddress(); // a literal: no lookup
            } catch (IOException e) {
                throw new IllegalArgumentException(address, e);
            }
        }
    }

    /** One AAAA record (RFC 3596 §2.2). */
    public record Aaaa(String address) implements Record {
        public int type() {
            return 28;
        }

        public byte[] data() {
            try {
                byte[] b = InetAddress.getByName(address).getAddress(); // a literal: no lookup
                if (b.length == 16) {
                    return b;
                }
                byte[] mapped = new byte[16]; // the JDK gives ::ffff:a.b.c.d as an IPv4 address
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(b, 0, mapped, 12, 4);
                return mapped;
            } catch (IOException e) {
                throw new IllegalArgumentException(address, e);
            }
        }
    }

    /** One PTR record (RFC 1035 §3.3.12), as listed under a reverse name such as "4.3.2.1.in-addr.arpa". */
    public record Ptr(String host) implements Record {
        public int type() {
            return 12;
        }

        public byte[] data() {
            return labels(host);
        }
    }

    /** One TLSA record (RFC 6698 §2.1). */
    record Tlsa(int usage, int selector, int matchingType, byte[] association) implements Record {
        public int type() {
            return 52;
        }

        public byte[] data() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(usage);
            out.write(selector);
            out.write(matchingType);
            out.writeBytes(association);
            return out.toByteArray();
        }
    }

    /** A CNAME record (RFC 1035 §3.3.1): queries for other types get it and then the target's records, as from a recursive resolver. */
    record Cname(String target) implements Record {
        public int type() {
            return 5;
        }

        public byte[] data() {
            return labels(target);
        }
    }

    /** Any RDATA of any type, as given: a malformed record. */
    record Rdata(int type, byte[] bytes) implements Record {
        public byte[] data() {
            return bytes.clone();
        }
    }

    /** A record sent in the answer section under another owner name than the question's, as a forger would slip it in. */
    record Owned(String owner, Record record) implements Record {
        public int type() {
            return -1; // answers no query under the name it is listed at: it is added by hand
        }

        public byte[] data() {
            return record.data();
        }
    }

    /** Not a record: answers for the name carry no AD bit, as for a name in an unsigned zone. */
    record Unsigned() implements Record {
        public int type() {
            return -1;
        }

        public byte[] data() {
            return new byte[0];
        }
    }

    /** Not a record: queries for the name get no answer at all, as when a lookup times out. */
    public record Silent() implements Record {
        public int type() {
            return -1;
        }

        public byte[] data() {
            return new byte[0];
        }
    }

    /** Not a record: queries for the name's records of type {@code silent} get no answer, others as usual. */
    public record SilentFor(int silent) implements Record {
        public int type() {
            return -1;
        }

        public byte[] data() {
            return new byte[0];
        }
    }

    /** Not a record: every query for the name fails with SERVFAIL (RFC 1035 §4.1.1 RCODE 2), as a blocked lookup does. */
    public record ServFail() implements Record {
        public int type() {
            return -1; // answers no query type
        }

        public byte[] data() {
            return new byte[0];
        }
    }

    private final DatagramSocket socket;
    private final ServerSocket tcp;
    private final Map<String, ? extends List<? extends Record>> zone;
    private final boolean signed;
    private final Thread thread;
    private final Thread tcpThread;
    /** A question a forged answer names: its name and type. */
    record Question(String name, int type) {
    }

    /** Over UDP, answer with TC and no records, so the client asks again over TCP (RFC 7766 §5). */
    volatile boolean truncateUdp;
    /** Over TCP as well: TC set and no records. */
    volatile boolean truncateTcp;
    /**
     * Over UDP, before each real answer, send one with the same id that answers this other
     * question, as an off-path forger who guessed the id would (RFC 5452 §4).
     */
    volatile Question forgedFirst;
    final AtomicInteger tcpQueries = new AtomicInteger();
    /** Every query's name and type, as "name/type", in order. */
    public final List<String> queries = new CopyOnWriteArrayList<>();

    public LocalDnsServer(Map<String, ? extends List<? extends Record>> zone) throws IOException {
        this(zone, false);
    }

    /** {@code signed}: the answers carry the AD bit, as a validating resolver's for a signed zone. */
    LocalDnsServer(Map<String, ? extends List<? extends Record>> zone, boolean signed) throws IOException {
        this.zone = zone;
        this.signed = signed;
        DatagramSocket udp = null;
        ServerSocket stream = null;
        for (int tries = 0; stream == null; tries++) { // the same port for both, as a resolver has
            udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try {
                stream = new ServerSocket(udp.getLocalPort(), 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                udp.close();
                if (tries > 20) {
                    throw e;
                }
            }
        }
        this.socket = udp;
        this.tcp = stream;
        this.thread = Thread.ofVirtual().start(this::serve);
        this.tcpThread = Thread.ofVirtual().start(this::serveTcp);
    }

    public String url() {
        return "dns://127.0.0.1:" + socket.getLocalPort();
    }

    private void serve() {
        byte[] buf = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                Question forged = forgedFirst;
                if (forged != null) {
                    byte[] query = DnsMessage.query(((buf[0] & 0xff) << 8) | (buf[1] & 0xff), forged.name(), forged.type());
                    byte[] lie = answer(query, query.length, false);
                    socket.send(new DatagramPacket(lie, lie.length, p.getSocketAddress()));
                }
                byte[] answer = answer(buf, p.getLength(), truncateUdp);
                if (answer == null) {
                    continue;
                }
                socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket s = tcp.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] q = in.readNBytes(in.readUnsignedShort());
                tcpQueries.incrementAndGet();
                byte[] answer = answer(q, q.length, truncateTcp);
                if (answer == null) {
                    continue;
                }
                OutputStream out = s.getOutputStream();
                out.write(new byte[]{(byte) (answer.length >> 8), (byte) answer.length});
                out.write(answer);
                out.flush();
            } catch (IOException e) {
                if (tcp.isClosed()) {
                    return;
                }
            }
        }
    }

    private byte[] answer(byte[] q, int length, boolean truncate) {
        int pos = 12;
        StringBuilder name = new StringBuilder();
        while (q[pos] != 0) {
            int len = q[pos++];
            name.append(name.isEmpty() ? "" : ".").append(new String(q, pos, len, StandardCharsets.US_ASCII));
            pos += len;
        }
        pos++;
        int type = ((q[pos] & 0xff) << 8) | (q[pos + 1] & 0xff);
        int questionEnd = pos + 4;
        List<? extends Record> records = zone.get(name.toString().toLowerCase(Locale.ROOT));
        queries.add(name.toString().toLowerCase(Locale.ROOT) + "/" + type);
        if (records != null && records.stream().anyMatch(r -> r instanceof Silent || r instanceof SilentFor f && f.silent() == type)) {
            return null;
        }
        String owner = name.toString().toLowerCase(Locale.ROOT);
        ByteArrayOutputStream rrs = new ByteArrayOutputStream();
        int count = 0;
        if (records != null && !truncate) {
            // a recursive resolver follows CNAMEs (RFC 1034 §4.3.2): the alias, then the target's records
            List<? extends Record> at = records;
            for (int links = 0; at != null && type != 5 && links < 10; links++) {
                Cname alias = at.stream().filter(Cname.class::isInstance).map(Cname.class::cast).findFirst().orElse(null);
                if (alias == null) {
                    break;
                }
                rr(rrs, owner, name.toString(), alias);
                count++;
                owner = alias.target().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
                at = zone.get(owner);
            }
            for (Record r : at == null ? List.<Record>of() : at) {
                if (r.type() == type) {
                    rr(rrs, owner, name.toString(), r);
                    count++;
                }
            }
            for (Record r : records) {
                if (r instanceof Owned o && o.record().type() == type) {
                    rr(rrs, o.owner(), name.toString(), o.record());
                    count++;
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.write(truncate ? 0x83 : 0x81); // response, recursion desired; TC
        boolean failing = records != null && records.stream().anyMatch(r -> r instanceof ServFail);
        boolean authenticated = signed && !failing && (records == null || records.stream().noneMatch(r -> r instanceof Unsigned));
        // recursion available; AD; NXDOMAIN for unknown names
        out.write((records == null ? 0x83 : failing ? 0x82 : 0x80) | (authenticated ? 0x20 : 0));
        out.writeBytes(new byte[]{0, 1, (byte) (count >> 8), (byte) count, 0, 0, 0, 0});
        out.write(q, 12, questionEnd - 12);
        out.writeBytes(rrs.toByteArray());
        return out.toByteArray();
    }

    /** One resource record; an owner that is the question's name points at it (RFC 1035 §4.1.4). */
    private static void rr(ByteArrayOutputStream out, String owner, String question, Record r) {
        if (owner.equalsIgnoreCase(question)) {
            out.writeBytes(new byte[]{(byte) 0xc0, 12});
        } else {
            out.writeBytes(labels(owner));
        }
        byte[] data = r.data();
        out.writeBytes(new byte[]{(byte) (r.type() >> 8), (byte) r.type(), 0, 1, 0, 0, 0, 60});
        out.write(data.length >> 8);
        out.write(data.length);
        out.writeBytes(data);
    }

    private static byte[] labels(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String label : name.split("\\.")) {
            if (!label.isEmpty()) {
                out.write(label.length());
                out.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.write(0);
        return out.toByteArray();
    }

    @Override
    public void close() throws InterruptedException, IOException {
        socket.close();
        tcp.close();
        thread.join();
        tcpThread.join();
    }
}
