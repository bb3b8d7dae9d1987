package dev.mailstack.net;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLSocket;

/**
 * One client connection: its id (on every log line), reader, and a writer that every thread
 * (the session, an IDLE notifier) goes through under one lock. Protocols write a whole response
 * and then {@link #flush()} once (TCP_NODELAY is on, so one flush is one segment train).
 */
public final class Connection {
    private final String id;
    private final Endpoint endpoint;
    private final InetSocketAddress peer;
    private final TlsContext tls;
    private final NetLimits limits;
    private final CommandPacer pacer;
    private final ReentrantLock outputLock = new ReentrantLock();
    /** Null on a Unix domain socket. */
    private volatile Socket socket;
    /** The accepted TCP socket under any TLS layer: closing it ends a write blocked inside TLS too; null on a Unix domain socket. */
    private final Socket tcp;
    /**
     * A Unix domain socket's channel (an MTA on this machine, as Postfix's lmtp:unix:); null on TCP.
     * A channel has no SO_TIMEOUT: the listener's watchdog ends a read that waited past the idle
     * timeout, or past what is left of its request's time, instead ({@link #readStalled}).
     */
    private final SocketChannel channel;
    /**
     * {@link System#nanoTime()} (made odd) when a read from the channel began and has not returned;
     * 0 when none is waiting; {@link #TIMED_OUT} once the watchdog has ended that read. Changed by
     * compare-and-set only, so the watchdog ends the read it saw stall and never the next one.
     */
    private final java.util.concurrent.atomic.AtomicLong readingSince = new java.util.concurrent.atomic.AtomicLong();
    private static final long TIMED_OUT = -2; // even: no start time is
    /** Set by the watchdog before it shuts the channel's input: the read's end of stream is then a timeout. */
    private volatile boolean readTimedOut;
    private volatile LineReader reader;
    private volatile OutputStream out;
    private volatile boolean compressed;
    /** Bytes written since the last flush; a flush with none is skipped (see {@link #flush()}). */
    private boolean unflushed;
    private volatile boolean awaitingCommand;
    private volatile boolean shuttingDown;
    /** The line that ends the session, once {@link #end} was called; null while it goes on. */
    private final AtomicReference<String> goodbye = new AtomicReference<>();
    /** Taken by whichever thread sends {@link #goodbye}: the one that ends the session, or the session's. */
    private final AtomicBoolean goodbyeTaken = new AtomicBoolean();
    /** {@link System#nanoTime()} when a write to the socket began and has not returned; 0 when none is under way. */
    private volatile long writingSince;
    private volatile long idleTimeoutNanos;
    /*
     * Postfix 3.7's smtpd_per_request_deadline and smtpd_min_data_rate, for every protocol. While a
     * request is read (a command line, or a payload: DATA, a BDAT chunk, a literal) each read waits
     * only for what is left of the request's time, not a fresh idle timeout, and its wait is taken
     * from it: a client that trickles a byte at a time cannot hold its session, and a connection
     * permit, for as long as it likes. A payload's bytes give time back (1 s per net.min_data_rate
     * bytes, never more than the idle timeout), so a large message at a fair pace is never cut.
     * Read and changed only by the session's thread, which alone reads.
     */
    /** Whether a request is being read against its deadline; if not, each read waits an idle timeout. */
    private boolean inRequest;
    /** What is left of the request's time for reads. */
    private long requestNanosLeft;
    /** What each byte read gives back: 1 s / net.min_data_rate in a payload, 0 in a command line. */
    private long nanosPerByte;
    /** The longest the read under way may wait, for the watchdog of a Unix domain socket. */
    private volatile long readWaitNanos = Long.MAX_VALUE;

    Connection(String id, Endpoint endpoint, Socket tcp, Socket socket, TlsContext tls, NetLimits limits)
            throws IOException {
        this.id = id;
        this.endpoint = endpoint;
        this.tcp = tcp;
        this.socket = socket;
        this.channel = null;
        this.idleTimeoutNanos = limits.idleTimeout().toNanos();
        this.peer = (InetSocketAddress) socket.getRemoteSocketAddress();
        this.tls = tls;
        this.limits = limits;
        this.pacer = new CommandPacer(limits.commandsPerSecond());
        attachStreams();
    }

