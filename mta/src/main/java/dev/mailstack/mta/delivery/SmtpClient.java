package dev.mailstack.mta.delivery;

import dev.mailstack.net.LineReader;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLSocket;

/**
 * One outbound SMTP session with one host (RFC 5321 client side): EHLO, STARTTLS as its
 * {@link TlsPolicy} says, AUTH to a relay host, then transactions: MAIL, one RCPT per recipient
 * and DATA, pipelined when the server offers PIPELINING (RFC 2920), each reply read with the
 * time limit RFC 5321 §4.5.3.2 gives it.
 */
final class SmtpClient implements AutoCloseable {
    /** The longest wait for the reply to QUIT. */
    static final java.time.Duration QUIT_REPLY = java.time.Duration.ofSeconds(5);

    /**
     * The most octets one reply may have, its lines and their CRLFs together. RFC 5321 §4.5.3.1.5
     * puts a reply line at 512 octets; the longest honest replies (an EHLO with many extensions)
     * are a few KiB. Without it a server could send 1000 lines of 8 KiB, 8 MiB, for each reply.
     */
    static final int MAX_REPLY_BYTES = 64 * 1024;

    /** A multi-line reply reduced to what we keep; its code is 2yz to 5yz ({@link #readLines} checks). */
    record Reply(int code, List<String> lines) {
        /**
         * 2yz, positive completion (RFC 5321 §4.2.1): the only success of a command that has no
         * intermediate reply (MAIL, RCPT, RSET, the end of the data). 3yz is success only where the
         * command asks for more (354 to DATA, 334 to AUTH), which its caller checks by code.
         */
        boolean ok() {
            return code / 100 == 2;
        }

        /** 4yz or 5yz: the command failed, and the session is still in step. */
        boolean failed() {
            return code >= 400;
        }

        String text() {
            return code + " " + String.join(" ", lines);
        }
    }

    /** 2yz: the success of every command but DATA and AUTH (RFC 5321 §4.3.2). */
    static final java.util.function.IntPredicate POSITIVE = code -> code / 100 == 2;

    /**
     * The server broke the protocol: a reply that is no reply (RFC 5321 §4.2), one too long, or
     * one no command expects where it came. The session is out of step and ends here (the
     * socket is closed, no QUIT); the attempt fails for a retry, as for a lost connection.
     */
    static final class ProtocolError extends IOException {
        ProtocolError(String what) {
            super(what);
        }
    }

    /**
     * The TLS handshake failed: with {@link TlsPolicy#MAY} the host is tried again without TLS,
     * unless its certificate had to be verified.
     */
    static final class TlsHandshakeFailed extends IOException {
        TlsHandshakeFailed(String what, IOException cause) {
            super(what + ": " + cause.getMessage(), cause);
        }
    }

    private final Socket tcp;
    private final SmtpTimeouts timeouts;
    private Socket socket;
    private LineReader in;
    private OutputStream out;
    private final Set<String> extensions = new HashSet<>();
    private final Set<String> authMechanisms = new HashSet<>();
    private int uses;
    /** The server said 421: it is closing the session (RFC 5321 §3.8), which carries no more mail. */
    private boolean closing;
    /** The host name the route gave (an MX or relay host), for SNI; an address when it gave one. */
    private final String serverName;
    private final NextHopTrust trust;
    private final boolean verify;
    /** Under DANE: the records the certificate must match instead of {@link #trust}. */
    private final java.util.Optional<TlsaRecords> tlsa;

    private SmtpClient(Socket tcp, String serverName, NextHopTrust trust, boolean verify,
                       java.util.Optional<TlsaRecords> tlsa, SmtpTimeouts timeouts) throws IOException {
        this.tcp = tcp;
        this.serverName = serverName;
        this.trust = trust;
        this.verify = verify;
        this.tlsa = tlsa;
        this.timeouts = timeouts;
        attach(tcp);
    }

    /**
     * Connects to one address of {@code route}; with {@link TlsPolicy#IMPLICIT} the handshake comes
     * first. {@code tls} is the route's policy, or none for a second try without TLS.
     */
    static SmtpClient connect(InetSocketAddress address, Route route, TlsPolicy tls, NextHopTrust trust,
                              SmtpTimeouts timeouts) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(address, (int) timeouts.connect().toMillis());
            s.setSoTimeout((int) timeouts.reply().toMillis());
            s.setTcpNoDelay(true);
            SmtpClient client = new SmtpClient(s, route.host(), trust, route.verifies(),
                    tls == TlsPolicy.DANE ? route.tlsa() : java.util.Optional.empty(), timeouts);
            if (tls == TlsPolicy.IMPLICIT) {
                client.handshake();
            }
            return client;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void attach(Socket s) throws IOException {
        this.socket = s;
        this.in = new LineReader(new BufferedInputStream(s.getInputStream()), 8192);
        this.out = new BufferedOutputStream(new SendDeadline(s.getOutputStream(), tcp, timeouts.dataBlock()), 64 * 1024);
    }

