package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineReader;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbound client against a next hop that misbehaves on a real loopback socket. */
class RemoteDeliveryTest {
    @TempDir
    Path dir;
    StoreFixture f;
    ServerSocket mx;
    final CountDownLatch testOver = new CountDownLatch(1);

    @BeforeEach
    void open() throws IOException {
        f = StoreFixture.create(dir);
        mx = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        testOver.countDown();
        mx.close();
        f.close();
    }

    /** Answers up to DATA's 354, then reads nothing more until the test ends. */
    private void stallAfterDataCommand() {
        Thread.ofVirtual().start(() -> {
            try (Socket s = mx.accept()) {
                LineReader in = new LineReader(s.getInputStream(), 8192);
                OutputStream out = s.getOutputStream();
                out.write("220 stalled.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                for (String line; (line = in.readLine()) != null; ) {
                    boolean data = line.equalsIgnoreCase("DATA");
                    out.write((data ? "354 go ahead\r\n" : "250 ok\r\n").getBytes(StandardCharsets.US_ASCII));
                    if (data) {
                        break;
                    }
                }
                testOver.await();
            } catch (IOException | InterruptedException e) {
                // the test is over
            }
        });
    }

    /** Queues {@code message} from bob to {@code to} and claims it, as the queue runner would. */
    private QueuedMessage queued(String to, MessageSpool.Spooled message) throws IOException {
        try {
            f.store().queue().enqueue(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of(to)),
                    Optional.empty(), Optional.empty(), false, false, Instant.now()), message, TestMessages.facts(message));
        } finally {
            message.discard();
        }
        return f.store().queue().claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
    }

    @Test
    void aNextHopThatStopsReadingMidMessageFailsTheAttemptForARetry() throws Exception {
        stallAfterDataCommand();
        QueuedMessage m;
        try (MessageSpool spool = f.store().spool()) {
            spool.write("From: <bob@example.org>\r\nSubject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestMessages.writeRepeated(spool, "more than the socket buffers hold\r\n".getBytes(StandardCharsets.US_ASCII),
                    32L * 1024 * 1024);
            m = queued("carol@stalled.test", spool.finish());
        }
        RemoteDelivery remote = new RemoteDelivery(f.store(),
                new Router(Map.of("stalled.test", new Route("127.0.0.1", mx.getLocalPort())), Optional.empty(), null),
                "mx.example.org", new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1),
                        Duration.ofSeconds(5)));
        long start = System.nanoTime();
        List<RemoteDelivery.Outcome> outcomes = remote.deliver(m, "stalled.test", m.pending());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "the stalled send was cut off");
        assertEquals(1, outcomes.size());
        assertEquals(451, outcomes.getFirst().code(), "a temporary failure, to be retried");
        assertTrue(outcomes.getFirst().reply().contains("read nothing for 1 s"), outcomes.getFirst().reply());
    }

    @Test
    void aDomainThatDoesNotExistIsRefusedAtOnceButAFailingResolverIsRetried() throws Exception {
        QueuedMessage m = queued("carol@nowhere.example", TestMessages.spool(f.store(), "Subject: typo\r\n\r\nx\r\n"));
        try (LocalDnsServer dns = new LocalDnsServer(Map.of())) { // NXDOMAIN for every name
            RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url()),
                    "mx.example.org");
            RemoteDelivery.Outcome nx = remote.deliver(m, "nowhere.example", m.pending()).getFirst();
            assertEquals(550, nx.code(), nx.reply());
            assertTrue(nx.reply().startsWith("550 5.1.2 nowhere.example: no such domain"), nx.reply());
        }
        int closedPort;
        try (java.net.DatagramSocket nobody = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            closedPort = nobody.getLocalPort(); // a resolver address where nothing answers once it is closed
        }
        RemoteDelivery unreachable = new RemoteDelivery(f.store(),
                new Router(Map.of(), Optional.empty(), "dns://127.0.0.1:" + closedPort), "mx.example.org");
        assertEquals(451, unreachable.deliver(m, "nowhere.example", m.pending()).getFirst().code(),
                "no answer from the resolver is a reason to try later, not to bounce");
    }
}