    /**
     * A connection on a Unix domain socket: only processes on this machine that may open the
     * socket file reach it, so it counts as a loopback client (its {@link #clientAddress()} is the
     * loopback address, port 0); no TLS is offered, as there is no network to protect.
     */
    Connection(String id, Endpoint endpoint, SocketChannel channel, NetLimits limits) throws IOException {
        this.id = id;
        this.endpoint = endpoint;
        this.tcp = null;
        this.socket = null;
        this.channel = channel;
        this.idleTimeoutNanos = limits.idleTimeout().toNanos();
        this.peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        this.tls = null;
        this.limits = limits;
        this.pacer = new CommandPacer(limits.commandsPerSecond());
        attachStreams();
    }

    private void attachStreams() throws IOException {
        this.reader = new LineReader(rawInput(), limits.maxLineBytes());
        this.out = new BufferedOutputStream(rawOutput(), 16 * 1024);
    }

    /** An input whose every read is timed: single bytes go through the timed bulk read too. */
    private static class TimedInput extends java.io.FilterInputStream {
        TimedInput(java.io.InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }
    }

    private java.io.InputStream rawInput() throws IOException {
        if (channel == null) {
            Socket s = socket;
            // Under TLS one read waits for a whole record, each of whose bytes gets SO_TIMEOUT anew: a
            // record trickled a byte at a time would hold the read for weeks. The listener's watchdog
            // ends such a read (TLS_GRACE after its time), as it does a Unix domain socket's.
            boolean watched = s != tcp;
            return new TimedInput(s.getInputStream()) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    long wait = readWait();
                    if (inRequest) {
                        s.setSoTimeout(soTimeout(wait)); // the idle timeout is set back when the request ends
                    }
                    long start = System.nanoTime();
                    if (!watched) {
                        int n = super.read(b, off, len);
                        readDone(start, n);
                        return n;
                    }
                    readWaitNanos = wait; // before its start time: the watchdog that sees one sees both
                    long since = start | 1;
                    readingSince.set(since);
                    int n;
                    try {
                        n = super.read(b, off, len);
                    } catch (IOException e) {
                        if (!readingSince.compareAndSet(since, 0)) {
                            throw tlsReadTimedOut(e); // the watchdog closed the socket under it
                        }
                        throw e;
                    }
                    if (!readingSince.compareAndSet(since, 0)) {
                        throw tlsReadTimedOut(null);
                    }
                    readDone(start, n);
                    return n;
                }
            };
        }
        java.io.InputStream in = Channels.newInputStream(channel);
        return new TimedInput(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (readTimedOut) {
                    throw new SocketTimeoutException("idle on the Unix domain socket");
                }
                readWaitNanos = readWait(); // before its start time: the watchdog that sees one sees both
                long since = System.nanoTime() | 1;
                readingSince.set(since);
                IOException failed = null;
                int n = -1;
                try {
                    n = super.read(b, off, len);
                } catch (IOException e) {
                    failed = e;
                }
                // the watchdog took this read first (its input is being shut): a timeout, whatever came
                if (!readingSince.compareAndSet(since, 0) || readTimedOut) {
                    throw new SocketTimeoutException("idle on the Unix domain socket");
                }
                if (failed != null) {
                    throw failed;
                }
                readDone(since, n);
                return n;
            }
        };
    }

    /**
     * How long the next read may wait: an idle timeout, or within a request what is left of its
     * time; a SocketTimeoutException once that is spent, so the session ends as an idle one does.
     */
    private long readWait() throws SocketTimeoutException {
        if (!inRequest) {
            return idleTimeoutNanos;
        }
        long left = Math.min(requestNanosLeft, idleTimeoutNanos);
        if (left <= 0) {
            throw new SocketTimeoutException(nanosPerByte == 0 ? "command line not complete within the idle timeout"
                    : "payload slower than the minimum data rate");
        }
        return left;
    }

    /**
     * Takes a read's wait from its request's time and gives back what its {@code n} bytes earned,
     * as Postfix's smtpd_min_data_rate: "after the DATA or BDAT request deadline is decremented by
     * the elapsed time of that read operation, [it] is incremented by N/smtpd_min_data_rate
     * seconds", never beyond the idle timeout. Only waiting counts: time the server spends between
     * reads (spooling, a milter) is not the client's.
     */
    private void readDone(long startNanos, int n) {
        if (!inRequest) {
            return;
        }
        long left = requestNanosLeft - (System.nanoTime() - startNanos);
        if (n > 0 && nanosPerByte > 0) {
            left = Math.min(left + n * nanosPerByte, idleTimeoutNanos);
        }
        requestNanosLeft = left;
    }

    private void beginRequest(long nanosPerByte) {
        this.nanosPerByte = nanosPerByte;
        requestNanosLeft = idleTimeoutNanos;
        inRequest = true;
    }

    private void endRequest() {
        inRequest = false;
        readWaitNanos = Long.MAX_VALUE;
        if (socket != null) {
            try {
                socket.setSoTimeout(soTimeout(idleTimeoutNanos));
            } catch (java.net.SocketException e) {
                // closed under the read: what the read threw says why
            }
        }
    }

    private static int soTimeout(long nanos) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos)));
    }

    private OutputStream rawOutput() throws IOException {
        return channel == null ? socket.getOutputStream() : Channels.newOutputStream(channel);
    }

    public String id() {
        return id;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public InetAddress clientAddress() {
        return peer.getAddress();
    }

    public int clientPort() {
        return peer.getPort();
    }

    public boolean isLoopback() {
        return peer.getAddress().isLoopbackAddress();
    }

    public boolean isSecure() {
        return socket instanceof SSLSocket;
    }

    /** True when this endpoint can upgrade with STARTTLS/STLS and has not yet. */
    public boolean canStartTls() {
        return tls != null && !isSecure();
    }

    public LineReader reader() {
        return reader;
    }

    public NetLimits limits() {
        return limits;
    }

    /**
     * Reads the next command line, marking the session as between commands so a shutdown, or
     * {@link #end}, may end it there. A session ended from outside gets {@link SessionEndedException}
     * instead of its next command.
     */
    public String readCommand() throws IOException {
        if (shuttingDown) {
            throw new ShutdownException();
        }
        // end() sets goodbye, then looks at awaitingCommand; this sets awaitingCommand, then looks at
        // goodbye: one of the two always sees the other, so a session is never left waiting unended.
        awaitingCommand = true;
        try {
            if (goodbye.get() != null) {
                throw ended();
            }
            String line = readLineByDeadline();
            awaitingCommand = false; // from here end() leaves the goodbye to this thread
            if (goodbye.get() != null) {
                throw ended(); // read while the goodbye went out: not run
            }
            if (shuttingDown) {
                // read while the shutdown's goodbye may have gone out: not run (a POP3 QUIT told its
                // session was cut off must not then delete, RFC 1939 §6)
                throw new ShutdownException();
            }
            try {
                pacer.pace();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while pacing commands");
            }
            return line;
        } catch (SessionEndedException | ShutdownException e) {
            throw e;
        } catch (IOException e) {
            if (goodbye.get() != null) {
                throw ended(); // the connection was closed under the read, after the goodbye
            }
            if (shuttingDown) {
                throw new ShutdownException();
            }
            throw e;
        } finally {
            awaitingCommand = false;
        }
    }

    /**
     * Reads a line that goes on a command already under way: the rest of a command line after a
     * literal (IMAP, ManageSieve), a SASL response after a challenge (SMTP, POP3, IMAP and
     * ManageSieve AUTH). Like a command line it must arrive whole within the idle timeout; read
     * with only a per-read timeout, a client trickling a byte per idle period would hold its
     * session for max_line_bytes idle timeouts. Unlike {@link #readCommand}, the session is not
     * between commands: a shutdown, or {@link #end}, lets the command finish first. Within a
     * payload (the lines between skipped literals) the line is part of the payload, read at its
     * rate; no second deadline begins.
     */
    public String readContinuation() throws IOException {
        if (inRequest) {
            return reader.readLine();
        }
        return readLineByDeadline();
    }

    /**
     * A command line that must arrive whole within the idle timeout. A per-read timeout alone lets a
     * client that trickles a byte at a time (slowloris) hold its session, and a connection permit,
     * for as long as it likes; Postfix's smtpd_per_record_deadline closes the same gap.
     */
    private String readLineByDeadline() throws IOException {
        beginRequest(0);
        try {
            return reader.readLine();
        } finally {
            endRequest();
        }
    }

    /**
     * Starts reading a payload the client sends after a command (SMTP DATA from the 354 to the final
     * dot, a BDAT chunk, an IMAP or ManageSieve literal) under {@code net.min_data_rate}, Postfix's
     * smtpd_min_data_rate: it has the idle timeout, and every byte read adds 1 s / rate to what is
     * left of it, up to the idle timeout again. A client at least that fast, that never pauses for
     * an idle timeout, is never cut; one that trickles is, after at most an idle timeout plus
     * its bytes' worth, with a SocketTimeoutException as if idle. Read through {@link
     * Payload#reader()}; closing the payload ends it. A payload begun inside another is part of
     * it. With a rate of 0, each read waits an idle timeout, as before.
     */
    public Payload payload() {
        if (inRequest || limits.minDataRate() == 0) {
            return new Payload(false);
        }
        beginRequest(Math.max(1, TimeUnit.SECONDS.toNanos(1) / limits.minDataRate()));
        return new Payload(true);
    }

    /** A payload being read under the minimum data rate, see {@link #payload()}. */
    public final class Payload implements AutoCloseable {
        private final boolean ends;

        private Payload(boolean ends) {
            this.ends = ends;
        }

        /** The connection's reader, for the payload's bytes. */
        public LineReader reader() {
            return reader;
        }

        @Override
        public void close() {
            if (ends) {
                endRequest();
            }
        }
    }

    private SessionEndedException ended() {
        return new SessionEndedException(goodbyeTaken.compareAndSet(false, true) ? Optional.of(goodbye.get()) : Optional.empty());
    }

    /**
     * Ends the session from another thread, such as the one that deleted the session's account,
     * without blocking that thread. A session waiting for its next command gets {@code goodbye}
     * at once, from a virtual thread of its own, and the connection closes; a session in the middle
     * of a command (a FETCH, a RETR) finishes it, then gets {@code goodbye} instead of its next
     * command. Safe to call more than once: the first goodbye is the one said.
     */
    public void end(String goodbye) {
        this.goodbye.compareAndSet(null, goodbye);
        if (awaitingCommand) {
            Thread.ofVirtual().name("end-" + id).start(this::sayGoodbye);
        }
    }

    private static final Duration GOODBYE_WAIT = Duration.ofSeconds(5);

    private void sayGoodbye() {
        if (!goodbyeTaken.compareAndSet(false, true)) {
            return; // the session's thread took it
        }
        try {
            if (!outputLock.tryLock(GOODBYE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                abort(); // a write stuck on a client that does not read: no goodbye after it
                return;
            }
            try {
                reply(goodbye.get());
                close(); // under the lock: nothing is written after the goodbye
            } finally {
                outputLock.unlock();
            }
        } catch (IOException e) {
            close(); // the client is gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort();
        }
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** Changes the idle timeout, e.g. to IMAP's 30 minutes after login or during IDLE. */
    public void setIdleTimeout(java.time.Duration timeout) throws IOException {
        if (socket != null) {
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        }
        idleTimeoutNanos = timeout.toNanos();
    }

    // --- output

    public void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    public void write(byte[] bytes) throws IOException {
        write(bytes, 0, bytes.length);
    }

    public void write(byte[] bytes, int off, int len) throws IOException {
        outputLock.lock();
        try {
            writingSince = System.nanoTime() | 1;
            out.write(bytes, off, len);
            unflushed |= len > 0;
        } finally {
            writingSince = 0;
            outputLock.unlock();
        }
    }

    /**
     * Sends what was written. A flush with nothing written sends nothing: under COMPRESS an empty
     * sync flush would still put a 5-byte empty block on the wire, which a client may read as
     * end of stream (Thunderbird does).
     */
    public void flush() throws IOException {
        outputLock.lock();
        try {
            if (unflushed) {
                writingSince = System.nanoTime() | 1;
                out.flush();
                unflushed = false;
            }
        } finally {
            writingSince = 0;
            outputLock.unlock();
        }
    }

    /** Writes one line plus CRLF and flushes: a complete one-line reply. */
    public void reply(String line) throws IOException {
        outputLock.lock();
        try {
            write(line);
            write(CRLF);
            flush();
        } finally {
            outputLock.unlock();
        }
    }

    /**
     * A one-line reply unless another thread holds the writer (a stop must not queue behind a write
     * that waits for a client who does not read); false if it was not sent.
     */
    boolean tryReply(String line) throws IOException {
        if (!outputLock.tryLock()) {
            return false;
        }
        try {
            reply(line);
            return true;
        } finally {
            outputLock.unlock();
        }
    }

    /** Holds the writer for a multi-part response that no other thread may interleave with. */
    public void lockOutput() {
        outputLock.lock();
    }

    public void unlockOutput() {
        outputLock.unlock();
    }

    /** An OutputStream onto the connection, for streaming message content; the caller flushes. */
    public OutputStream output() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                Connection.this.write(new byte[]{(byte) b});
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Connection.this.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                Connection.this.flush();
            }
        };
    }

    private static final byte[] CRLF = {'\r', '\n'};

    // --- TLS

    /**
     * Upgrades to TLS after the protocol's "go ahead" reply has been flushed. Anything the client
     * sent after the STARTTLS command and before the handshake is dropped, never executed as if it
     * came under TLS (CVE-2011-0411). Returns the number of bytes dropped.
     * <p>
     * The "go ahead" is flushed here even if the protocol held it back for a pipelined command (SMTP
     * does, RFC 2920 §3.1): that command is about to be dropped, and the plaintext writer with it,
     * so a reply left in it would never be sent and both sides would wait for each other.
     */
    public int startTls() throws IOException {
        if (!canStartTls()) {
            throw new IllegalStateException("no TLS on this connection");
        }
        flush();
        int dropped = reader.discardBuffered();
        socket = tls.wrap(socket, true, java.time.Duration.ofNanos(idleTimeoutNanos));
        attachStreams();
        return dropped;
    }

    // --- compression

    public boolean isCompressed() {
        return compressed;
    }

    /**
     * RFC 4978 COMPRESS=DEFLATE: from now on both directions are raw DEFLATE. Every flush is a
     * sync flush, so a response is never held back in the compressor (a client would stall).
     * Call after the tagged OK has been flushed.
     * <p>
     * The inflater reads from the timed input, not the other way round: a payload's time is given
     * back for the compressed bytes that came (decrypted, under TLS), not for what they inflate to.
     * Counted after inflation, a literal of zeros, some 1,000 times smaller on the wire, would earn
     * net.min_data_rate's time a thousand times faster than the client sends it. Decrypted rather
     * than TLS record bytes: they are what this layer sees, and within a few percent of the wire.
     */
    public void compress() throws IOException {
        outputLock.lock();
        try {
            out.flush();
            java.io.InputStream raw = new java.io.SequenceInputStream(
                    new java.io.ByteArrayInputStream(reader.takeBuffered()), rawInput());
            this.reader = new LineReader(new java.util.zip.InflaterInputStream(raw, new java.util.zip.Inflater(true), 16 * 1024),
                    limits.maxLineBytes());
            this.out = new BufferedOutputStream(new java.util.zip.DeflaterOutputStream(rawOutput(),
                    new java.util.zip.Deflater(java.util.zip.Deflater.DEFAULT_COMPRESSION, true), 16 * 1024, true), 16 * 1024);
            unflushed = false;
            compressed = true;
        } finally {
            outputLock.unlock();
        }
    }

    // --- lifecycle, used by the listener

    void startShutdown() {
        shuttingDown = true;
    }

    boolean awaitingCommand() {
        return awaitingCommand;
    }

    /**
     * Whether the caller may say the session's last words: the first to ask of this thread, the
     * listener's shutdown and {@link #end}; so a session never gets two goodbyes.
     */
    boolean takeGoodbye() {
        return goodbyeTaken.compareAndSet(false, true);
    }

    /**
     * Closes in stages, as RFC 9112 §9.6 asks of an HTTP server that closes while the client may
     * still be sending (a request's content it refused, a pipelined request): what was written is
     * flushed, the sending side shut, then what the client goes on sending is read and dropped, up
     * to {@code maxBytes} or {@code wait}, until it closes too. Closed at once instead, unread bytes
     * would be answered with a reset, which can destroy the response before the client reads it.
     * Plain TCP only: a TLS connection (or a Unix domain socket) simply closes.
     */
    public void closeLingering(Duration wait, long maxBytes) {
        try {
            flush();
        } catch (IOException e) {
            close(); // gone: closing is all that is left
            return;
        }
        if (tcp != null && socket == tcp) {
            drainThenClose(tcp, wait, maxBytes);
        } else {
            close();
        }
    }

    /**
     * Shuts the sending side of a plain TCP socket whose answer is written, reads and drops what
     * the client still sends (up to {@code maxBytes}, for at most {@code wait}, until it closes too),
     * then closes it (RFC 9112 §9.6).
     */
    static void drainThenClose(Socket tcp, Duration wait, long maxBytes) {
        try (tcp) {
            tcp.shutdownOutput();
            long deadline = System.nanoTime() + wait.toNanos();
            byte[] drop = new byte[8192];
            long dropped = 0;
            java.io.InputStream in = tcp.getInputStream();
            for (long left = wait.toMillis(); left > 0 && dropped < maxBytes; left = (deadline - System.nanoTime()) / 1_000_000) {
                tcp.setSoTimeout((int) Math.max(1, left));
                int n = in.read(drop);
                if (n < 0) {
                    break;
                }
                dropped += n;
            }
        } catch (IOException e) {
            // gone, or quiet until the wait ran out: closing is all that is left
        }
    }

    void close() {
        try {
            if (channel != null) {
                channel.close();
            } else if (socket != tcp) {
                // TLS says close_notify first, a write with no timeout of its own to a client that may
                // not read: the watchdog sees it as a write and ends it as one (abort)
                writingSince = System.nanoTime() | 1;
                socket.close();
            } else {
                socket.close();
            }
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    /**
     * True when a read from a Unix domain socket has waited longer than the client may stay idle
     * (TCP's reads end by SO_TIMEOUT and are never reported here).
     */
    boolean readStalled(long nowNanos) {
        if (channel != null) {
            return stalled(readingSince.get(), nowNanos);
        }
        // a TLS read that SO_TIMEOUT would have ended by now, had its bytes not trickled in
        return socket != tcp && stalled(readingSince.get(), nowNanos - TLS_GRACE_NANOS);
    }

    /** What a TLS read gets beyond its time before the watchdog ends it: SO_TIMEOUT's quiet goodbye comes first. */
    private static final long TLS_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private SocketTimeoutException tlsReadTimedOut(IOException cause) {
        SocketTimeoutException e = new SocketTimeoutException("TLS record not complete within the time left to read");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /** A read begun at {@code since} has waited past the idle timeout, or past what was left of its request's time. */
    private boolean stalled(long since, long nowNanos) {
        return since > 0 && nowNanos - since > Math.min(readWaitNanos, idleTimeoutNanos);
    }

    /**
     * Ends the stalled read as SO_TIMEOUT would: the read sees the end of its input and reports a
     * timeout, so the session says its idle-timeout goodbye on the output, still open.
     */
    void timeOutRead(long nowNanos) {
        long since = readingSince.get();
        // only the read that is still the stalled one: one that returned meanwhile took its start time back
        if (!readStalled(nowNanos) || !readingSince.compareAndSet(since, TIMED_OUT)) {
            return;
        }
        if (channel == null) {
            abort(); // TLS: nothing more can be read or said on a record cut in half
            return;
        }
        readTimedOut = true;
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            abort();
        }
    }

    /**
     * True when a write has waited for the client to read for longer than the client may stay idle:
     * a client that stops reading (or a peer that vanished without a reset) holds its session, and
     * whatever the session holds, only that long.
     */
    boolean writeStalled(long nowNanos, long limitNanos) {
        long since = writingSince;
        return since != 0 && nowNanos - since > Math.min(limitNanos, idleTimeoutNanos);
    }

    /** Ends the connection under any TLS layer, failing the write that waits on it. */
    void abort() {
        try {
            if (channel != null) {
                channel.close();
                return;
            }
            tcp.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }
}
