package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateWatcherTest {
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String LOCALHOST = "CN=localhost";
    private static final String OTHER = "CN=mail.other.example";

    @TempDir
    Path dir;
    TcpListener listener;
    CertificateWatcher watcher;
    /** "reloaded", or the reload's error message, once per change the watcher saw. */
    final BlockingQueue<String> outcomes = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() {
        if (watcher != null) {
            watcher.close();
        }
        if (listener != null) {
            listener.close();
        }
    }

    private void serve(TlsContext tls) throws IOException {
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.IMPLICIT), new EchoProtocol(), NetLimits.defaults(), tls);
        watcher = CertificateWatcher.start(tls, POLL, () -> {
            try {
                tls.reload();
                outcomes.add("reloaded");
            } catch (IOException e) {
                outcomes.add(e.getMessage());
            }
        });
    }

    @Test
    void newHandshakesGetTheCertificateThatReplacedTheFiles() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        serve(TlsContext.fromPem(files[0], files[1]));
        assertEquals(LOCALHOST, TestTls.presentedSubject(listener.port(), null));
        // In place, key first, as a person copying files would: a poll between the two sees a
        // mismatched pair, which must not matter once the chain follows.
        Files.write(files[1], resource("other-privkey.pem"));
        Files.write(files[0], resource("other-fullchain.pem"));
        awaitPresented(OTHER, null);
    }

    @Test
    void aBrokenReplacementKeepsTheOldCertificateUntilTheNextChange() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        serve(TlsContext.fromPem(files[0], files[1]));

        replace(files[0], resource("other-fullchain.pem")); // renewed chain, old key
        String error = next();
        assertTrue(error.contains(files[1] + " does not match the certificate in " + files[0]), error);
        assertEquals(LOCALHOST, TestTls.presentedSubject(listener.port(), null));
        // Tried once per change, not at every poll
        assertNull(outcomes.poll(POLL.toMillis() * 5, TimeUnit.MILLISECONDS));

        byte[] chain = resource("other-fullchain.pem");
        replace(files[0], Arrays.copyOf(chain, chain.length / 2)); // half written
        error = next();
        assertTrue(error.startsWith("cannot use " + files[0]), error);
        assertEquals(LOCALHOST, TestTls.presentedSubject(listener.port(), null));

        replace(files[0], chain);
        replace(files[1], resource("other-privkey.pem"));
        while (!next().equals("reloaded")) {
            // the chain alone, with the old key, may have been seen first
        }
        assertEquals(OTHER, TestTls.presentedSubject(listener.port(), null));
    }

    /** certbot renew: new files in archive/NAME/, then live/NAME/*.pem re-pointed at them. */
    @Test
    void aLetsEncryptRenewalThatRepointsTheLiveSymlinksIsPickedUp() throws Exception {
        Path[] defaults = TestTls.pemFiles(Files.createDirectories(dir.resolve("default")));
        Path archive = Files.createDirectories(dir.resolve("archive/mail.other.example"));
        Path live = Files.createDirectories(dir.resolve("live/mail.other.example"));
        Files.write(archive.resolve("fullchain1.pem"), resource("other-fullchain.pem"));
        Files.write(archive.resolve("privkey1.pem"), resource("other-privkey.pem"));
        Files.createSymbolicLink(live.resolve("fullchain.pem"), Path.of("../../archive/mail.other.example/fullchain1.pem"));
        Files.createSymbolicLink(live.resolve("privkey.pem"), Path.of("../../archive/mail.other.example/privkey1.pem"));
        serve(TlsContext.fromPem(defaults[0], defaults[1], dir.resolve("live")));
        assertEquals(OTHER, TestTls.presentedSubject(listener.port(), "mail.other.example"));

        // The renewed pair (here the localhost one, to tell it apart) is written as new files
        Files.write(archive.resolve("fullchain2.pem"), resource("fullchain.pem"));
        Files.write(archive.resolve("privkey2.pem"), resource("privkey.pem"));
        repoint(live.resolve("fullchain.pem"), "../../archive/mail.other.example/fullchain2.pem");
        repoint(live.resolve("privkey.pem"), "../../archive/mail.other.example/privkey2.pem");
        awaitPresented(LOCALHOST, "mail.other.example");
    }

    @Test
    void closeEndsTheWatcherWithoutWaitingForTheNextPoll() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        TlsContext tls = TlsContext.fromPem(files[0], files[1]);
        CertificateWatcher w = CertificateWatcher.start(tls, Duration.ofHours(1), () -> outcomes.add("reloaded"));
        assertTimeoutPreemptively(Duration.ofSeconds(5), w::close);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = TestTls.class.getResourceAsStream("/tls/" + name)) {
            return in.readAllBytes();
        }
    }

    /** Writes beside the file and renames over it, so a poll sees the old or the new file, never a part. */
    private static void replace(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** As certbot does: a new link beside the old one, renamed over it. */
    private static void repoint(Path link, String target) throws IOException {
        Path tmp = link.resolveSibling(link.getFileName() + ".new");
        Files.createSymbolicLink(tmp, Path.of(target));
        Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private String next() throws InterruptedException {
        String outcome = outcomes.poll(10, TimeUnit.SECONDS);
        assertNotNull(outcome, "no reload within 10 s of a change");
        return outcome;
    }

    private void awaitPresented(String subject, String sni) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String presented = TestTls.presentedSubject(listener.port(), sni);
        while (!presented.equals(subject)) {
            assertTrue(System.nanoTime() < deadline, "still presenting " + presented + "; reloads: " + outcomes);
            outcomes.poll(POLL.toMillis(), TimeUnit.MILLISECONDS); // wakes at the next reload
            presented = TestTls.presentedSubject(listener.port(), sni);
        }
    }
}
