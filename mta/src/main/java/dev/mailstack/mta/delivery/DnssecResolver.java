package dev.mailstack.mta.delivery;

import java.io.IOException;
import java.io.InputStream;
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
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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

    /**
     * The moment by which every query of one lookup must have its answer (System.nanoTime based,
     * so a clock change does not move it).
     */
    record Deadline(long nanoTime) {
        static Deadline after(Duration wait) {
            return new Deadline(System.nanoTime() + wait.toNanos());
        }

        /** Whole milliseconds left, 0 once it has passed. */
        long millisLeft() {
            return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanoTime - System.nanoTime()));
        }

        Deadline orSooner(Deadline other) {
            return nanoTime - other.nanoTime <= 0 ? this : other;
        }
    }

    /**
     * Asks for {@code type} records of {@code name}, with as long as one query may take: its UDP
     * tries and a TCP try after a truncated answer.
     */
    DnsMessage.Response query(String name, int type) throws IOException {
        return query(name, type, Deadline.after(timeout.multipliedBy(TRIES + 1)));
    }

    /** As {@link #query(String, int)}, ending when {@code deadline} passes; any RCODE is returned, no answer in time throws. */
    DnsMessage.Response query(String name, int type, Deadline deadline) throws IOException {
        waitMillis(deadline); // past it, nothing is sent
        int id = IDS.nextInt(0x10000);
        byte[] query = DnsMessage.query(id, name, type);
        DnsMessage.Response udp = overUdp(id, name, type, query, deadline);
        return udp.truncated() ? overTcp(id, name, type, query, deadline) : udp;
    }

    private DnsMessage.Response overUdp(int id, String name, int type, byte[] query, Deadline deadline) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            // one octet more than we advertise: a datagram that fills the buffer was larger than we
            // asked for and was cut to fit, which receive() would not tell us
            byte[] buf = new byte[DnsMessage.UDP_PAYLOAD + 1];
            for (int attempt = 1; ; attempt++) {
                Deadline tryEnds = Deadline.after(timeout).orSooner(deadline);
                socket.send(new DatagramPacket(query, query.length, server));
                for (long left = tryEnds.millisLeft(); left > 0; left = tryEnds.millisLeft()) {
                    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        socket.receive(p);
                    } catch (SocketTimeoutException e) {
                        break;
                    }
                    // RFC 5452 §9.1: only an answer from the server asked, to this query's id and
                    // question; anything else is ignored and we go on waiting for the real one
                    if (!server.equals(p.getSocketAddress())) {
                        continue;
                    }
                    DnsMessage.Response r;
                    try {
                        r = DnsMessage.parse(Arrays.copyOf(buf, p.getLength()), p.getLength() > DnsMessage.UDP_PAYLOAD);
                    } catch (DnsMessage.MalformedDnsException e) {
                        continue; // not a response to anything: a forgery must not end the wait either
                    }
                    if (r.isAnswerTo(id, name, type)) {
                        return r;
                    }
                }
                if (attempt >= TRIES || deadline.millisLeft() == 0) {
                    throw new SocketTimeoutException("no answer from the resolver " + server + " for " + name + " in "
                            + attempt + (attempt == 1 ? " try" : " tries") + " of at most " + timeout.toMillis() + " ms"
                            + (deadline.millisLeft() == 0 ? ", the lookup's deadline passed" : ""));
                }
            }
        }
    }

    private DnsMessage.Response overTcp(int id, String name, int type, byte[] query, Deadline deadline) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, waitMillis(deadline));
            OutputStream out = socket.getOutputStream();
            out.write(new byte[]{(byte) (query.length >> 8), (byte) query.length}); // RFC 1035 §4.2.2
            out.write(query);
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] prefix = read(socket, in, 2, deadline);
            int length = ((prefix[0] & 0xff) << 8) | (prefix[1] & 0xff); // at most 65535 octets, so any length will do
            DnsMessage.Response r = DnsMessage.parse(read(socket, in, length, deadline));
            if (!r.isAnswerTo(id, name, type)) {
                throw new IOException("the resolver " + server + " answered over TCP another query than " + name);
            }
            if (r.truncated()) {
                // a TCP answer has room for 65535 octets (RFC 1035 §4.2.2): one still cut short is
                // incomplete, and the records left out could be the TLSA record that matters
                throw new IOException("the resolver " + server + " answered " + name + " truncated over TCP too");
            }
            return r;
        }
    }

    /** {@code n} octets, each read waiting no longer than a try's wait nor past the deadline. */
    private byte[] read(Socket socket, InputStream in, int n, Deadline deadline) throws IOException {
        byte[] b = new byte[n];
        for (int got = 0; got < n; ) {
            socket.setSoTimeout(waitMillis(deadline));
            int r = in.read(b, got, n - got);
            if (r < 0) {
                throw new IOException("the resolver " + server + " closed TCP in the middle of an answer");
            }
            got += r;
        }
        return b;
    }

    /** A socket wait: one try's, or less when the deadline comes sooner; a deadline that has passed throws. */
    private int waitMillis(Deadline deadline) throws SocketTimeoutException {
        long left = Math.min(timeout.toMillis(), deadline.millisLeft());
        if (left <= 0) {
            throw new SocketTimeoutException("the lookup's deadline passed waiting for the resolver " + server);
        }
        return (int) left;
    }

    @Override
    public String toString() {
        return server.getAddress().getHostAddress() + ":" + server.getPort();
    }
}
