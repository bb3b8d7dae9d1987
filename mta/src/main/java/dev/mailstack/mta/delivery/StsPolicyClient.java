package dev.mailstack.mta.delivery;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;

/**
 * Fetches a domain's MTA-STS policy body (RFC 8461 §3.3): GET
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt over a verified TLS session, one HTTP/1.1
 * request on a plain socket, no redirect followed, nothing but a 200 with text/plain taken.
 */
final class StsPolicyClient {
    /** How long the whole fetch may take; RFC 8461 §3.3 suggests no more than a minute. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** RFC 8461 §3.3: a policy body larger than 64 KiB is not read. */
    static final int MAX_BODY = 64 * 1024;
    /** Interim (1xx) responses read past before the final one. */
    static final int MAX_INTERIM = 5;
    /** Status line and header fields together; a policy server has no reason for more. */
    static final int MAX_HEAD = 16 * 1024;

    private StsPolicyClient() {
    }

    /** Addresses of the policy host tried at most, as for an MX host (RemoteDelivery.MAX_ADDRESSES). */
    static final int MAX_ADDRESSES = 5;

    /**
     * The body, or an IOException saying why there is none (the domain then has no fetched policy).
     * The whole fetch, every address and the TLS handshake included, ends at {@link #TIMEOUT}: the
     * socket in use is closed under it then, so a server that sends its handshake a byte at a time,
     * or DNS naming many addresses that never answer, cannot hold the deliveries waiting for it.
     */
    static String fetch(String domain, List<InetAddress> addresses, int port, NextHopTrust trust) throws IOException {
        return fetch(domain, addresses, port, trust, TIMEOUT);
    }

