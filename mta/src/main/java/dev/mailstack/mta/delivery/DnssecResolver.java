package dev.mailstack.mta.delivery;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;

/**
 * A stub resolver that asks one recursive resolver, over UDP and again over TCP when the answer
 * was truncated (RFC 7766 §5), and reports the AD bit it answers with. It validates nothing
 * itself: that is the resolver's job, which is why DANE believes the AD bit only from a resolver
 * on this machine (RFC 4035 §4.9.3, RFC 7672 §2.1: the path to it must be trusted; Postfix's
 * DANE documentation asks for a local validating resolver such as unbound).
 */
final class DnssecResolver {
    /** How long one try waits for its answer. */
    static final Duration TIMEOUT = Duration.ofSeconds(3);
    /** UDP tries before the lookup counts as failed (RFC 1035 §4.2.1: retransmit). */
    static final int TRIES = 2;
    static final int DNS_PORT = 53;

    private static final SecureRandom IDS = new SecureRandom();

    private final InetSocketAddress server;
    private final Duration timeout;

    DnssecResolver(InetSocketAddress server) {
        this(server, TIMEOUT);
    }

    /** With another wait per try (tests of a resolver that does not answer). */
    DnssecResolver(InetSocketAddress server, Duration timeout) {
        this.server = server;
        this.timeout = timeout;
    }

    /**
     * The resolver to ask: {@code dnsServer} as the Router has it ("dns://127.0.0.1:5353"), else
     * the first nameserver of /etc/resolv.conf; empty when there is none.
     */
    static Optional<DnssecResolver> of(String dnsServer) throws IOException {
        if (dnsServer != null) {
            URI uri = URI.create(dnsServer);
            String host = uri.getHost();
            if (host == null) {
                throw new IOException("no host in " + dnsServer);
            }
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            return Optional.of(new DnssecResolver(new InetSocketAddress(InetAddress.getByName(host),
                    uri.getPort() < 0 ? DNS_PORT : uri.getPort())));
        }
        Path conf = Path.of("/etc/resolv.conf");
        if (!Files.isReadable(conf)) {
            return Optional.empty();
        }
        for (String line : Files.readAllLines(conf)) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver")) {
                return Optional.of(new DnssecResolver(new InetSocketAddress(InetAddress.getByName(words[1]), DNS_PORT)));
            }
        }
        return Optional.empty();
    }

    /** systemd-resolved's stub (127.0.0.53, 127.0.0.54) or Docker's embedded forwarder (127.0.0.11). */
    boolean forwardingStub() {
        String a = server.getAddress().getHostAddress();
        return a.equals("127.0.0.53") || a.equals("127.0.0.54") || a.equals("127.0.0.11");
    }

    /** Whether its AD bit can be believed: only a resolver on this machine's loopback. */
    boolean onLoopback() {
        return server.getAddress().isLoopbackAddress();
    }

    InetSocketAddress server() {
        return server;
    }

    /** Asks for {@code type} records of {@code name}; any RCODE is returned, no answer in time throws. */
    DnsMessage.Response query(String name, int type) throws IOException {
        int id = IDS.nextInt(0x10000);
        byte[] query = DnsMessage.query(id, name, type);
        DnsMessage.Response udp = overUdp(id, query);
        return udp.truncated() ? overTcp(id, query) : udp;
    }

    private DnsMessage.Response overUdp(int id, byte[] query) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout((int) timeout.toMillis());
            byte[] buf = new byte[DnsMessage.UDP_PAYLOAD];
            for (int attempt = 1; ; attempt++) {
                socket.send(new DatagramPacket(query, query.length, server));
                try {
                    while (true) {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        socket.receive(p);
                        // RFC 5452 §9.1: only an answer from the server asked, to this query's id
                        if (!server.equals(p.getSocketAddress())) {
                            continue;
                        }
                        DnsMessage.Response r = DnsMessage.parse(java.util.Arrays.copyOf(buf, p.getLength()));
                        if (r.id() == id) {
                            return r;
                        }
                    }
                } catch (SocketTimeoutException e) {
                    if (attempt >= TRIES) {
                        throw new SocketTimeoutException("no answer from the resolver " + server + " in " + TRIES
                                + " tries of " + timeout.toMillis() + " ms");
                    }
                }
            }
        }
    }

    private DnsMessage.Response overTcp(int id, byte[] query) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(new byte[]{(byte) (query.length >> 8), (byte) query.length}); // RFC 1035 §4.2.2
            out.write(query);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int length = in.readUnsignedShort(); // RFC 1035 §4.2.2: at most 65535 octets, so any length will do
            byte[] answer = in.readNBytes(length);
            if (answer.length < length) {
                throw new IOException("the resolver " + server + " closed TCP in the middle of an answer");
            }
            DnsMessage.Response r = DnsMessage.parse(answer);
            if (r.id() != id) {
                throw new IOException("the resolver " + server + " answered over TCP with another query's id");
            }
            return r;
        }
    }

    @Override
    public String toString() {
        return server.getAddress().getHostAddress() + ":" + server.getPort();
    }
}
