package dev.mailstack.mta.delivery;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A DNS responder on loopback UDP (RFC 1035 §4) that answers MX, TXT and A queries from a table,
 * so routing is tested through the JDK's real resolver without touching real DNS.
 */
final class LocalDnsServer implements AutoCloseable {
    /** A resource record of a name in the table, of the type it answers. */
    sealed interface Record {
        int type();

        /** RDATA (RFC 1035 §3.3). */
        byte[] data();
    }

    /** One MX record: preference and exchange ("." for RFC 7505's null MX). */
    record Mx(int preference, String exchange) implements Record {
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
    record Txt(List<String> strings) implements Record {
        Txt(String... strings) {
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
    record A(String address) implements Record {
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

    /** Not a record: every query for the name fails with SERVFAIL (RFC 1035 §4.1.1 RCODE 2), as a blocked lookup does. */
    record ServFail() implements Record {
        public int type() {
            return -1; // answers no query type
        }

        public byte[] data() {
            return new byte[0];
        }
    }

    private final DatagramSocket socket;
    private final Map<String, ? extends List<? extends Record>> zone;
    private final Thread thread;

    LocalDnsServer(Map<String, ? extends List<? extends Record>> zone) throws IOException {
        this.zone = zone;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.thread = Thread.ofVirtual().start(this::serve);
    }

    String url() {
        return "dns://127.0.0.1:" + socket.getLocalPort();
    }

    private void serve() {
        byte[] buf = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                byte[] answer = answer(buf, p.getLength());
                socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private byte[] answer(byte[] q, int length) {
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
        List<? extends Record> answers = records == null ? List.of() : records.stream().filter(r -> r.type() == type).toList();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q[0]);
        out.write(q[1]);
        out.write(0x81); // response, recursion desired
        boolean failing = records != null && records.stream().anyMatch(r -> r instanceof ServFail);
        out.write(records == null ? 0x83 : failing ? 0x82 : 0x80); // recursion available; NXDOMAIN for unknown names
        out.writeBytes(new byte[]{0, 1, 0, (byte) answers.size(), 0, 0, 0, 0});
        out.write(q, 12, questionEnd - 12);
        for (Record r : answers) {
            byte[] data = r.data();
            out.writeBytes(new byte[]{(byte) 0xc0, 12, 0, (byte) r.type(), 0, 1, 0, 0, 0, 60});
            out.write(data.length >> 8);
            out.write(data.length);
            out.writeBytes(data);
        }
        return out.toByteArray();
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
    public void close() throws InterruptedException {
        socket.close();
        thread.join();
    }
}