    private void handshake() throws IOException {
        try {
            // the route's host name: SNI, so the server can choose its certificate, and what it must
            // name; under DANE the TLSA base domain (RFC 7672 §8.1), which for an MX host that is an
            // alias may be the name it expands to (§2.2.2)
            Socket plain = socket;
            String sni = tlsa.map(t -> t.names().getFirst()).orElse(serverName);
            attach(within(timeouts.reply(), "to finish the TLS handshake", () -> tlsa.isPresent()
                    ? trust.handshake(plain, sni, tlsa.get()) : trust.handshake(plain, serverName, verify)));
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new TlsHandshakeFailed(tlsa.isPresent() ? "DANE (RFC 7672): certificate of " + serverName
                    + " not accepted under its TLSA records" : verify ? "certificate of " + serverName + " not accepted (trusted: " + trust
                    + "; queue.tls_trust_file names the authorities to trust, and for a relay host"
                    + " queue.relay_host_tls_verify = false takes any)" : "TLS handshake failed", e);
        } catch (IOException e) {
            throw new TlsHandshakeFailed("TLS handshake failed", e);
        }
    }

    Reply greeting() throws IOException {
        return read();
    }

    /**
     * EHLO, falling back to HELO; then STARTTLS and EHLO again when the policy and the server
     * allow. Whether the session ended up encrypted is {@link #secure()}'s to say.
     */
    Reply hello(String hostname, TlsPolicy tls) throws IOException {
        Reply r = command("EHLO " + hostname);
        if (!r.ok()) {
            learn(new Reply(r.code(), List.of()));
            return command("HELO " + hostname);
        }
        learn(r);
        if (tls != TlsPolicy.NONE && has("STARTTLS") && !secure()) {
            Reply starttls = command("STARTTLS");
            if (starttls.ok()) {
                handshake();
                r = command("EHLO " + hostname); // RFC 3207 §4.2: forget what was learnt before TLS
                learn(r);
            }
        }
        return r;
    }

