package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TcpListenerTest {
    @TempDir
    Path dir;
    EchoProtocol protocol = new EchoProtocol();
    TcpListener listener;

    private TcpListener start(TlsMode mode, NetLimits limits) throws Exception {
        TlsContext tls = mode == TlsMode.NONE ? null : TestTls.serverContext(dir);
        if (mode == TlsMode.NONE) {
            tls = TestTls.serverContext(dir); // STARTTLS available on the plain endpoint too
        }
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode),
                protocol, limits, tls);
        return listener;
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void acceptsBareLfAndCrlfCommands() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults());
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK echo ready");
            c.sendRaw("hello\n").expect("\\+OK hello");
            c.sendRaw("world\r\n").expect("\\+OK world");
            c.send("QUIT").expect("\\+OK bye");
            c.expectClosed();
        }
    }

    @Test
    void anOverlongLineGetsAnErrorAndTheSessionGoesOn() throws Exception {
        start(TlsMode.NONE, new NetLimits(512, Duration.ofSeconds(30), 10, 10));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK echo ready");
            c.send("x".repeat(5000)).expect("-ERR line too long");
            c.send("x".repeat(512)).expect("\\+OK x{512}");
            c.send("after").expect("\\+OK after");
        }
    }

    @Test
    void aClientSendingCommandsFasterThanTheLimitIsSlowedNotCutOff() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(30), 10, 10, 50, NetLimits.DEFAULT_MIN_DATA_RATE));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK echo ready");
            long t0 = System.nanoTime();
            c.sendRaw("n\r\n".repeat(100)); // a burst of one second's worth passes, the rest at 50/s
            for (int i = 0; i < 100; i++) {
                c.expect("\\+OK n");
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis >= 900, "100 commands at 50/s with a burst of 50 take about a second, took " + millis + " ms");
            c.send("QUIT").expect("\\+OK bye");
        }
    }

    @Test
    void anIdleClientIsToldAndDisconnected() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofMillis(300), 10, 10));
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK echo ready");
            c.expect("-ERR idle timeout");
            c.expectClosed();
        }
    }

    /**
     * Slowloris: a byte every 300 ms keeps each read well inside the 1 s idle timeout, but the
     * command line as a whole must arrive within it (Postfix's smtpd_per_record_deadline), or one
     * client holds a connection permit for as long as it likes.
     */
    @Test
    void aClientTricklingOneCommandLineIsTimedOutLikeAnIdleOne() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
        try (LineClient c = new LineClient(listener.port())) {
            c.setTimeout(Duration.ofSeconds(8));
            c.expect("\\+OK echo ready");
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread trickle = Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        c.sendRaw("x");
                        Thread.sleep(300); // the pace is what the test is about
                    }
                } catch (java.io.IOException | InterruptedException e) {
                    // the server closed the connection: the trickle is over
                }
            });
            try {
                long start = System.nanoTime();
                c.expect("-ERR idle timeout");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "timed out only after "
                        + (System.nanoTime() - start) / 1_000_000 + " ms");
            } finally {
                stop.set(true);
                trickle.join();
            }
        }
    }

    /** The line that goes on a command (an AUTH response, the rest of a line after a literal) is held to the same deadline. */
    @Test
    void aClientTricklingAContinuationLineIsTimedOutLikeAnIdleOne() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
        try (LineClient c = new LineClient(listener.port())) {
            c.setTimeout(Duration.ofSeconds(8));
            c.expect("\\+OK echo ready");
            c.send("ASK").expect("\\+ go on");
            long start = System.nanoTime();
            Trickle trickle = Trickle.start(c::sendRaw, "x", Duration.ofMillis(200));
            try {
                c.expect("-ERR idle timeout");
            } finally {
                trickle.close();
            }
            long took = System.nanoTime() - start;
            assertTrue(took < TimeUnit.SECONDS.toNanos(3), "timed out only after " + took / 1_000_000 + " ms");
        }
    }

    /**
     * A session reading the line that goes on its command is not between commands: a stop says
     * goodbye to the idle session at once (so it has looked at both), and to this one only after its
     * command is answered.
     */
    @Test
    void aStopLetsACommandWaitingForItsContinuationFinish() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults());
        try (LineClient idle = new LineClient(listener.port()); LineClient asking = new LineClient(listener.port())) {
            idle.expect("\\+OK echo ready");
            asking.expect("\\+OK echo ready");
            asking.send("ASK").expect("\\+ go on");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> listener.shutdown(Duration.ofSeconds(20)));
            idle.expect("-ERR shutting down");
            asking.send("yes").expect("\\+OK answered yes");
            asking.expect("-ERR shutting down");
            asking.expectClosed();
            stopping.get(20, TimeUnit.SECONDS);
        }
    }

    /**
     * Postfix's smtpd_min_data_rate: a payload byte every 200 ms keeps each read inside the 1 s idle
     * timeout, but at 5 bytes/s, far under the 100 bytes/s asked, the payload's time runs out.
     */
    @Test
    void aPayloadTrickledBelowTheMinimumDataRateIsTimedOutLikeAnIdleOne() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(100));
        try (LineClient c = new LineClient(listener.port())) {
            c.setTimeout(Duration.ofSeconds(8));
            c.expect("\\+OK echo ready");
            c.send("PAYLOAD 1000").expect("\\+OK send 1000");
            long start = System.nanoTime();
            Trickle trickle = Trickle.start(c::sendRaw, "x", Duration.ofMillis(200));
            try {
                c.expect("-ERR idle timeout");
            } finally {
                trickle.close();
            }
            long took = System.nanoTime() - start;
            // 1 s, plus 10 ms for each of the few bytes that came meanwhile
            assertTrue(took > TimeUnit.MILLISECONDS.toNanos(900) && took < TimeUnit.SECONDS.toNanos(3),
                    "timed out after " + took / 1_000_000 + " ms");
        }
    }

    /**
     * A payload above the minimum rate takes as long as it takes (here three idle timeouts), and a
     * pause of almost an idle timeout in it is no harm: each byte gave its time back.
     */
    @Test
    void aPayloadAboveTheMinimumDataRateIsNotCutHoweverLongItTakes() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(100));
        try (LineClient c = new LineClient(listener.port())) {
            c.setTimeout(Duration.ofSeconds(10));
            c.expect("\\+OK echo ready");
            c.send("PAYLOAD 1500").expect("\\+OK send 1500");
            for (int i = 0; i < 30; i++) {
                c.sendRaw("y".repeat(50));
                Thread.sleep(i == 10 ? 800 : 100); // 500 bytes/s, and once almost the idle timeout
            }
            c.expect("\\+OK payload 1500");
            c.send("QUIT").expect("\\+OK bye");
        }
    }

    /** net.min_data_rate = 0: a payload's reads wait an idle timeout each, however slow it is overall. */
    @Test
    void withNoMinimumDataRateOnlyEachReadIsTimed() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(0));
        try (LineClient c = new LineClient(listener.port())) {
            c.setTimeout(Duration.ofSeconds(10));
            c.expect("\\+OK echo ready");
            c.send("PAYLOAD 10").expect("\\+OK send 10");
            for (int i = 0; i < 10; i++) {
                c.sendRaw("z");
                Thread.sleep(250); // 2.5 s in all, 4 bytes/s
            }
            c.expect("\\+OK payload 10");
        }
    }

    @Test
    void connectionsPerAddressAreLimited() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(30), 10, 2));
        try (LineClient a = new LineClient(listener.port()); LineClient b = new LineClient(listener.port())) {
            a.expect("\\+OK echo ready");
            b.expect("\\+OK echo ready");
            try (LineClient third = new LineClient(listener.port())) {
                third.expect("-ERR too many connections");
                third.expectClosed();
            }
            a.send("still here").expect("\\+OK still here");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (listener.activeConnections() > 0) {
            assertTrue(System.nanoTime() < deadline, "closed connections still counted: " + listener.activeConnections());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // the server notices the closed sockets on its own threads
        }
        try (LineClient again = new LineClient(listener.port())) {
            again.expect("\\+OK echo ready");
        }
    }

    @Test
    void totalConnectionsAreLimited() throws Exception {
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(30), 1, 5));
        try (LineClient a = new LineClient(listener.port())) {
            a.expect("\\+OK echo ready");
            try (LineClient b = new LineClient(listener.port())) {
                b.expect("-ERR too many connections");
                b.expectClosed();
            }
        }
    }

    @Test
    void pastTheConnectionLimitAClientIsRefusedAtOnceAndTheIdleOnesStayServedUntilOneLeaves() throws Exception {
        int limit = 3;
        start(TlsMode.NONE, new NetLimits(1024, Duration.ofSeconds(30), limit, 10));
        List<LineClient> idle = new ArrayList<>();
        try {
            for (int i = 0; i < limit; i++) {
                idle.add(new LineClient(listener.port()));
                idle.getLast().expect("\\+OK echo ready");
            }
            long start = System.nanoTime();
            try (LineClient over = new LineClient(listener.port())) {
                over.expect("-ERR too many connections");
                over.expectClosed();
            }
            // from the acceptor, not after the 30 s idle timeout of a session it would have waited for
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the refusal took "
                    + (System.nanoTime() - start) / 1_000_000 + " ms");
            for (int i = 0; i < limit; i++) {
                idle.get(i).send("still " + i).expect("\\+OK still " + i);
            }
            assertEquals(limit, listener.activeConnections());

            idle.removeFirst().close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (listener.activeConnections() == limit) {
                assertTrue(System.nanoTime() < deadline, "the closed connection is still counted");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // the server notices the close on its own thread
            }
            try (LineClient next = new LineClient(listener.port())) {
                next.expect("\\+OK echo ready");
                next.send("served").expect("\\+OK served");
            }
        } finally {
            for (LineClient c : idle) {
                c.close();
            }
        }
    }

    @Test
    void startTlsDropsBytesSentBeforeTheHandshake() throws Exception {
        start(TlsMode.STARTTLS, NetLimits.defaults());
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK echo ready");
            // CVE-2011-0411: a command injected after STARTTLS in the same packet must not run under TLS.
            c.sendRaw("STARTTLS\r\nINJECTED\r\n").expect("\\+OK go ahead");
            c.startTls();
            c.expect("\\+OK tls dropped=10");
            c.send("SECURE").expect("\\+OK secure=true");
        }
    }

    @Test
    void implicitTlsEndpointsHandshakeFirst() throws Exception {
        start(TlsMode.IMPLICIT, NetLimits.defaults());
        try (LineClient c = LineClient.tls(listener.port())) {
            c.expect("\\+OK echo ready");
            c.send("SECURE").expect("\\+OK secure=true");
        }
    }

    /** A plain socket to the listener, past the STARTTLS exchange where {@code mode} has one: the next bytes are TLS. */
    private java.net.Socket readyForTls(TlsMode mode) throws java.io.IOException {
        java.net.Socket raw = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), listener.port());
        raw.setSoTimeout(10_000);
        if (mode == TlsMode.STARTTLS) {
            raw.getInputStream().readNBytes("+OK echo ready\r\n".length());
            raw.getOutputStream().write("STARTTLS\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            raw.getInputStream().readNBytes("+OK go ahead\r\n".length());
        }
        return raw;
    }

    /**
     * Sends a TLS record's {@code header}, then its body a byte each 400 ms (inside a 1 s idle
     * timeout), reading what the server sends until it closes; returns the nanoseconds that took.
     */
    private static long trickledUntilClosed(java.net.Socket raw, byte[] header) throws Exception {
        java.io.OutputStream out = raw.getOutputStream();
        out.write(header);
        long start = System.nanoTime();
        try (Trickle trickle = Trickle.start(text -> {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.flush();
        }, "\u0001", Duration.ofMillis(400))) {
            java.io.InputStream in = raw.getInputStream();
            while (in.read() >= 0) {
                // what the server says (a greeting, session tickets), then the end when it closes
            }
        }
        return System.nanoTime() - start;
    }

    /**
     * A TLS handshake must finish within one idle timeout, as a command line must: each read had
     * only its own timeout, so a ClientHello sent a byte at a time held the connection for hours.
     * For implicit TLS and for STARTTLS alike.
     */
    @Test
    void aTrickledTlsHandshakeIsCutOffAtTheIdleTimeout() throws Exception {
        for (TlsMode mode : new TlsMode[] {TlsMode.IMPLICIT, TlsMode.STARTTLS}) {
            start(mode, new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
            try (java.net.Socket raw = readyForTls(mode)) {
                long took = trickledUntilClosed(raw, new byte[] {0x16, 0x03, 0x01, 0x01, (byte) 0xf4}); // a handshake record of 500 bytes
                assertTrue(took < Duration.ofSeconds(4).toNanos(), mode + ": cut off only after " + took / 1_000_000 + " ms");
            } catch (java.net.SocketException reset) {
                // closed under the client: what is wanted, as long as it came in time (the read above would time out)
            }
            listener.close();
        }
    }

    /**
     * After the handshake, one read under TLS waits for a whole record, and SO_TIMEOUT starts anew
     * with each of its bytes: a record of 16 KiB announced and sent a byte at a time held the
     * connection for weeks. The watchdog ends it soon after the time left to read.
     */
    @Test
    void aTrickledTlsRecordIsCutOffSoonAfterTheIdleTimeout() throws Exception {
        for (TlsMode mode : new TlsMode[] {TlsMode.IMPLICIT, TlsMode.STARTTLS}) {
            start(mode, new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
            try (java.net.Socket raw = readyForTls(mode)) {
                javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) TestTls.clientContext().getSocketFactory()
                        .createSocket(raw, "localhost", listener.port(), false);
                tls.startHandshake();
                long took = trickledUntilClosed(raw, new byte[] {0x17, 0x03, 0x03, 0x40, 0x00}); // application data, 16 KiB
                assertTrue(took < Duration.ofSeconds(6).toNanos(), mode + ": cut off only after " + took / 1_000_000 + " ms");
            } catch (java.net.SocketException reset) {
                // closed under the client: what is wanted, as long as it came in time (the read above would time out)
            }
            listener.close();
        }
    }

    @Test
    void sniChoosesTheCertificateOfTheNameTheClientAsksFor() throws Exception {
        Path[] defaults = TestTls.pemFiles(dir);
        Path other = java.nio.file.Files.createDirectories(dir.resolve("live/mail.other.example"));
        try (var c = TestTls.class.getResourceAsStream("/tls/other-fullchain.pem");
             var k = TestTls.class.getResourceAsStream("/tls/other-privkey.pem")) {
            java.nio.file.Files.copy(c, other.resolve("fullchain.pem"));
            java.nio.file.Files.copy(k, other.resolve("privkey.pem"));
        }
        TlsContext tls = TlsContext.fromPem(defaults[0], defaults[1], dir.resolve("live"));
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), protocol, NetLimits.defaults(), tls);
        assertEquals("CN=mail.other.example", TestTls.presentedSubject(listener.port(), "mail.other.example"));
        assertEquals("CN=localhost", TestTls.presentedSubject(listener.port(), "unknown.example"));
        assertEquals("CN=localhost", TestTls.presentedSubject(listener.port(), null));
    }

    @Test
    void anSniHostsRsaCertificateIsNotOverriddenByAnEcDefault() throws Exception {
        Path defaults = java.nio.file.Files.createDirectories(dir.resolve("default"));
        TestTls.hostFolder(dir, "default", "other-"); // EC P-256, CN=mail.other.example
        TestTls.hostFolder(dir.resolve("live"), "mail.rsa.example", ""); // RSA, CN=localhost
        TlsContext tls = TlsContext.fromPem(defaults.resolve("fullchain.pem"), defaults.resolve("privkey.pem"),
                dir.resolve("live"));
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), protocol, NetLimits.defaults(), tls);
        // The client's first choice is ECDSA, which only the default could serve
        assertEquals("CN=localhost", TestTls.presentedSubject(listener.port(), "mail.rsa.example"));
        assertEquals("CN=mail.other.example", TestTls.presentedSubject(listener.port(), null));
    }

    @Test
    void aCertificatesFolderAloneServesItsFirstCompleteFolderToClientsWithoutAKnownName() throws Exception {
        Path live = dir.resolve("live");
        java.nio.file.Files.createDirectories(live.resolve("a-half-made.example")); // sorts first, has no files
        TestTls.hostFolder(live, "mail.other.example", "other-");
        TestTls.hostFolder(live, "mail.second.example", "");
        TlsContext tls = TlsContext.fromFolder(live);
        assertEquals(live.resolve("mail.other.example/fullchain.pem"), tls.defaultChain());
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), protocol, NetLimits.defaults(), tls);
        assertEquals("CN=localhost", TestTls.presentedSubject(listener.port(), "mail.second.example"));
        assertEquals("CN=mail.other.example", TestTls.presentedSubject(listener.port(), "unknown.example"));
        assertEquals("CN=mail.other.example", TestTls.presentedSubject(listener.port(), null));
    }

    @Test
    void aSilentClientDoesNotBlockOthers() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults());
        try (LineClient silent = new LineClient(listener.port()); LineClient tlsStall = new LineClient(listener.port())) {
            tlsStall.expect("\\+OK echo ready");
            tlsStall.sendRaw("partial line without end");
            for (int i = 0; i < 5; i++) {
                try (LineClient c = new LineClient(listener.port())) {
                    c.expect("\\+OK echo ready");
                    c.send("ping " + i).expect("\\+OK ping " + i);
                }
            }
        }
    }

    @Test
    void aClientThatStopsReadingIsCutOffAfterTheIdleTimeout() throws Exception {
        for (TlsMode mode : new TlsMode[] {TlsMode.NONE, TlsMode.IMPLICIT}) {
            protocol = new EchoProtocol();
            start(mode, new NetLimits(1024, Duration.ofSeconds(1), 10, 10));
            try (LineClient stalled = mode == TlsMode.NONE ? new LineClient(listener.port()) : LineClient.tls(listener.port())) {
                stalled.expect("\\+OK echo ready");
                stalled.send("FLOOD"); // and never read again: the server's write blocks once the buffers are full
                assertTrue(protocol.floodEnded.await(10, TimeUnit.SECONDS), "the blocked write was never ended (" + mode + ")");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (listener.activeConnections() > 0) {
                    assertTrue(System.nanoTime() < deadline, "the stalled connection is still counted");
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                }
            }
            listener.close();
        }
    }

    @Test
    void aShutdownDoesNotWaitItsGraceForAClientThatStoppedReading() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults()); // 300 s idle: only the stop's own limit can end the write
        try (LineClient stalled = new LineClient(listener.port())) {
            stalled.expect("\\+OK echo ready");
            stalled.send("FLOOD");
            assertTrue(protocol.floodStarted.await(10, TimeUnit.SECONDS)); // at work, not waiting for a command
            long start = System.nanoTime();
            listener.shutdown(Duration.ofSeconds(60));
            assertTrue(protocol.floodEnded.await(1, TimeUnit.SECONDS), "the blocked write was ended");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "the stop took its whole grace");
        }
    }

    @Test
    void gracefulShutdownLetsWorkFinishAndSaysGoodbyeToIdleSessions() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults());
        try (LineClient idle = new LineClient(listener.port()); LineClient busy = new LineClient(listener.port())) {
            idle.expect("\\+OK echo ready");
            busy.expect("\\+OK echo ready");
            busy.send("WORK");
            assertTrue(protocol.workStarted.await(10, TimeUnit.SECONDS));
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> listener.shutdown(Duration.ofSeconds(20)));
            idle.expect("-ERR shutting down");
            idle.expectClosed();
            assertEquals(false, stopping.isDone(), "shutdown waits for the session at work");
            protocol.finishWork.countDown();
            busy.expect("\\+OK work done");
            busy.expect("-ERR shutting down");
            busy.expectClosed();
            stopping.get(20, TimeUnit.SECONDS);
            assertEquals(0, listener.activeConnections());
        }
    }

    /** What an account's deletion does to its sessions: one waiting is told at once, one at work after its command. */
    @Test
    void aSessionEndedFromOutsideIsToldNowOrRightAfterItsCommand() throws Exception {
        start(TlsMode.NONE, NetLimits.defaults());
        try (LineClient idle = new LineClient(listener.port())) {
            idle.expect("\\+OK echo ready");
            try (LineClient busy = new LineClient(listener.port())) {
                busy.expect("\\+OK echo ready");
                Connection waiting = protocol.connections.get(0);
                Connection working = protocol.connections.get(1);
                busy.send("WORK");
                assertTrue(protocol.workStarted.await(10, TimeUnit.SECONDS));
                waiting.end("-ERR account deleted");
                waiting.end("-ERR said once");
                working.end("-ERR account deleted");
                idle.expect("-ERR account deleted");
                idle.expectClosed();
                protocol.finishWork.countDown();
                busy.expect("\\+OK work done");
                busy.expect("-ERR account deleted"); // instead of waiting for its next command
                busy.expectClosed();
            }
        }
    }

    @Test
    void aTlsSessionEndedFromOutsideGetsItsGoodbyeInsideTls() throws Exception {
        start(TlsMode.IMPLICIT, NetLimits.defaults());
        try (LineClient c = LineClient.tls(listener.port())) {
            c.expect("\\+OK echo ready");
            c.send("SECURE").expect("\\+OK secure=true");
            protocol.connections.get(0).end("-ERR account deleted");
            c.expect("-ERR account deleted");
            c.expectClosed();
        }
    }
}
