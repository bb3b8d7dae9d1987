package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TlsContext;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public HTTP side, spoken to over a raw socket as a hostile or merely odd client would. */
class HttpEndpointsTest {
    /** One second to send a request and to idle between requests: the timeout tests wait that long, not ten. */
    static final NetLimits LIMITS = new NetLimits(8192, Duration.ofSeconds(1), HttpEndpoints.MAX_CONNECTIONS,
            HttpEndpoints.MAX_CONNECTIONS_PER_IP, 0, 500);

    @TempDir
    Path dir;
    MailboxStore store;
    HttpEndpoints http;
    int port;

    @BeforeEach
    void start() throws IOException {
        store = MailboxStore.open(dir.resolve("data"), null);
        store.accounts().addDomain("example.org");
        http = new HttpEndpoints(store, "mail.example.org", List.of(), new MailCounters(),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC()),
                Cidr.parseList(ConfigKey.METRICS_NETWORKS.defaultValue()));
        port = http.listen(new Endpoint("http", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), TlsMode.NONE),
                LIMITS, null).port();
    }

    @AfterEach
    void stop() {
        http.close();
        store.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends the requests in one write and reads until the server closes. */
    private String exchange(String requests) throws IOException {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(requests.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readToEnd(s);
        }
    }

    private static String readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        in.transferTo(got);
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    /** One response's header section, read byte by byte so the connection can go on. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        throw new AssertionError("no Content-Length in " + head);
    }

    /** RFC 9110 §9.3.2: HEAD is GET without the content, its length announced; the connection goes on (RFC 9112 §9.3). */
    @Test
    void headGetsTheHeaderOnlyAndPipelinedRequestsAreAnsweredInOrder() throws IOException {
        String reply = exchange("HEAD /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String[] parts = reply.split("HTTP/1.1 ", -1);
        assertEquals(3, parts.length, reply);
        assertTrue(parts[1].startsWith("200 ") && parts[1].endsWith("\r\n\r\n"), "HEAD: headers, no body: " + parts[1]);
        assertTrue(parts[2].startsWith("200 ") && parts[2].contains("<clientConfig"), parts[2]);
        String getBody = parts[2].substring(parts[2].indexOf("\r\n\r\n") + 4);
        assertEquals(getBody.getBytes(StandardCharsets.UTF_8).length, contentLength(parts[1]), "HEAD announces GET's length");
        assertTrue(parts[2].contains("\r\nConnection: close\r\n"), parts[2]);
        assertTrue(parts[1].matches("(?s).*\r\nDate: \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n.*"), parts[1]);
    }

    /** RFC 9110 §15.5.6: 405 with Allow; the request's content is read past, so the next request is understood. */
    @Test
    void otherMethodsGet405WithAllowAndTheirContentIsSkipped() throws IOException {
        for (String method : List.of("POST", "PUT", "DELETE")) {
            for (String path : List.of("/mail/config-v1.1.xml?emailaddress=a%40example.org", "/metrics")) {
                String reply = exchange(method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                        + "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(reply.startsWith("HTTP/1.1 405 "), method + " " + path + ": " + reply);
                assertTrue(reply.toLowerCase(Locale.ROOT).contains("\r\nallow: get, head\r\n"), reply);
                assertTrue(reply.contains("HTTP/1.1 200 OK\r\n") && reply.contains("mailstack_queue_messages"), reply);
            }
        }
    }

    @Test
    void metricsCountTheQueueAndHeldMessages() throws IOException {
        for (String rcpt : List.of("a@remote.test", "b@remote.test")) {
            var spool = store.spool();
            spool.write("Subject: q\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII));
            var m = spool.finish();
            var id = store.queue().enqueue(new dev.mailstack.store.MailEnvelope("a@example.org",
                    List.of(dev.mailstack.store.MailEnvelope.Recipient.of(rcpt)), java.util.Optional.empty(),
                    java.util.Optional.empty(), false, false, java.time.Instant.now()), m,
                    new dev.mailstack.store.MessageFacts(m.size(), 12, 1, new byte[]{1}));
            if (rcpt.startsWith("a")) {
                assertTrue(store.queue().hold(id));
            }
        }
        String metrics = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(metrics.contains("\nmailstack_queue_messages 2\n"), metrics);
        assertTrue(metrics.contains("\nmailstack_queue_held_messages 1\n"), metrics);
        assertTrue(metrics.matches("(?s).*\nmailstack_queue_oldest_age_seconds \\d+\n.*"), metrics);
        assertTrue(metrics.contains("\nmailstack_store_bytes 0\n"), metrics);
        assertTrue(metrics.contains("\nmailstack_connections_active{endpoint=\"http\"} 1\n"), "this request's own: " + metrics);
    }

    /** RFC 9112's framing and grammar: each broken request gets its status and the connection closes. */
    @Test
    void malformedRequestsGetAClearStatusAndTheConnectionCloses() throws IOException {
        record Case(String request, String status) {
        }
        List<Case> cases = List.of(
                new Case("GET /metrics\r\n\r\n", "400"), // HTTP/0.9
                new Case("GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
                new Case("GET /metrics HTTP/1.1\r\n\r\n", "400"), // §3.2: no Host
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "400"),
                new Case("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", "400"), // §5.1: space before the colon
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", "400"), // §5.2 obs-fold
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"),
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "400"),
                new Case("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "413"),
                new Case("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "505"),
                new Case("GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
                new Case("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n", "431"),
                new Case("GET /metrics HTTP/1.1\r\nHost: x\r\n" + "X-A: 1\r\n".repeat(HttpSession.MAX_FIELDS) + "\r\n", "431"),
                new Case("\r\n".repeat(10) + "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
                // RFC 9110 §5.5: only spaces and tabs are OWS; a vertical tab or U+3000 makes the length invalid
                new Case("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\u000b\r\n\r\nabc", "400"),
                new Case("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: \u00e3\u0080\u00803\r\n\r\nabc", "400"),
                new Case("GET /metrics HTTP/1.1\r\nHost: x\rX-Smuggled: 1\r\n\r\n", "400"), // §5.5: CR inside a field
                new Case("GET /metrics HTTP/1.1\r\nHost: a b c\r\n\r\n", "400"), // RFC 9110 §7.2
                new Case("GET http://user@autoconfig.example.org/metrics HTTP/1.1\r\nHost: x\r\n\r\n", "400"));
        for (Case c : cases) {
            String reply = exchange(c.request());
            assertTrue(reply.startsWith("HTTP/1.1 " + c.status() + " "), c.request().lines().findFirst().orElse("") + " -> " + reply);
            assertTrue(reply.contains("\r\nConnection: close\r\n"), reply);
        }
    }

    /**
     * RFC 9110 §10.1.1: a client that waits for 100 Continue gets the final status at once, not
     * a 408 after the request timeout; RFC 9110 §9.3.2: a refusal of HEAD has no content either.
     */
    @Test
    void expectContinueIsAnsweredAtOnceAndAHeadRefusalHasNoContent() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            String reply = readToEnd(s); // the content is never sent: the server must not wait for it
            assertTrue(reply.startsWith("HTTP/1.1 405 ") && reply.contains("Connection: close"), reply);
            assertTrue(System.nanoTime() - start < Duration.ofMillis(900).toNanos(), "answered before the request timeout");
        }
        String head = exchange("HEAD /metrics HTTP/1.1\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 400 ") && head.endsWith("\r\n\r\n") && contentLength(head) > 0, head);
    }

    /**
     * RFC 9112 §9.6: refusing content it will not read, the server closes in stages, reading what
     * the client still sends, so the client's writes end cleanly and it reads the 413 whole,
     * instead of a reset that may destroy the answer first.
     */
    @Test
    void contentRefusedWhileTheClientStillSendsItIsAnsweredAndTheCloseIsClean() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            var sender = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        out.write(new byte[2000]); // 200 KB of the 600 KB, then the client waits for the answer
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            sender.get(10, java.util.concurrent.TimeUnit.SECONDS); // every write went through: nothing was reset
            String reply = readToEnd(s);
            assertTrue(reply.startsWith("HTTP/1.1 413 ") && reply.contains("Connection: close"), reply);
        }
    }

    /** What a server must also take (RFC 9112 §3.2.2 absolute-form, §2.2 a stray empty line), and what it answers 404. */
    @Test
    void absoluteFormsAndAStrayEmptyLineAreServedAndUnknownPathsAre404() throws IOException {
        // §3.2.2: the target's authority stands instead of the Host field
        String reply = exchange("\r\nGET http://autoconfig.example.org/mail/config-v1.1.xml HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n"
                + "GET /.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=b%40nowhere.test HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /favicon.ico HTTP/1.0\r\n\r\n");
        String[] parts = reply.split("HTTP/1.1 ", -1);
        assertEquals(4, parts.length, reply);
        assertTrue(parts[1].startsWith("200 ") && parts[1].contains("<domain>example.org</domain>"), parts[1]);
        assertTrue(parts[2].startsWith("404 "), "not a hosted domain: " + parts[2]);
        assertTrue(parts[3].startsWith("404 ") && parts[3].contains("Connection: close"), "1.0 closes: " + parts[3]);
    }

    /**
     * The endpoint is public (Thunderbird's wizard asks it before any login): one address holding
     * connections open gets no more than its share, and a client elsewhere is still served. With
     * the JDK's server, any client could take all 200.
     */
    @Test
    void oneClientAddressCannotTakeEveryConnection() throws IOException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < HttpEndpoints.MAX_CONNECTIONS_PER_IP; i++) {
                Socket s = connect();
                s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                readHead(s.getInputStream()); // served, and kept open
                held.add(s);
            }
            try (Socket over = connect()) {
                // the refused client's request is read and dropped, not left to reset the 503 away
                OutputStream out = over.getOutputStream();
                out.write("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String refused = readHead(over.getInputStream());
                assertTrue(refused.startsWith("HTTP/1.1 503 ") && refused.contains("Connection: close"), refused);
                for (int i = 0; i < 20; i++) {
                    out.write(new byte[2000]); // on a connection closed at once, a write after the first meets a reset
                    out.flush();
                }
                over.shutdownOutput();
                assertEquals("", readToEnd(over));
            }
            try (Socket other = new Socket()) { // 127.0.0.2 is this machine too (Linux loopback is a /8)
                other.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                other.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                other.setSoTimeout(10_000);
                other.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(readToEnd(other).startsWith("HTTP/1.1 200 "));
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * A client that starts a request and trickles its header fields is cut off when the request's
     * time is up (408), not after each field's own timeout; one idle between requests is closed
     * without a word, as a response nobody asked for would answer its next request (RFC 9112 §9.5).
     */
    @Test
    void aTricklingRequestGets408AndAnIdleConnectionIsClosedSilently() throws Exception {
        try (Socket slow = connect()) {
            OutputStream out = slow.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long started = System.nanoTime();
            byte[] fields = "X-Trickle: 1\r\n".repeat(3).getBytes(StandardCharsets.US_ASCII);
            Thread trickle = Thread.ofVirtual().start(() -> {
                try {
                    for (byte b : fields) { // 4 s of a byte each 100 ms, every field well-formed
                        out.write(b);
                        out.flush();
                        Thread.sleep(100); // the client's pace is what is under test
                    }
                } catch (IOException | InterruptedException closed) {
                    // cut off while still sending: what is wanted
                }
            });
            String reply = readToEnd(slow); // to the server's end of sending, which follows the 408
            long took = System.nanoTime() - started;
            trickle.interrupt();
            trickle.join();
            assertTrue(reply.startsWith("HTTP/1.1 408 "), reply);
            assertTrue(Duration.ofNanos(took).compareTo(Duration.ofSeconds(3)) < 0, "cut at the request's deadline, not per field");
        }
        try (Socket idle = connect()) {
            idle.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = idle.getInputStream();
            String head = readHead(in);
            in.readNBytes(contentLength(head));
            assertEquals(-1, in.read(), "closed after the idle timeout with nothing more sent");
        }
    }

    /**
     * Thunderbird asks https://autoconfig.DOMAIN/ first: the same resources with implicit TLS, on
     * a certificate of the kind `mailstack cert self-signed` makes, and the metrics count the
     * endpoint by its name.
     */
    @Test
    void theSameResourcesAreServedOverTls() throws Exception {
        Path tlsDir = dir.resolve("tls");
        assertEquals(0, Main.run("cert", "self-signed", "--host", "autoconfig.example.org", "--out", tlsDir.toString()));
        TlsContext tls = TlsContext.fromPem(tlsDir.resolve("fullchain.pem"), tlsDir.resolve("privkey.pem"));
        int httpsPort = http.listen(new Endpoint("https", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), LIMITS, tls).port();
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream pem = java.nio.file.Files.newInputStream(tlsDir.resolve("fullchain.pem"))) {
            trust.setCertificateEntry("server", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(pem));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext client = javax.net.ssl.SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);
        try (Socket s = client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), httpsPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\n"
                    + "Host: autoconfig.example.org\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = readToEnd(s);
            assertTrue(reply.startsWith("HTTP/1.1 200 ") && reply.contains("<domain>example.org</domain>"), reply);
            assertTrue(reply.contains("\nmailstack_connections_active{endpoint=\"https\"} 1\n")
                    && reply.contains("\nmailstack_connections_active{endpoint=\"http\"} 0\n"), reply);
        }
    }

    /**
     * Mutated requests (bytes flipped, dropped, repeated, cut short), 300 of them from 20 client
     * addresses at once: each connection ends with a well-formed response or a clean close,
     * within the request deadline, never a hang; and the endpoint still serves a good request.
     */
    @Test
    void mutatedRequestsGetAnAnswerOrACloseAndNeverAHang() throws Exception {
        byte[] good = ("GET /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\nHost: autoconfig.example.org\r\n"
                + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        java.util.Random random = new java.util.Random(20261207);
        List<byte[]> requests = new ArrayList<>();
        for (int round = 0; round < 300; round++) {
            java.io.ByteArrayOutputStream mutated = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < good.length; i++) {
                int dice = random.nextInt(100);
                if (dice < 3) {
                    mutated.write(random.nextInt(256)); // a byte changed
                } else if (dice < 5) {
                    continue; // a byte dropped
                } else if (dice < 6) {
                    mutated.write(good, i, Math.min(good.length - i, 1 + random.nextInt(20))); // a run repeated
                    mutated.write(good[i]);
                } else {
                    mutated.write(good[i]);
                }
            }
            byte[] request = mutated.toByteArray();
            requests.add(random.nextInt(10) == 0 ? java.util.Arrays.copyOf(request, random.nextInt(request.length + 1)) : request);
        }
        List<String> wrong = new java.util.concurrent.CopyOnWriteArrayList<>();
        // a session that fails on an exception is logged at ERROR (SEVERE) and closed: a crash all the same
        java.util.logging.Logger ours = java.util.logging.Logger.getLogger("dev.mailstack");
        java.util.logging.Handler errors = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) {
                    wrong.add("logged: " + r.getMessage() + " " + r.getThrown());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        ours.addHandler(errors);
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        try (var workers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 20; w++) {
                InetAddress from = InetAddress.getByName("127.0.1." + (w + 1)); // loopback: a client address each
                List<byte[]> mine = requests.subList(w * 15, w * 15 + 15);
                done.add(workers.submit(() -> {
                    for (byte[] request : mine) {
                        try (Socket s = new Socket()) {
                            s.bind(new InetSocketAddress(from, 0));
                            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                            s.setSoTimeout(5_000); // the request deadline is 1 s here, the idle close 1 s more
                            s.getOutputStream().write(request);
                            s.getOutputStream().flush();
                            String reply = readToEnd(s);
                            if (reply.startsWith("HTTP/1.1 ")) {
                                answered.incrementAndGet();
                            } else if (!reply.isEmpty()) {
                                wrong.add(new String(request, StandardCharsets.ISO_8859_1) + " -> " + reply);
                            }
                        } catch (java.net.ConnectException refused) {
                            wrong.add(new String(request, StandardCharsets.ISO_8859_1) + " -> connection refused: " + refused);
                        } catch (java.net.SocketTimeoutException hang) {
                            wrong.add(new String(request, StandardCharsets.ISO_8859_1) + " -> no end within 5 s");
                        } catch (IOException reset) {
                            // closed before all was sent or read: an answer of sorts, and no hang
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(); // a worker that failed on something unexpected fails the test
            }
        } finally {
            ours.removeHandler(errors);
        }
        assertEquals(List.of(), wrong);
        // most mutated requests still get an HTTP answer, if only a 400 or a 408: 285 of 300 with this seed
        assertTrue(answered.get() >= 250, answered.get() + " of 300 answered");
        String after = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(after.startsWith("HTTP/1.1 200 "), after);
    }

    /** http.metrics_networks: /metrics for the networks named (this machine by default), 403 for others; autoconfig for all. */
    @Test
    void metricsAreOnlyForTheNetworksNamed() throws Exception {
        try (HttpEndpoints narrow = new HttpEndpoints(store, "mail.example.org", List.of(), new MailCounters(),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC()),
                Cidr.parseList("127.0.0.1/32"))) {
            int narrowPort = narrow.listen(new Endpoint("http", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    TlsMode.NONE), LIMITS, null).port();
            assertTrue(getFrom("127.0.0.1", narrowPort, "/metrics").startsWith("HTTP/1.1 200 "));
            String refused = getFrom("127.0.0.2", narrowPort, "/metrics");
            assertTrue(refused.startsWith("HTTP/1.1 403 ") && !refused.contains("mailstack_"), refused);
            assertTrue(getFrom("127.0.0.2", narrowPort, "/mail/config-v1.1.xml?emailaddress=a%40example.org")
                    .startsWith("HTTP/1.1 200 "));
        }
    }

    /** A GET of {@code path} from the local address {@code from} (Linux's loopback is a /8), read to its end. */
    private static String getFrom(String from, int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return readToEnd(s);
        }
    }
}