    /** With a time limit of its own (tests). */
    static String fetch(String domain, List<InetAddress> addresses, int port, NextHopTrust trust, Duration timeout)
            throws IOException {
        String host = "mta-sts." + domain;
        long deadline = System.nanoTime() + timeout.toNanos();
        AtomicReference<Socket> current = new AtomicReference<>();
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> alarm = SendDeadline.TIMER.schedule(() -> {
            expired.set(true);
            Socket s = current.get();
            if (s != null) {
                close(s);
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        IOException last = new IOException(host + " has no address");
        try {
            for (InetAddress address : addresses.subList(0, Math.min(addresses.size(), MAX_ADDRESSES))) {
                Socket plain = new Socket();
                current.set(plain);
                try {
                    if (expired.get()) {
                        throw new SocketTimeoutException("no policy within " + timeout.toSeconds() + " s");
                    }
                    long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                    plain.connect(new InetSocketAddress(address, port), (int) Math.min(left, timeout.toMillis()));
                    plain.setSoTimeout((int) timeout.toMillis());
                    // RFC 8461 §3.3: the certificate must chain to a trusted authority and name the policy host
                    try (SSLSocket ssl = trust.handshake(plain, host, true)) {
                        return get(ssl, host, deadline);
                    }
                } catch (IOException e) {
                    String why = expired.get() ? "no policy within " + timeout.toSeconds() + " s" : e.getMessage();
                    last = new IOException("https://" + host + ":" + port + " (" + address.getHostAddress() + "): " + why, e);
                    close(plain);
                    if (e instanceof PolicyRefused || expired.get()) {
                        throw last; // the server answered (another address of it would say the same), or time is up
                    }
                } catch (RuntimeException e) {
                    close(plain); // not left open until the collector finds it
                    throw e;
                }
            }
            throw last;
        } finally {
            alarm.cancel(false);
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closed is what we wanted
        }
    }

    /** The server's answer was no policy (status, media type, size). */
    private static final class PolicyRefused extends IOException {
        PolicyRefused(String message) {
            super(message);
        }
    }

    private static String get(SSLSocket ssl, String host, long deadline) throws IOException {
        OutputStream out = ssl.getOutputStream();
        out.write(("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host
                + "\r\nAccept: text/plain\r\nUser-Agent: mailstack\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = new Limited(new java.io.BufferedInputStream(ssl.getInputStream()), deadline);
        String status = line(in);
        int head = status.length();
        // RFC 9110 §15.2: a client reads past interim responses (100, 103 Early Hints) to the final one
        for (int interim = 0; status.matches("HTTP/1\\.[01] 1[0-9][0-9]( .*)?"); interim++) {
            if (interim == MAX_INTERIM) {
                throw new PolicyRefused("more than " + MAX_INTERIM + " interim responses");
            }
            for (String field; !(field = line(in)).isEmpty(); ) {
                head += field.length();
                if (head > MAX_HEAD) {
                    throw new PolicyRefused("header larger than " + MAX_HEAD + " bytes");
                }
            }
            status = line(in);
            head += status.length();
        }
        // RFC 8461 §3.3: only 200; a 3xx is not followed
        if (!status.matches("HTTP/1\\.[01] 200( .*)?")) {
            throw new PolicyRefused("answered " + status + ", not 200");
        }
        long length = -1;
        boolean chunked = false;
        String mediaType = null;
        for (String field; !(field = line(in)).isEmpty(); ) {
            head += field.length();
            if (head > MAX_HEAD) {
                throw new PolicyRefused("header larger than " + MAX_HEAD + " bytes");
            }
            int colon = field.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = field.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = field.substring(colon + 1).strip();
            switch (name) {
                case "content-type" -> mediaType = value.split(";")[0].strip().toLowerCase(Locale.ROOT);
                case "content-length" -> {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new PolicyRefused("Content-Length " + value);
                    }
                }
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                default -> {
                }
            }
        }
        // RFC 8461 §3.2: the policy is served as text/plain
        if (!"text/plain".equals(mediaType)) {
            throw new PolicyRefused("media type " + mediaType + ", not text/plain");
        }
        if (length > MAX_BODY) {
            throw new PolicyRefused("policy of " + length + " bytes, more than " + MAX_BODY);
        }
        byte[] body = chunked ? chunks(in) : length >= 0 ? exactly(in, (int) length) : upTo(in, MAX_BODY);
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] exactly(InputStream in, int length) throws IOException {
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("policy ended after " + body.length + " of " + length + " bytes");
        }
        return body;
    }

    private static byte[] upTo(InputStream in, int max) throws IOException {
        byte[] body = in.readNBytes(max + 1);
        if (body.length > max) {
            throw new PolicyRefused("policy larger than " + max + " bytes");
        }
        return body;
    }

    /** RFC 9112 §7.1: hex size lines, each chunk followed by CRLF, a zero size at the end. */
    private static byte[] chunks(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line(in).split(";")[0].strip();
            int n;
            try {
                n = Integer.parseInt(size, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size " + size);
            }
            if (n < 0) {
                throw new IOException("bad chunk size " + size);
            }
            if (n == 0) {
                return body.toByteArray(); // trailers, if any, are left unread: the connection closes
            }
            if (n > MAX_BODY || body.size() + n > MAX_BODY) {
                throw new PolicyRefused("policy larger than " + MAX_BODY + " bytes");
            }
            body.write(exactly(in, n));
            line(in);
        }
    }

    /** One line without its CRLF (or LF), at most {@link #MAX_HEAD} bytes. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("connection closed in the HTTP header");
            }
            if (line.size() >= MAX_HEAD) {
                throw new PolicyRefused("header line longer than " + MAX_HEAD + " bytes");
            }
            line.write(b);
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Fails a read past the fetch's deadline: a server sending a byte now and then cannot hold delivery. */
    private static final class Limited extends java.io.FilterInputStream {
        private final long deadline;

        Limited(InputStream in, long deadline) {
            super(in);
            this.deadline = deadline;
        }

        private void check() throws SocketTimeoutException {
            if (System.nanoTime() - deadline > 0) {
                throw new SocketTimeoutException("no policy in the time a fetch has");
            }
        }

        @Override
        public int read() throws IOException {
            check();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            check();
            return super.read(b, off, len);
        }
    }
}
