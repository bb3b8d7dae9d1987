package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineReader;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MessageFacts;
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
import java.util.ArrayList;
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
    /** Mail exchangers on further loopback addresses, for tests that need more than one host. */
    final List<ServerSocket> exchangers = new java.util.ArrayList<>();
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
        for (ServerSocket s : exchangers) {
            s.close();
        }
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
                "mx.example.org", new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1),
                        Duration.ofSeconds(5)), 20);
        long start = System.nanoTime();
        List<RemoteDelivery.Outcome> outcomes = remote.deliver(m, "stalled.test", m.pending());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "the stalled send was cut off");
        assertEquals(1, outcomes.size());
        assertEquals(451, outcomes.getFirst().code(), "a temporary failure, to be retried");
        assertTrue(outcomes.getFirst().reply().contains("read nothing for 1 s"), outcomes.getFirst().reply());
        assertEquals(Optional.empty(), outcomes.getFirst().said(), "our account of the failure, no reply of the host's");
    }

    /**
     * A tarpit: each line of its greeting comes within the reply's time, but the greeting never
     * ends. The whole reply must come within that time (RFC 5321 §4.5.3.2), or the attempt (and its
     * lease, renewed all along) is held for ever.
     */
    @Test
    void aReplyTrickledLineByLineIsCutOffAtItsTimeLimit() throws Exception {
        peer((in, out, socket) -> {
            try {
                while (!testOver.await(300, TimeUnit.MILLISECONDS)) { // a line each 300 ms, inside the 1 s limit
                    say(out, "220-peer.test still greeting");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        QueuedMessage m = queuedTo("carol@peer.test");
        RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of("peer.test",
                new Route("127.0.0.1", mx.getLocalPort())), Optional.empty(), null), "mx.example.org",
                new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(5),
                        Duration.ofSeconds(5)), 20);
        java.util.concurrent.CompletableFuture<List<RemoteDelivery.Outcome>> attempt =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> remote.deliver(m, "peer.test", m.pending()));
        List<RemoteDelivery.Outcome> outcomes = attempt.get(10, TimeUnit.SECONDS);
        assertEquals(451, outcomes.getFirst().code(), "a temporary failure, to be retried: " + outcomes);
        assertTrue(outcomes.getFirst().reply().contains("more than 1 s to finish its reply"), outcomes.getFirst().reply());
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

    @Test
    void aHostDnsHasNoAddressForIsRefusedButOneWhoseLookupFailsIsRetried() throws Exception {
        QueuedMessage m = queuedTo("carol@bare.test");
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                // exists (a TXT record), but has neither MX nor address: its implicit MX is unusable
                "bare.test", List.of(new LocalDnsServer.Txt("v=spf1 -all")),
                "dead.test", mxRecords("gone.dead.test"), // an MX host DNS has no name for
                "flaky.test", mxRecords("mx.flaky.test"),
                "mx.flaky.test", List.of(new LocalDnsServer.ServFail())));
             RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url(),
                     mx.getLocalPort()), "mx.example.org")) {
            RemoteDelivery.Outcome bare = remote.deliver(m, "bare.test", m.pending()).getFirst();
            assertEquals(550, bare.code(), bare.reply());
            assertTrue(bare.reply().startsWith("550 5.4.4 bare.test: no such host"), bare.reply());
            RemoteDelivery.Outcome dead = remote.deliver(m, "dead.test", m.pending()).getFirst();
            assertEquals(550, dead.code(), dead.reply());
            assertTrue(dead.reply().startsWith("550 5.4.4 gone.dead.test: no such host"), dead.reply());
            RemoteDelivery.Outcome flaky = remote.deliver(m, "flaky.test", m.pending()).getFirst();
            assertEquals(451, flaky.code(), "a lookup that failed is worth a retry: " + flaky.reply());
            assertTrue(flaky.reply().startsWith("451 4.4.3 mx.flaky.test: address lookup failed"), flaky.reply());
        }
    }

    @Test
    void aNextHopThatIsThisServerIsALoopNotARelayRefusal() throws Exception {
        // the MX points back here (a domain missing from the local domains): our own greeting; then a
        // static route to a server that greets with another name but answers EHLO with ours
        peer((in, out, socket) -> {
                    say(out, "220 mx.example.org ESMTP mailstack");
                    in.readLine(); // QUIT
                },
                (in, out, socket) -> {
                    say(out, "220 ready");
                    in.readLine(); // EHLO
                    say(out, "250-MX.example.org hello");
                    say(out, "250 PIPELINING");
                    in.readLine(); // QUIT
                });
        QueuedMessage m = queuedTo("carol@loop.test");
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("loop.test", mxRecords("127.0.0.1")));
             RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url(),
                     mx.getLocalPort()), "mx.example.org")) {
            RemoteDelivery.Outcome loop = remote.deliver(m, "loop.test", m.pending()).getFirst();
            assertEquals("554 5.4.6 mail for 127.0.0.1 loops back to myself (it greeted us with my own name mx.example.org)",
                    loop.reply());
        }
        // a next hop the configuration names is the administrator's to fix: the mail waits
        RemoteDelivery.Outcome configured = toPeer(TlsPolicy.MAY).deliver(m, "peer.test", m.pending()).getFirst();
        assertEquals(451, configured.code(), configured.reply());
        assertTrue(configured.reply().startsWith("451 4.3.5 mail for 127.0.0.1:" + mx.getLocalPort() + ", the next hop"
                + " configured in queue.relay_host or queue.static_routes, loops back to myself (it answered EHLO"),
                configured.reply());
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.contains("MAIL")), "" + transcript);
        assertEquals(List.of("1: QUIT", "2: EHLO mx.example.org", "2: QUIT"), transcript);
    }

    @Test
    void aConfiguredNextHopWithNoAddressDefersInsteadOfBouncing() throws Exception {
        QueuedMessage m = queuedTo("carol@peer.test");
        try (LocalDnsServer dns = new LocalDnsServer(Map.of())) { // NXDOMAIN for every name
            RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of("peer.test",
                    new Route("relay.gone.test", 2525)), Optional.empty(), dns.url()), "mx.example.org");
            RemoteDelivery.Outcome o = remote.deliver(m, "peer.test", m.pending()).getFirst();
            assertEquals(451, o.code(), "a typo in the configuration must not bounce every message: " + o.reply());
            assertTrue(o.reply().startsWith("451 4.3.5 relay.gone.test:2525, the next hop configured in"), o.reply());
            RemoteDelivery viaRelay = new RemoteDelivery(f.store(), new Router(Map.of(),
                    Optional.of(new Route("smart.gone.test", 587)), dns.url()), "mx.example.org");
            RemoteDelivery.Outcome relayed = viaRelay.deliver(m, "elsewhere.test", m.pending()).getFirst();
            assertTrue(relayed.reply().startsWith("451 4.3.5 smart.gone.test:587, the next hop configured in"), relayed.reply());
        }
    }

    /** One scripted connection of a peer: reads the client's lines and answers as the test wants. */
    private interface Script {
        void run(PeerInput in, OutputStream out, Socket socket) throws IOException;
    }

    /** The peer's reading side, noting each line in the transcript. */
    private final class PeerInput {
        private final LineReader in;
        private final int connection;

        PeerInput(LineReader in, int connection) {
            this.in = in;
            this.connection = connection;
        }

        String readLine() throws IOException {
            String line = in.readLine();
            transcript.add(connection + ": " + line);
            return line;
        }
    }

    /** What the peer read, connection by connection ("1: EHLO ..."). */
    private final List<String> transcript = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    private volatile CountDownLatch peerDone;

    /** Serves one connection per script, in order, on {@link #mx}. */
    private void peer(Script... scripts) {
        CountDownLatch done = new CountDownLatch(1);
        peerDone = done;
        Thread.ofVirtual().start(() -> {
            for (int i = 0; i < scripts.length; i++) {
                try (Socket s = mx.accept()) {
                    scripts[i].run(new PeerInput(new LineReader(s.getInputStream(), 8192), i + 1), s.getOutputStream(), s);
                } catch (IOException e) {
                    transcript.add("peer: " + e);
                }
            }
            done.countDown();
        });
    }

    /** Until the peer has served every script: what it read is then all in the transcript. */
    private void awaitPeer() throws InterruptedException {
        assertTrue(peerDone.await(10, TimeUnit.SECONDS), "the peer is still waiting: " + transcript);
    }

    private static void say(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Greeting and EHLO with these extensions. */
    private static void hello(PeerInput in, OutputStream out, String... extensions) throws IOException {
        say(out, "220 peer.test ESMTP");
        in.readLine();
        String[] lines = new String[extensions.length + 1];
        lines[0] = "peer.test";
        System.arraycopy(extensions, 0, lines, 1, extensions.length);
        for (int i = 0; i < lines.length; i++) {
            say(out, "250" + (i < lines.length - 1 ? "-" : " ") + lines[i]);
        }
    }

    /**
     * A pipelining peer that answers nothing until DATA arrives (a client that waits for each
     * reply would stall here), then every command at once: recipients in {@code refused} get 550.
     */
    private Script pipeliningPeer(java.util.Set<String> refused, boolean dataDespiteNoRecipient) {
        return (in, out, socket) -> {
            hello(in, out, "PIPELINING", "8BITMIME");
            List<String> batch = new java.util.ArrayList<>();
            for (String line; !(line = in.readLine()).equals("DATA"); ) {
                batch.add(line);
            }
            boolean any = false;
            for (String command : batch) {
                boolean refuse = refused.stream().anyMatch(command::contains);
                any |= command.startsWith("RCPT") && !refuse;
                say(out, refuse ? "550 5.1.1 no such user" : "250 ok");
            }
            if (!any && !dataDespiteNoRecipient) {
                say(out, "554 5.5.1 no valid recipients");
            } else {
                say(out, "354 go ahead");
                boolean empty = true;
                for (String line; !(line = in.readLine()).equals("."); ) {
                    empty = false;
                }
                say(out, empty && !any ? "554 5.5.1 no valid recipients" : "250 2.0.0 queued as 1");
            }
            in.readLine(); // QUIT
            say(out, "221 bye");
        };
    }

    private QueuedMessage queuedTo(String... recipients) throws IOException {
        return queued(false, "From: <bob@example.org>\r\nSubject: out\r\n\r\nbody\r\n", recipients);
    }

    private QueuedMessage queued(boolean smtpUtf8, String text, String... recipients) throws IOException {
        MessageSpool.Spooled message = TestMessages.spool(f.store(), text);
        try {
            f.store().queue().enqueue(new MailEnvelope("bob@example.org",
                    java.util.Arrays.stream(recipients).map(MailEnvelope.Recipient::of).toList(),
                    Optional.empty(), Optional.empty(), smtpUtf8, false, Instant.now()), message, TestMessages.facts(message));
        } finally {
            message.discard();
        }
        return f.store().queue().claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
    }

    private RemoteDelivery toPeer(TlsPolicy tls) {
        return new RemoteDelivery(f.store(), new Router(Map.of("peer.test", new Route("127.0.0.1", mx.getLocalPort())),
                Optional.empty(), null, 25, Map.of("peer.test", tls)), "mx.example.org",
                new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5),
                        Duration.ofSeconds(5)), 20);
    }

    private static List<Integer> codes(List<RemoteDelivery.Outcome> outcomes) {
        return outcomes.stream().map(RemoteDelivery.Outcome::code).toList();
    }

    @Test
    void theEnvelopeIsPipelinedAndEachRecipientKeepsItsOwnReply() throws Exception {
        peer(pipeliningPeer(java.util.Set.of("ghost@peer.test"), false));
        QueuedMessage m = queuedTo("carol@peer.test", "ghost@peer.test");
        List<RemoteDelivery.Outcome> outcomes;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            outcomes = remote.deliver(m, "peer.test", m.pending());
        }
        assertEquals(List.of(250, 550), codes(outcomes), "" + outcomes);
        awaitPeer();
        assertTrue(outcomes.get(1).reply().contains("5.1.1"), outcomes.get(1).reply());
        assertEquals(Optional.of(new RemoteDelivery.HostReply("127.0.0.1", outcomes.get(1).reply())), outcomes.get(1).said(),
                "the host's own reply (RFC 3464 §2.3.5)");
        assertTrue(transcript.containsAll(List.of("1: MAIL FROM:<bob@example.org>", "1: RCPT TO:<carol@peer.test>",
                "1: RCPT TO:<ghost@peer.test>", "1: DATA", "1: Subject: out")), "" + transcript);
    }

    /** A message queued with BODY=8BITMIME, as a client sent it. */
    private QueuedMessage queuedEightBit(String text, String to) throws IOException {
        MessageSpool.Spooled message = TestMessages.spool(f.store(), text.getBytes(StandardCharsets.UTF_8));
        try (java.io.InputStream in = message.open()) {
            // the real summary: the conversion works from it
            MessageSummary.ParsedMessage p = MessageSummary.parse(in, MimeLimits.defaults());
            f.store().queue().enqueue(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of(to)),
                    Optional.empty(), Optional.empty(), false, true, Instant.now()), message,
                    new MessageFacts(p.size(), p.headerSize(), p.bodyLines(), p.summary().encode()));
        } finally {
            message.discard();
        }
        return f.store().queue().claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
    }

    /** A next hop without 8BITMIME that takes whatever it is sent. */
    private Script sevenBitPeer() {
        return acceptingPeer("PIPELINING", "SIZE");
    }

    /** A next hop with these extensions that takes whatever it is sent. */
    private Script acceptingPeer(String... extensions) {
        return (in, out, socket) -> {
            hello(in, out, extensions);
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("QUIT")) {
                    say(out, "221 bye");
                    return;
                }
                if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message, in the transcript
                    }
                }
                say(out, "250 ok");
            }
        };
    }

    /**
     * RFC 6152 §3: 8-bit mail for a next hop without 8BITMIME goes converted, or not at all: octets
     * the conversion cannot turn into 7 bits (an 8-bit address in a From field) bounce with 5.6.3
     * before any envelope is sent, instead of reaching a server that never agreed to them.
     */
    @Test
    void eightBitMailThatCannotBeMadeSevenBitIsRefusedBeforeTheEnvelope() throws Exception {
        peer(sevenBitPeer(), sevenBitPeer());
        QueuedMessage body = queuedEightBit("From: <bob@example.org>\r\nSubject: body\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n发票已开\r\n", "carol@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            assertEquals(List.of(250), codes(remote.deliver(body, "peer.test", body.pending())), "a body is converted");
        }
        QueuedMessage address = queuedEightBit("From: <jürgen@example.org>\r\nSubject: address\r\n\r\nhallo\r\n",
                "carol@peer.test");
        List<RemoteDelivery.Outcome> outcomes;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            outcomes = remote.deliver(address, "peer.test", address.pending());
        }
        awaitPeer();
        assertEquals(List.of(554), codes(outcomes), "" + outcomes);
        assertTrue(outcomes.getFirst().reply().startsWith("554 5.6.3 "), outcomes.getFirst().reply());
        assertTrue(transcript.stream().noneMatch(l -> l.startsWith("2: MAIL")), "no envelope for it: " + transcript);
        assertTrue(transcript.stream().anyMatch(l -> l.startsWith("1: MAIL FROM:<bob@example.org> SIZE=")), "" + transcript);
        assertTrue(transcript.stream().noneMatch(l -> l.contains("BODY=8BITMIME")), "" + transcript);
        assertTrue(transcript.stream().filter(l -> l.startsWith("1: ")).allMatch(l -> l.chars().allMatch(c -> c < 0x80)),
                "the converted message is 7-bit: " + transcript);
    }

    /** The refusal is this host's, not the domain's: the next MX, with 8BITMIME, takes the message. */
    @Test
    void eightBitMailOneHostCannotTakeGoesToTheNextMx() throws Exception {
        peer(sevenBitPeer());
        ServerSocket second = new ServerSocket(mx.getLocalPort(), 5, InetAddress.getByAddress(new byte[]{127, 0, 0, 2}));
        exchangers.add(second);
        CountDownLatch secondDone = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try (Socket s = second.accept()) {
                acceptingPeer("PIPELINING", "8BITMIME").run(new PeerInput(new LineReader(s.getInputStream(), 8192), 2),
                        s.getOutputStream(), s);
            } catch (IOException e) {
                transcript.add("second: " + e);
            }
            secondDone.countDown();
        });
        QueuedMessage m = queuedEightBit("From: <jürgen@example.org>\r\nSubject: address\r\n\r\nhallo\r\n", "carol@two.test");
        List<RemoteDelivery.Outcome> outcomes;
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("two.test", mxRecords("127.0.0.1", "127.0.0.2")));
             RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url(),
                     mx.getLocalPort()), "mx.example.org")) {
            outcomes = remote.deliver(m, "two.test", m.pending());
        }
        awaitPeer();
        assertTrue(secondDone.await(10, TimeUnit.SECONDS), "" + transcript);
        assertEquals(List.of(250), codes(outcomes), "" + outcomes);
        assertTrue(transcript.stream().noneMatch(l -> l.startsWith("1: MAIL")), "" + transcript);
        assertTrue(transcript.stream().anyMatch(l -> l.startsWith("2: MAIL FROM:<bob@example.org>") && l.contains("BODY=8BITMIME")),
                "" + transcript);
    }

    @Test
    void aServerThatTakesDataWithNoRecipientGetsAnEmptyMessage() throws Exception {
        peer(pipeliningPeer(java.util.Set.of("RCPT"), true));
        QueuedMessage m = queuedTo("a@peer.test", "b@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            assertEquals(List.of(550, 550), codes(remote.deliver(m, "peer.test", m.pending())));
        }
        awaitPeer();
        int data = transcript.indexOf("1: DATA");
        assertEquals("1: .", transcript.get(data + 1), "the message itself is not sent: " + transcript);
    }

    @Test
    void aFailedHandshakeIsRetriedWithoutTlsUnderMayButNotUnderEncrypt() throws Exception {
        Script brokenTls = (in, out, socket) -> {
            hello(in, out, "STARTTLS", "PIPELINING");
            in.readLine(); // STARTTLS
            say(out, "220 go ahead");
            say(out, "this is not a TLS record");
        };
        peer(brokenTls, pipeliningPeer(java.util.Set.of(), false));
        QueuedMessage m = queuedTo("carol@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
        }
        awaitPeer();
        assertTrue(transcript.contains("1: STARTTLS") && transcript.contains("2: MAIL FROM:<bob@example.org>")
                && !transcript.contains("2: STARTTLS"), "plaintext on the second connection: " + transcript);

        transcript.clear();
        peer(brokenTls);
        RemoteDelivery.Outcome refused = toPeer(TlsPolicy.ENCRYPT).deliver(m, "peer.test", m.pending()).getFirst();
        assertEquals(451, refused.code());
        assertTrue(refused.reply().startsWith("451 4.7.5 ") && refused.reply().contains("TLS handshake failed"),
                refused.reply());
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.contains("MAIL")), "" + transcript);
    }

    @Test
    void encryptRefusesAServerThatOffersNoStartTls() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out, "PIPELINING");
            in.readLine(); // QUIT
        });
        QueuedMessage m = queuedTo("carol@peer.test");
        RemoteDelivery.Outcome o = toPeer(TlsPolicy.ENCRYPT).deliver(m, "peer.test", m.pending()).getFirst();
        assertEquals(451, o.code());
        assertTrue(o.reply().startsWith("451 4.7.4 ") && o.reply().contains("does not offer STARTTLS"), o.reply());
        awaitPeer();
        assertTrue(transcript.contains("1: QUIT"), "" + transcript);
        assertTrue(transcript.stream().noneMatch(l -> l.contains("MAIL")), "" + transcript);
    }

    @Test
    void aRefusedGreetingIsRetriedLaterUnlessEveryHostRefusesForGood() throws Exception {
        peer((in, out, socket) -> say(out, "421 4.3.2 busy, try later"),
                (in, out, socket) -> say(out, "554 5.7.1 no mail from you"));
        QueuedMessage m = queuedTo("carol@peer.test");
        RemoteDelivery.Outcome busy = toPeer(TlsPolicy.MAY).deliver(m, "peer.test", m.pending()).getFirst();
        assertEquals(451, busy.code(), busy.reply());
        assertTrue(busy.reply().contains("421 4.3.2 busy"), busy.reply());
        RemoteDelivery.Outcome refused = toPeer(TlsPolicy.MAY).deliver(m, "peer.test", m.pending()).getFirst();
        assertEquals(554, refused.code(), refused.reply());
        assertEquals(Optional.of(new RemoteDelivery.HostReply("127.0.0.1", "554 5.7.1 no mail from you")), refused.said(),
                "the greeting as it came, without the words that say it was the greeting: " + refused.reply());
    }

    @Test
    void theRelayHostLoginGoesInsideStartTlsAndAWrongPasswordWaitsForARetry() throws Exception {
        try (dev.mailstack.mta.MtaFixture relay = dev.mailstack.mta.MtaFixture.create(dir.resolve("relay"))) {
            Route submission = new Route("127.0.0.1", relay.submission.port()).with(TlsPolicy.ENCRYPT);
            QueuedMessage m = queuedTo("alice@example.org");
            // the relay's certificate is the test one: trusted, as the login asks (CertificateVerificationTest)
            NextHopTrust trust = NextHopTrust.fromPem(dev.mailstack.net.TestTls.pemFiles(
                    java.nio.file.Files.createDirectories(dir.resolve("ca")))[0]);
            RemoteDelivery wrong = new RemoteDelivery(f.store(), new Router(Map.of(),
                    Optional.of(submission.with(new RelayLogin("alice@example.org", "wrong"))), null, 25, Map.of(), trust),
                    "out.example.org"); // the relay is mx.example.org
            RemoteDelivery.Outcome refused = wrong.deliver(m, "example.org", m.pending()).getFirst();
            assertEquals(451, refused.code(), "a bad password must not bounce the queue: " + refused.reply());
            assertTrue(refused.reply().contains("refused our login (535"), refused.reply());

            RemoteDelivery right = new RemoteDelivery(f.store(), new Router(Map.of(),
                    Optional.of(submission.with(new RelayLogin("alice@example.org", StoreFixture.PASSWORD))), null, 25,
                    Map.of(), trust), "out.example.org");
            RemoteDelivery.Outcome sent = right.deliver(m, "example.org", m.pending()).getFirst();
            assertEquals(250, sent.code(), sent.reply());
            relay.awaitMessages(relay.alice(), dev.mailstack.store.MailboxName.INBOX, 1);
            var ref = relay.alice().select(dev.mailstack.store.MailboxName.INBOX).messages().getFirst();
            try (var in = relay.alice().openContent(ref)) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(text.contains("with ESMTPSA"), "submitted over TLS with a login: " + text);
            }
        }
    }

    @Test
    void messagesInABurstShareOneSessionCheckedWithRset() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out, "PIPELINING");
            for (String line; !(line = in.readLine()).equals("QUIT"); ) {
                if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                    say(out, "250 2.0.0 queued");
                } else {
                    say(out, "250 ok");
                }
            }
            say(out, "221 bye");
        });
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            for (int i = 0; i < 3; i++) {
                QueuedMessage m = queuedTo("carol" + i + "@peer.test");
                assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
                f.store().queue().record(m.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));
            }
        }
        awaitPeer();
        assertEquals(3, transcript.stream().filter(l -> l.startsWith("1: MAIL FROM")).count(), "" + transcript);
        assertEquals(2, transcript.stream().filter(l -> l.equals("1: RSET")).count(), "checked before each reuse");
        assertTrue(transcript.getLast().equals("1: QUIT") && transcript.stream().noneMatch(l -> l.startsWith("2:")),
                "one connection, closed with QUIT when the delivery closes: " + transcript);
    }

    /** Takes one message, then reads QUIT, says it did, and answers when {@code answer} opens (or never). */
    private Script quitAnsweredWhen(CountDownLatch quitRead, CountDownLatch answer) {
        return (in, out, socket) -> {
            hello(in, out);
            for (String line; !(line = in.readLine()).equals("QUIT"); ) {
                if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                }
                say(out, line.equals("DATA") ? "250 2.0.0 queued" : "250 ok");
            }
            quitRead.countDown();
            try {
                answer.await();
            } catch (InterruptedException e) {
                return;
            }
            say(out, "221 bye");
            transcript.add(in.readLine() == null ? "closed after the 221" : "more after QUIT");
        };
    }

    private RemoteDelivery deliveredOne(SmtpTimeouts timeouts) throws IOException {
        RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of("peer.test",
                new Route("127.0.0.1", mx.getLocalPort())), Optional.empty(), null), "mx.example.org", timeouts, 20);
        QueuedMessage m = queuedTo("carol@peer.test");
        assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
        f.store().queue().record(m.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));
        return remote;
    }

    @Test
    void closingASessionWaitsForTheReplyToQuitButNotForever() throws Exception {
        CountDownLatch quitRead = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        peer(quitAnsweredWhen(quitRead, answer));
        RemoteDelivery remote = deliveredOne(new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5)));
        Thread closing = Thread.ofVirtual().start(remote::close);
        assertTrue(quitRead.await(10, TimeUnit.SECONDS), "no QUIT: " + transcript);
        assertFalse(closing.join(Duration.ofMillis(500)), "RFC 5321 §4.1.1.10: the client waits for the 221");
        answer.countDown();
        assertTrue(closing.join(Duration.ofSeconds(5)), "closed once the 221 came");
        awaitPeer();
        assertTrue(transcript.contains("closed after the 221"), "" + transcript);

        // a server that never answers QUIT: the wait ends with the connect time limit, 1 s here
        CountDownLatch silentQuitRead = new CountDownLatch(1);
        peer(quitAnsweredWhen(silentQuitRead, testOver));
        RemoteDelivery silent = deliveredOne(new SmtpTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5)));
        Thread closingSilent = Thread.ofVirtual().start(silent::close);
        assertTrue(silentQuitRead.await(10, TimeUnit.SECONDS), "no QUIT: " + transcript);
        assertTrue(closingSilent.join(Duration.ofSeconds(4)), "closed without a 221 after at most the connect time limit");
    }

    @Test
    void aSessionTheServerClosedMeanwhileIsReplacedByANewOne() throws Exception {
        Script oneMessageThenHangUp = (in, out, socket) -> {
            hello(in, out);
            for (String line; !(line = in.readLine()).equals("."); ) {
                say(out, line.equals("DATA") ? "354 go ahead" : line.startsWith("MAIL") || line.startsWith("RCPT")
                        ? "250 ok" : "");
                if (line.equals("DATA")) {
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                    say(out, "250 2.0.0 queued");
                    return; // hangs up without a word, as an idle timeout does
                }
            }
        };
        peer(oneMessageThenHangUp, oneMessageThenHangUp);
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            for (int i = 0; i < 2; i++) {
                QueuedMessage m = queuedTo("dave" + i + "@peer.test");
                assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
                f.store().queue().record(m.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));
            }
        }
        awaitPeer();
        assertTrue(transcript.contains("2: MAIL FROM:<bob@example.org>"), "a second connection: " + transcript);
    }

    @Test
    void smtpUtf8IsAskedOfTheNextHopOnlyWhenTheMessageNeedsIt() throws Exception {
        peer(pipeliningPeer(java.util.Set.of(), false));
        QueuedMessage ascii = queued(true, "Subject: plain\r\n\r\nbody\r\n", "carol@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            assertEquals(List.of(250), codes(remote.deliver(ascii, "peer.test", ascii.pending())), "" + transcript);
        }
        awaitPeer();
        assertTrue(transcript.contains("1: MAIL FROM:<bob@example.org>"), "no SMTPUTF8 for ASCII mail: " + transcript);
        f.store().queue().record(ascii.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));

        transcript.clear();
        peer(pipeliningPeer(java.util.Set.of(), false));
        QueuedMessage utf8 = queued(true, "Subject: 测试\r\n\r\nbody\r\n", "carol@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            RemoteDelivery.Outcome o = remote.deliver(utf8, "peer.test", utf8.pending()).getFirst();
            assertEquals(553, o.code(), "a UTF-8 header cannot go to a hop without SMTPUTF8 (RFC 6531 §3.2): " + o.reply());
        }
    }

    @Test
    void aUtf8AddressGoesWithSmtpUtf8EvenWhenTheEnvelopeWasQueuedWithout() throws Exception {
        // a report to, or a forward from, an internationalized address: queued without the flag before
        peer(acceptingPeer("SMTPUTF8"));
        QueuedMessage m = queued(false, "Subject: plain\r\n\r\nbody\r\n", "jörg@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
        }
        awaitPeer();
        assertTrue(transcript.contains("1: MAIL FROM:<bob@example.org> SMTPUTF8"), "RFC 6531 §3.4: " + transcript);
        f.store().queue().record(m.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));

        transcript.clear();
        peer(acceptingPeer());
        QueuedMessage again = queued(false, "Subject: plain\r\n\r\nbody\r\n", "jörg@peer.test");
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            RemoteDelivery.Outcome o = remote.deliver(again, "peer.test", again.pending()).getFirst();
            assertEquals(553, o.code(), "no UTF-8 RCPT to a hop without SMTPUTF8: " + o.reply());
        }
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.startsWith("1: RCPT")), "" + transcript);
    }

    /**
     * Mail exchangers on 127.0.0.1, 127.0.0.2, ... (all of 127/8 is loopback), on one port as MX
     * hosts share one: each greets every connection with {@code greeting} and hangs up, noting in
     * {@code reached} the address it was reached on before it says a word. Returns the port.
     */
    private int exchangers(int count, String greeting, List<String> reached) throws IOException {
        int port = 0;
        for (int i = 1; i <= count; i++) {
            ServerSocket s = new ServerSocket(port, 5, InetAddress.getByAddress(new byte[]{127, 0, 0, (byte) i}));
            exchangers.add(s);
            port = s.getLocalPort();
            Thread.ofVirtual().start(() -> {
                while (true) {
                    try (Socket c = s.accept()) {
                        reached.add(c.getLocalAddress().getHostAddress());
                        say(c.getOutputStream(), greeting);
                    } catch (IOException e) {
                        return; // the test is over
                    }
                }
            });
        }
        return port;
    }

    /** MX records for {@code hosts}, most preferred first (distinct preferences: no shuffling). */
    private static List<LocalDnsServer.Mx> mxRecords(String... hosts) {
        List<LocalDnsServer.Mx> records = new java.util.ArrayList<>();
        for (int i = 0; i < hosts.length; i++) {
            records.add(new LocalDnsServer.Mx(10 * (i + 1), hosts[i] + "."));
        }
        return records;
    }

    @Test
    void atMostFiveAddressesAreTriedInOneDeliveryAndTheRestWaitForTheRetry() throws Exception {
        List<String> reached = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        int port = exchangers(7, "421 4.3.2 busy, try later", reached);
        QueuedMessage m = queuedTo("carol@many.test");
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("many.test", mxRecords("127.0.0.1", "127.0.0.2", "127.0.0.3",
                "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7")));
             RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url(), port),
                     "mx.example.org")) {
            RemoteDelivery.Outcome busy = remote.deliver(m, "many.test", m.pending()).getFirst();
            assertEquals(451, busy.code(), "deferred, not refused: " + busy.reply());
            assertTrue(busy.reply().contains("421 4.3.2 busy"), busy.reply());
        }
        // every host reached said its greeting, and deliver waits for a greeting: the list is complete
        assertEquals(List.of("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"), reached,
                "the five most preferred, in order, and no more (RemoteDelivery.MAX_ADDRESSES)");
    }

    @Test
    void hostsPastTheAddressLimitAreNotLookedUpAndDoNotTurnARefusalIntoADeferral() throws Exception {
        List<String> reached = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        int port = exchangers(6, "554 5.7.1 no mail from you", reached);
        QueuedMessage m = queuedTo("carol@many.test");
        // "::g" stands for an MX host with no address: the JDK refuses the name without asking DNS
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("many.test", mxRecords("127.0.0.1", "127.0.0.2", "127.0.0.3",
                "127.0.0.4", "127.0.0.5", "127.0.0.6", "::g")));
             RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.empty(), dns.url(), port),
                     "mx.example.org")) {
            RemoteDelivery.Outcome refused = remote.deliver(m, "many.test", m.pending()).getFirst();
            assertEquals(554, refused.code(), "every host tried refused for good: " + refused.reply());
            assertTrue(refused.reply().contains("554 5.7.1 no mail from you"), refused.reply());
        }
        assertEquals(5, reached.size(), "" + reached);
    }

    /** Reads a pipelined group up to and including DATA; the commands before DATA. */
    private static List<String> group(PeerInput in) throws IOException {
        List<String> commands = new java.util.ArrayList<>();
        for (String line; !(line = in.readLine()).equals("DATA"); ) {
            commands.add(line);
        }
        return commands;
    }

    /** Answers MAIL, the first of a group, with {@code mail} and each RCPT after it with {@code rcpt}. */
    private static void answer(OutputStream out, List<String> group, String mail, String rcpt) throws IOException {
        say(out, group.getFirst().startsWith("MAIL ") ? mail : "500 5.5.2 out of step");
        for (String command : group.subList(1, group.size())) {
            say(out, command.startsWith("RCPT ") ? rcpt : "500 5.5.2 out of step");
        }
    }

    @Test
    void aPipelinedMailFromTheNextHopRefusesGivesEveryRecipientItsReplyAndTheSessionStaysInStep() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out, "PIPELINING");
            // RFC 2920 §3.1: the server answers every command of the group, the ones a refused MAIL made useless too
            answer(out, group(in), "550 5.7.1 sender refused", "503 5.5.1 need MAIL");
            say(out, "554 5.5.1 no valid recipients");
            say(out, in.readLine().equals("RSET") ? "250 2.0.0 ok" : "500 5.5.2 out of step");
            answer(out, group(in), "452 4.3.1 insufficient system storage", "503 5.5.1 need MAIL");
            say(out, "354 go ahead"); // a lax server takes DATA anyway: the client must close it with an empty message
            say(out, in.readLine().equals(".") ? "554 5.5.1 no valid recipients" : "500 5.5.2 out of step");
            // a 4xx to MAIL on a kept session: that session goes, with QUIT, and a new one is tried
            say(out, in.readLine().equals("QUIT") ? "221 bye" : "500 5.5.2 out of step");
        }, (in, out, socket) -> {
            hello(in, out, "PIPELINING");
            answer(out, group(in), "452 4.3.1 insufficient system storage", "503 5.5.1 need MAIL");
            say(out, "354 go ahead");
            say(out, in.readLine().equals(".") ? "554 5.5.1 no valid recipients" : "500 5.5.2 out of step");
            say(out, in.readLine().equals("RSET") ? "250 2.0.0 ok" : "500 5.5.2 out of step");
            answer(out, group(in), "250 2.1.0 ok", "250 2.1.5 ok");
            say(out, "354 go ahead");
            while (!in.readLine().equals(".")) {
                // the message
            }
            say(out, "250 2.0.0 queued");
            in.readLine(); // QUIT
            say(out, "221 bye");
        });
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            QueuedMessage refused = queuedTo("a@peer.test", "b@peer.test");
            List<RemoteDelivery.Outcome> bounced = remote.deliver(refused, "peer.test", refused.pending());
            assertEquals(List.of(550, 550), codes(bounced), "the sender's refusal bounces every recipient: " + bounced);
            assertTrue(bounced.stream().allMatch(o -> o.reply().equals("550 5.7.1 sender refused")), "" + bounced);

            QueuedMessage full = queuedTo("c@peer.test", "d@peer.test");
            List<RemoteDelivery.Outcome> deferred = remote.deliver(full, "peer.test", full.pending());
            assertEquals(List.of(452, 452), codes(deferred), "a 4xx to MAIL defers every recipient: " + deferred);
            assertTrue(deferred.stream().allMatch(o -> o.reply().startsWith("452 4.3.1")), "" + deferred);

            QueuedMessage fine = queuedTo("e@peer.test", "g@peer.test");
            assertEquals(List.of(250, 250), codes(remote.deliver(fine, "peer.test", fine.pending())), "" + transcript);
        }
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.startsWith("3:") || l.startsWith("peer:")),
                "each reply read by the command it answers: " + transcript);
        assertEquals(List.of("1: RSET", "2: RSET"), transcript.stream().filter(l -> l.endsWith(": RSET")).toList(),
                "" + transcript);
        int data = transcript.indexOf("1: DATA");
        assertEquals("1: RSET", transcript.get(data + 1), "no message after a refused MAIL: " + transcript);
        int second = transcript.subList(data + 1, transcript.size()).indexOf("1: DATA") + data + 1;
        assertEquals(List.of("1: .", "1: QUIT"), transcript.subList(second + 1, second + 3),
                "an empty message closes the DATA taken anyway: " + transcript);
        int third = transcript.indexOf("2: DATA");
        assertEquals("2: .", transcript.get(third + 1), "" + transcript);
        assertTrue(transcript.contains("2: Subject: out") && transcript.getLast().equals("2: QUIT"), "" + transcript);
    }

    /**
     * A next hop without PIPELINING that answers 250 to everything (354 to DATA), except that
     * {@code command} ("MAIL", "RCPT", "DATA" or "." for the end of the data) gets {@code reply};
     * after that it only reads, until the client hangs up.
     */
    private Script answeringWith(String command, String reply) {
        return (in, out, socket) -> {
            hello(in, out);
            for (String line; (line = in.readLine()) != null; ) {
                boolean data = line.equals("DATA");
                if (data && !command.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!(line = in.readLine()).equals(".")) {
                        // the message, in the transcript
                    }
                }
                if (line.startsWith(command) || line.equals("QUIT")) {
                    say(out, line.equals("QUIT") ? "221 bye" : reply);
                    while (in.readLine() != null) {
                        // what the client sends after it, if anything, in the transcript
                    }
                    return;
                }
                say(out, "250 ok");
            }
        };
    }

    /**
     * RFC 5321 §4.2: a reply is three digits, the first 2 to 5, then SP or "-"; §4.3.2: MAIL and
     * RCPT succeed with 2yz only, DATA with 354 only, the end of the data with 2yz only. Anything
     * else is a protocol error: the session ends and the message waits for a retry. It used to
     * be passed on as the recipients' reply, and every code below 400 counted as delivered.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} answered with \"{1}\"")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "MAIL | 199 sure",
        "MAIL | 100 fine",
        "MAIL | 099 fine",
        "MAIL | -12 fine",
        "MAIL | +25 fine",
        "MAIL | 354 go on",
        "MAIL | 2500 ok",
        "MAIL | 260 ok",
        "MAIL | hello",
        "RCPT | 334 what",
        "DATA | 250 ok",
        "DATA | 334 go on",
        "DATA | 220 go on",
        ". | 354 more please",
    })
    void aReplyThatIsNoReplyOrNotTheCommandsIsAProtocolErrorThatDefers(String command, String reply) throws Exception {
        peer(answeringWith(command, reply));
        QueuedMessage m = queuedTo("carol@peer.test");
        RemoteDelivery.Outcome o;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            o = remote.deliver(m, "peer.test", m.pending()).getFirst();
        }
        assertEquals(451, o.code(), o.reply());
        assertTrue(o.reply().startsWith("451 4.5.0 ") && o.reply().contains(reply.substring(0, 3)), o.reply());
        awaitPeer();
        int at = transcript.size() - 1;
        while (!transcript.get(at).startsWith("1: " + command)) {
            at--;
        }
        assertEquals(List.of("1: null"), transcript.subList(at + 1, transcript.size()),
                "RFC 5321 §4.2.1: the session ends right there, without another command: " + transcript);
        if (!command.equals(".")) {
            assertFalse(transcript.contains("1: Subject: out"), "nothing was sent: " + transcript);
        }
    }

    /** RFC 4954 §6: only 235 logs in; a 334 to AUTH PLAIN with its initial response is no login. */
    @Test
    void aContinuationToAuthPlainIsNoLogin() throws Exception {
        Script wantsMore = (in, out, socket) -> {
            hello(in, out, "AUTH PLAIN");
            String auth = in.readLine();
            say(out, auth.startsWith("AUTH PLAIN ") ? "334 " : "500 5.5.2 unexpected");
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("QUIT")) {
                    say(out, "221 bye");
                    return;
                }
                if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                }
                say(out, "250 ok");
            }
        };
        peer(wantsMore);
        QueuedMessage m = queuedTo("alice@example.org");
        Route relay = new Route("127.0.0.1", mx.getLocalPort()).with(new RelayLogin("alice@example.org", "secret", false));
        RemoteDelivery.Outcome o;
        try (RemoteDelivery remote = new RemoteDelivery(f.store(), new Router(Map.of(), Optional.of(relay), null),
                "mx.example.org")) {
            o = remote.deliver(m, "example.org", m.pending()).getFirst();
        }
        assertEquals(451, o.code(), o.reply());
        assertTrue(o.reply().contains("refused our login (334"), o.reply());
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.contains("MAIL FROM")), "no mail without a login: " + transcript);
    }

    /**
     * RFC 5321 §4.5.3.1.10: 552 to RCPT means "too many recipients" in RFC 821 usage and is taken
     * as 452, a temporary failure; it used to bounce the recipient. A 552 after the data (the
     * message too big, RFC 3463 5.3.4) stays permanent.
     */
    @Test
    void a552ToRcptIsTakenAsTemporary() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out, "PIPELINING");
            List<String> group = group(in);
            say(out, "250 2.1.0 ok");
            for (String rcpt : group.subList(1, group.size())) {
                say(out, rcpt.contains("many@") ? "552 5.5.3 too many recipients" : "250 2.1.5 ok");
            }
            say(out, "354 go ahead");
            while (!in.readLine().equals(".")) {
                // the message
            }
            say(out, "552 5.3.4 message too big");
            in.readLine(); // QUIT
            say(out, "221 bye");
        });
        QueuedMessage m = queuedTo("carol@peer.test", "many@peer.test");
        List<RemoteDelivery.Outcome> outcomes;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            outcomes = remote.deliver(m, "peer.test", m.pending());
        }
        assertEquals(List.of(552, 452), codes(outcomes), "" + outcomes);
        assertEquals("452 4.5.3 too many recipients", outcomes.get(1).reply());
        assertEquals("552 5.5.3 too many recipients", outcomes.get(1).said().orElseThrow().text(), "as the host sent it");
        assertEquals("552 5.3.4 message too big", outcomes.get(0).reply());
    }

    /**
     * At most 100 recipients per transaction (RFC 5321 §4.5.3.1.8), and those a server refuses as
     * too many (here past 60 a transaction) go again at once in the next one on the same session:
     * 150 recipients, three transactions, each delivered once, none left to the queue's backoff.
     */
    @Test
    void recipientsGoInTransactionsOfAHundredAndThoseRefusedAsTooManyGoAgainAtOnce() throws Exception {
        List<Integer> perTransaction = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> delivered = new java.util.concurrent.CopyOnWriteArrayList<>();
        peer((in, out, socket) -> {
            hello(in, out);
            List<String> taken = new ArrayList<>();
            int offered = 0;
            for (String line; !(line = in.readLine()).equals("QUIT"); ) {
                if (line.startsWith("RCPT")) {
                    offered++;
                    boolean room = taken.size() < 60;
                    if (room) {
                        taken.add(line);
                    }
                    say(out, room ? "250 2.1.5 ok" : "452 4.5.3 Error: too many recipients");
                } else if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                    perTransaction.add(offered);
                    delivered.addAll(taken);
                    say(out, "250 2.0.0 queued");
                } else {
                    if (line.startsWith("MAIL") || line.startsWith("RSET")) {
                        taken.clear();
                        offered = 0;
                    }
                    say(out, "250 2.0.0 ok");
                }
            }
            say(out, "221 bye");
        });
        String[] addresses = new String[150];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = "user" + i + "@peer.test";
        }
        QueuedMessage m = queuedTo(addresses);
        List<RemoteDelivery.Outcome> outcomes;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            outcomes = remote.deliver(m, "peer.test", m.pending());
        }
        assertEquals(java.util.Collections.nCopies(150, 250), codes(outcomes));
        assertEquals(m.pending().stream().map(QueuedMessage.PendingRecipient::position).toList(),
                outcomes.stream().map(RemoteDelivery.Outcome::position).toList(), "in recipient order");
        assertEquals(List.of(100, 90, 30), perTransaction, "100, then the 40 refused and the other 50, then 30");
        assertEquals(150, new java.util.HashSet<>(delivered).size());
        assertEquals(150, delivered.size(), "each once");
    }

    /** A destination that fails as a whole is tried once, not once per transaction of recipients. */
    @Test
    void aDestinationThatRefusesTheSessionIsTriedOnceForAllItsRecipients() throws Exception {
        peer((in, out, socket) -> {
            say(out, "421 4.3.2 peer.test busy, closing");
        });
        String[] addresses = new String[250];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = "user" + i + "@peer.test";
        }
        QueuedMessage m = queuedTo(addresses);
        List<RemoteDelivery.Outcome> outcomes;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            outcomes = remote.deliver(m, "peer.test", m.pending());
        }
        assertEquals(java.util.Collections.nCopies(250, 451), codes(outcomes), "a refused greeting waits for a retry");
        assertEquals(List.of(outcomes.getFirst().reply()), outcomes.stream().map(RemoteDelivery.Outcome::reply).distinct().toList(),
                "the one session's reply for all: no second connection was tried");
        assertTrue(outcomes.getFirst().reply().contains("421 4.3.2 peer.test busy"), outcomes.getFirst().reply());
    }

    /**
     * "421 too many messages on this connection" or "451 4.7.0" to MAIL on a kept session is
     * often about the session, not the message: the session goes (QUIT) and a new connection is
     * tried once before the message waits. It used to defer the message on the spot.
     */
    @Test
    void aTemporaryRefusalOfMailOnAKeptSessionIsTriedOnceOnANewConnection() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out);
            for (String line; !(line = in.readLine()).equals("QUIT"); ) {
                if (line.equals("DATA")) {
                    say(out, "354 go ahead");
                    while (!in.readLine().equals(".")) {
                        // the message
                    }
                    say(out, "250 2.0.0 queued");
                } else {
                    say(out, line.startsWith("MAIL") && transcript.contains("1: RSET")
                            ? "451 4.7.0 one message per connection" : "250 ok");
                }
            }
            say(out, "221 bye");
        }, acceptingPeer());
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            for (int i = 0; i < 2; i++) {
                QueuedMessage m = queuedTo("carol" + i + "@peer.test");
                assertEquals(List.of(250), codes(remote.deliver(m, "peer.test", m.pending())), "" + transcript);
                f.store().queue().record(m.id(), List.of(new dev.mailstack.store.RecipientOutcome.Delivered(0, "250")));
            }
        }
        awaitPeer();
        assertTrue(transcript.containsAll(List.of("1: RSET", "1: QUIT", "2: MAIL FROM:<bob@example.org>",
                "2: RCPT TO:<carol1@peer.test>")), "" + transcript);
    }

    /**
     * RFC 5321 §3.8: a server that says 421 closes the session. One that said it to a RCPT (and
     * kept answering, as some do until they close) used to be kept for the next message.
     */
    @Test
    void aSessionThatGot421IsNotKeptForTheNextMessage() throws Exception {
        peer((in, out, socket) -> {
            hello(in, out);
            for (String line; (line = in.readLine()) != null; ) {
                say(out, line.startsWith("RCPT") ? "421 4.7.0 too many errors, closing"
                        : line.equals("DATA") ? "554 5.5.1 no valid recipients" : line.equals("QUIT") ? "221 bye" : "250 ok");
            }
        }, acceptingPeer());
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            QueuedMessage first = queuedTo("carol@peer.test");
            assertEquals(List.of(421), codes(remote.deliver(first, "peer.test", first.pending())), "" + transcript);
            f.store().queue().record(first.id(), List.of(new dev.mailstack.store.RecipientOutcome.Failed(0, "421")));
            QueuedMessage second = queuedTo("dave@peer.test");
            assertEquals(List.of(250), codes(remote.deliver(second, "peer.test", second.pending())), "" + transcript);
        }
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.startsWith("1: RSET") || l.startsWith("1: QUIT")),
                "closed without RSET, and without QUIT after the 421: " + transcript);
        assertTrue(transcript.contains("2: RCPT TO:<dave@peer.test>"), "" + transcript);
    }

    /**
     * A hostile next hop's greeting of many long lines (it could be 1000 lines of 8 KiB, for
     * every reply): past SmtpClient.MAX_REPLY_BYTES it is a protocol error, and the attempt
     * fails for a retry instead of the client holding megabytes per reply.
     */
    @Test
    void aReplyLongerThanTheLimitIsAProtocolError() throws Exception {
        Script accepting = acceptingPeer();
        peer((in, out, socket) -> {
            String filler = "x".repeat(4000);
            for (int i = 0; i < SmtpClient.MAX_REPLY_BYTES / filler.length() + 1; i++) {
                out.write(("220-" + filler + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            // then a server like any other, which an unlimited client would go on to send the message to
            accepting.run(in, out, socket);
        });
        QueuedMessage m = queuedTo("carol@peer.test");
        RemoteDelivery.Outcome o;
        try (RemoteDelivery remote = toPeer(TlsPolicy.MAY)) {
            o = remote.deliver(m, "peer.test", m.pending()).getFirst();
        }
        assertEquals(451, o.code(), o.reply());
        assertTrue(o.reply().startsWith("451 4.5.0 ") && o.reply().contains("reply longer than 65536 bytes"), o.reply());
        assertEquals(Optional.empty(), o.said(), "our account of a broken session");
        awaitPeer();
        assertTrue(transcript.stream().noneMatch(l -> l.contains("MAIL")), "" + transcript);
    }
}
