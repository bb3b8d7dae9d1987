package dev.mailstack.mta.milter;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A milter written from its side, scripted per test, on loopback: it answers option negotiation
 * with the actions and protocol flags it is given, records every packet, and answers each command
 * that wants an answer with what the script says (null: continue).
 */
final class TestMilter implements AutoCloseable {
    /** A packet the MTA sent. */
    record Received(char code, byte[] data) {
        /** The NUL-terminated strings in it (from {@code skip} octets on). */
        List<String> strings(int skip) {
            List<String> out = new ArrayList<>();
            int start = skip;
            for (int i = skip; i < data.length; i++) {
                if (data[i] == 0) {
                    out.add(new String(data, start, i - start, StandardCharsets.ISO_8859_1));
                    start = i + 1;
                }
            }
            return out;
        }

        String text() {
            return new String(data, StandardCharsets.ISO_8859_1);
        }
    }

    private final ServerSocket server;
    private final int actions;
    private final int protocol;
    private final Function<Received, List<byte[]>> script;
    final List<Received> received = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<Received> arrivals = new LinkedBlockingQueue<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    /** When set, the time between the packets of the answer to command {@link #trickled}. */
    volatile Duration gap;
    volatile char trickled;

    TestMilter(int actions, int protocol, Function<Received, List<byte[]>> script) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.actions = actions;
        this.protocol = protocol;
        this.script = script;
        acceptor = Thread.ofVirtual().start(this::acceptLoop);
    }

    /** Answers everything with continue and asks for every action we offer. */
    static TestMilter continuing() throws IOException {
        return new TestMilter(0x31, 0, r -> null);
    }

    String address() {
        return "inet:127.0.0.1:" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                int length = in.readInt();
                char code = (char) in.readUnsignedByte();
                byte[] data = in.readNBytes(length - 1);
                Received r = new Received(code, data);
                received.add(r);
                arrivals.add(r);
                List<byte[]> answer = script.apply(r);
                if (answer == null) {
                    answer = defaultAnswer(r);
                }
                for (byte[] a : answer) {
                    out.write(a);
                    Duration pause = gap;
                    if (pause != null && code == trickled) { // a milter that trickles its answer, each packet inside the timeout
                        out.flush();
                        if (closed.await(pause.toMillis(), TimeUnit.MILLISECONDS)) {
                            return;
                        }
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            // the MTA closed the connection, or the test ended
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<byte[]> defaultAnswer(Received r) {
        int noReply = switch (r.code()) {
            case 'C' -> 0x1000;
            case 'H' -> 0x2000;
            case 'M' -> 0x4000;
            case 'R' -> 0x8000;
            case 'T' -> 0x10000;
            case 'L' -> 0x80;
            case 'N' -> 0x40000;
            case 'B' -> 0x80000;
            default -> 0;
        };
        return switch (r.code()) {
            case 'O' -> List.of(packet('O', ByteBuffer.allocate(12).putInt(6).putInt(actions).putInt(protocol).array()));
            case 'D', 'A', 'Q' -> List.of();
            default -> (protocol & noReply) != 0 ? List.of() : List.of(cont());
        };
    }

    /** Waits for the next packet with this code (others are passed over); fails after 10 s. */
    Received await(char code) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Received r = arrivals.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw new AssertionError("no '" + code + "' packet; received " + codes());
            }
            if (r.code() == code) {
                return r;
            }
        }
    }

    /** The codes of every packet so far, e.g. "ODCDHDM". */
    String codes() {
        StringBuilder sb = new StringBuilder();
        received.forEach(r -> sb.append(r.code()));
        return sb.toString();
    }

    /** The packet of this code the MTA sent before the command it names, with macros. */
    java.util.Map<String, String> macrosFor(char command) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        for (Received r : received) {
            if (r.code() == 'D' && r.data().length > 0 && r.data()[0] == command) {
                List<String> s = r.strings(1);
                for (int i = 0; i + 1 < s.size(); i += 2) {
                    out.put(s.get(i), s.get(i + 1));
                }
            }
        }
        return out;
    }

    static byte[] packet(char code, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).putInt(data.length + 1).put((byte) code).put(data).array();
    }

    static byte[] strings(char code, String... values) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String v : values) {
            out.writeBytes(v.getBytes(StandardCharsets.ISO_8859_1));
            out.write(0);
        }
        return packet(code, out.toByteArray());
    }

    static byte[] cont() {
        return packet('c', new byte[0]);
    }

    static byte[] accept() {
        return packet('a', new byte[0]);
    }

    static byte[] reject() {
        return packet('r', new byte[0]);
    }

    static byte[] tempfail() {
        return packet('t', new byte[0]);
    }

    static byte[] discard() {
        return packet('d', new byte[0]);
    }

    static byte[] progress() {
        return packet('p', new byte[0]);
    }

    static byte[] replyCode(String text) {
        return strings('y', text);
    }

    static byte[] quarantine(String reason) {
        return strings('q', reason);
    }

    static byte[] addHeader(String name, String value) {
        return strings('h', name, value);
    }

    static byte[] indexed(char code, int index, String name, String value) {
        byte[] s = strings(code, name, value);
        byte[] data = ByteBuffer.allocate(4 + s.length - 5).putInt(index).put(s, 5, s.length - 5).array();
        return packet(code, data);
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        acceptor.interrupt();
    }
}
