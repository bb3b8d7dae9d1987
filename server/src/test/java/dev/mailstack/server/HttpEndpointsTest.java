package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.net.AuthThrottle;
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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public HTTP side, spoken to over a raw socket as a hostile or merely odd client would. */
class HttpEndpointsTest {
    @TempDir
    Path dir;
    MailboxStore store;
    HttpEndpoints http;

    @BeforeEach
    void start() throws IOException {
        store = MailboxStore.open(dir.resolve("data"), null);
        store.accounts().addDomain("example.org");
        http = new HttpEndpoints(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), store, "mail.example.org",
                List.of(), new MailCounters(),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC()));
    }

    @AfterEach
    void stop() {
        http.close();
        store.close();
    }

    /** Sends the requests in one write and reads until the server closes (the last one asks it to). */
    private String exchange(String requests) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(requests.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            in.transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * RFC 9110 §9.3.2: HEAD is GET without the content. Any client could make the JDK server log a
     * WARNING per request (a content length given for HEAD) and the handler fail writing the body.
     */
    @Test
    void headGetsTheHeaderOnlyWithoutWarningsAndTheConnectionGoesOn() throws IOException {
        Logger jdk = Logger.getLogger("com.sun.net.httpserver");
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jdk.addHandler(capture);
        try {
            String reply = exchange("HEAD /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String[] parts = reply.split("HTTP/1.1 ", -1);
            assertEquals(3, parts.length, reply);
            assertTrue(parts[1].startsWith("200 ") && parts[1].endsWith("\r\n\r\n"), "HEAD: headers, no body: " + parts[1]);
            assertTrue(parts[2].startsWith("200 ") && parts[2].contains("<clientConfig"), parts[2]);
            assertEquals(List.of(), warnings.stream().map(LogRecord::getMessage).toList());
        } finally {
            jdk.removeHandler(capture);
        }
    }

    /** RFC 9110 §15.5.6: 405 with Allow for a method the resource does not take. */
    @Test
    void otherMethodsGet405WithAllow() throws IOException {
        for (String method : List.of("POST", "PUT", "DELETE")) {
            for (String path : List.of("/mail/config-v1.1.xml?emailaddress=a%40example.org", "/metrics")) {
                String reply = exchange(method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        + "Connection: close\r\n\r\nabc");
                assertTrue(reply.startsWith("HTTP/1.1 405 "), method + " " + path + ": " + reply);
                assertTrue(reply.toLowerCase(java.util.Locale.ROOT).contains("\r\nallow: get, head\r\n"), reply);
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
    }
}