    /**
     * RSET on a kept session before it carries another message (RFC 5321 §4.1.1.5); false when the
     * server has closed it meanwhile. A dead peer gets the connect time limit, not five minutes.
     */
    boolean reset() {
        try {
            out.write("RSET\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return readWithin(timeouts.connect()).ok();
        } catch (IOException e) {
            return false;
        }
    }

    /** Counts a finished transaction; the new count. */
    int markUsed() {
        return ++uses;
    }

    /** Closed, or closing because the server said 421 (RFC 5321 §3.8): of no use for another message. */
    boolean closed() {
        return closing || socket.isClosed();
    }

    /**
     * {@code r} when it is a reply {@code command} may get: {@code success}, or a 4yz or 5yz
     * failure. Anything else (a 3yz to MAIL, a 250 to DATA) means the server is out of step with
     * us (RFC 5321 §4.3.2 lists the replies each command has): the session ends.
     */
    Reply expect(String command, Reply r, java.util.function.IntPredicate success) throws ProtocolError {
        if (success.test(r.code()) || r.failed()) {
            return r;
        }
        abort();
        throw new ProtocolError("unexpected reply to " + command + ": " + r.text());
    }

    /** Whether this session was opened under {@code current} (a reload may have changed the authorities). */
    boolean trusts(NextHopTrust current) {
        return trust == current;
    }

    boolean secure() {
        return socket instanceof SSLSocket;
    }

    private void learn(Reply ehlo) {
        extensions.clear();
        authMechanisms.clear();
        for (int i = 1; i < ehlo.lines().size(); i++) {
            String[] words = ehlo.lines().get(i).toUpperCase(Locale.ROOT).split(" ");
            extensions.add(words[0]);
            if (words[0].equals("AUTH")) {
                authMechanisms.addAll(List.of(words).subList(1, words.length));
            }
        }
    }

    boolean has(String extension) {
        return extensions.contains(extension);
    }

    /**
     * Logs in (RFC 4954): PLAIN with an initial response, else LOGIN. The caller has made sure the
     * session is encrypted or the peer is on loopback. Null when the server offers neither.
     */
    Reply authenticate(RelayLogin login) throws IOException {
        if (authMechanisms.contains("PLAIN")) {
            byte[] plain = ("\0" + login.user() + "\0" + login.password()).getBytes(StandardCharsets.UTF_8);
            return command("AUTH PLAIN " + Base64.getEncoder().encodeToString(plain));
        }
        if (authMechanisms.contains("LOGIN")) {
            Reply r = command("AUTH LOGIN");
            if (r.code() == 334) {
                r = command(Base64.getEncoder().encodeToString(login.user().getBytes(StandardCharsets.UTF_8)));
            }
            if (r.code() == 334) {
                r = command(Base64.getEncoder().encodeToString(login.password().getBytes(StandardCharsets.UTF_8)));
            }
            return r;
        }
        return null;
    }

    Reply command(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return read();
    }

    /**
     * RFC 2920 §3.1: the commands in one write, then their replies in order. DATA may only be
     * last; its reply gets DATA's time limit.
     */
    List<Reply> pipeline(List<String> commands) throws IOException {
        for (String c : commands) {
            out.write((c + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
        List<Reply> replies = new ArrayList<>();
        for (String c : commands) {
            replies.add(c.equals("DATA") ? readWithin(timeouts.dataInit()) : read());
        }
        return replies;
    }

    /** DATA on its own (§4.5.3.2.2: 2 minutes for the 354). */
    Reply dataCommand() throws IOException {
        out.write("DATA\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return readWithin(timeouts.dataInit());
    }

    /** After a 354: the message octets, dot-stuffed, and the final reply (§4.5.3.2.6: 10 minutes). */
    Reply content(InputStream message) throws IOException {
        byte[] buf = new byte[64 * 1024];
        boolean lineStart = true;
        boolean lastWasCr = false;
        for (int n; (n = message.read(buf)) > 0; ) {
            int from = 0;
            for (int i = 0; i < n; i++) {
                if (lineStart && buf[i] == '.') {
                    out.write(buf, from, i - from);
                    out.write('.'); // RFC 5321 §4.5.2: transparency
                    from = i;
                }
                lineStart = buf[i] == '\n';
                lastWasCr = buf[i] == '\r';
            }
            out.write(buf, from, n - from);
        }
        if (!lineStart) {
            out.write(lastWasCr ? new byte[]{'\n'} : new byte[]{'\r', '\n'});
        }
        out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return readWithin(timeouts.finalReply());
    }

    private Reply readWithin(java.time.Duration limit) throws IOException {
        socket.setSoTimeout((int) limit.toMillis());
        try {
            return read();
        } finally {
            socket.setSoTimeout((int) timeouts.reply().toMillis());
        }
    }

    /**
     * One reply, whole within the time each of its reads has (SO_TIMEOUT, the command's time of RFC
     * 5321 §4.5.3.2): a server that trickles continuation lines, or a line a byte at a time, would
     * otherwise hold the attempt, its lease renewed, for ever.
     */
    private Reply read() throws IOException {
        return within(Duration.ofMillis(socket.getSoTimeout()), "to finish its reply", this::readLines);
    }

    @FunctionalInterface
    private interface Exchange<T> {
        T run() throws IOException;
    }

    /** {@code work}, or a timeout once {@code limit} has passed: the TCP socket (under any TLS) is closed under it. */
    private <T> T within(Duration limit, String what, Exchange<T> work) throws IOException {
        if (limit.isZero()) {
            return work.run(); // no limit set (SO_TIMEOUT 0): none to keep
        }
        java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ScheduledFuture<?> alarm = SendDeadline.TIMER.schedule(() -> {
            expired.set(true);
            try {
                tcp.close();
            } catch (IOException ignored) {
                // closed is what we wanted
            }
        }, limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            return work.run();
        } catch (IOException e) {
            if (expired.get()) {
                java.net.SocketTimeoutException t = new java.net.SocketTimeoutException("the server took more than "
                        + limit.toSeconds() + " s " + what);
                t.initCause(e);
                throw t;
            }
            throw e;
        } finally {
            alarm.cancel(false);
        }
    }

    private Reply readLines() throws IOException {
        List<String> lines = new ArrayList<>();
        long bytes = 0;
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the server");
            }
            bytes += line.length() + 2;
            if (bytes > MAX_REPLY_BYTES) {
                throw protocolError("reply longer than " + MAX_REPLY_BYTES + " bytes");
            }
            int code = code(line);
            lines.add(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) == ' ') {
                closing |= code == 421;
                return new Reply(code, lines);
            }
        }
    }

    /**
     * RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39, then SP or "-" (or, from an old
     * server, nothing). Anything else ("100", "099", "-12", "+25", text) is no reply: a
     * protocol error that ends the session (§4.2.1: such codes are to be treated "as fatal
     * errors" that "terminate the mail transaction").
     */
    private int code(String line) throws ProtocolError {
        boolean wellFormed = line.length() >= 3
                && line.charAt(0) >= '2' && line.charAt(0) <= '5'
                && line.charAt(1) >= '0' && line.charAt(1) <= '5'
                && line.charAt(2) >= '0' && line.charAt(2) <= '9'
                && (line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '-');
        if (!wellFormed) {
            String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
            throw protocolError("malformed reply: " + shown);
        }
        return (line.charAt(0) - '0') * 100 + (line.charAt(1) - '0') * 10 + (line.charAt(2) - '0');
    }

    private ProtocolError protocolError(String what) {
        abort();
        return new ProtocolError(what);
    }

    /**
     * QUIT, and the 221 waited for (RFC 5321 §4.1.1.10: the sender SHOULD NOT close before it),
     * for at most {@link #QUIT_REPLY} or the connect time limit: a server that does not answer
     * holds up no shutdown.
     */
    @Override
    public void close() {
        try {
            if (!closed()) { // after a 421 the server closes: no QUIT to wait for an answer to
                out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                readWithin(QUIT_REPLY.compareTo(timeouts.connect()) < 0 ? QUIT_REPLY : timeouts.connect());
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        abort();
    }

    /**
     * Closes without QUIT: for a session that broke mid-command (in DATA a QUIT would be message
     * text), where no reply is coming.
     */
    void abort() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }
}
