package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.dkim.DkimResult;
import dev.mailstack.mta.dkim.DkimVerifier;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPF, DKIM and DMARC on the MX port, end to end: a real DNS server on loopback publishes the
 * senders' records, a raw-socket client talks SMTP, and what reaches the store is read back.
 */
class SenderChecksTest {
    private static final String HOST = "mx.example.org";
    @TempDir
    Path dir;
    LocalDnsServer dns;
    MtaFixture mta;
    final Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();

    @BeforeEach
    void start() throws IOException {
        zone.clear();
        zone.put("example.com", List.of(new LocalDnsServer.Txt("v=spf1 ip4:127.0.0.1 -all")));
        zone.put("_dmarc.example.com", List.of(new LocalDnsServer.Txt("v=DMARC1; p=reject")));
        zone.put("forged.example", List.of(new LocalDnsServer.Txt("v=spf1 ip4:192.0.2.1 -all")));
        zone.put("soft.example", List.of(new LocalDnsServer.Txt("v=spf1 ~all")));
        zone.put("_dmarc.soft.example", List.of(new LocalDnsServer.Txt("v=DMARC1; p=quarantine")));
        zone.put("_dmarc.bank.example", List.of(new LocalDnsServer.Txt("v=DMARC1; p=reject")));
        zone.put("_dmarc.xn--bcher-kva.example", List.of(new LocalDnsServer.Txt("v=DMARC1; p=reject")));
        String key = Files.readAllLines(Path.of("src/test/resources/dkim/keys.txt")).getFirst().split("\t")[1];
        zone.put("rsa._domainkey.example.com", List.of(new LocalDnsServer.Txt(key.substring(0, 200), key.substring(200))));
        dns = new LocalDnsServer(zone);
        mta = fixture(List.of());
    }

    private MtaFixture fixture(List<Cidr> skip) throws IOException {
        InboundChecks checks = new InboundChecks(new DnsLookup(dns.url()), true, true, skip, HOST);
        MtaFixture f = new MtaFixture(dir.resolve("mta" + System.nanoTime()), Map.of(),
                SmtpSettings.mx(HOST).withSenderChecks(checks), QueueSettings.defaults(HOST));
        f.store.store().accounts().addAlias("postmaster@example.org", "alice@example.org");
        return f;
    }

    @AfterEach
    void stop() throws Exception {
        mta.close();
        dns.close();
    }

    private LineClient session(String mailFrom) throws IOException {
        LineClient c = mta.connect();
        c.expect("220 .*");
        c.send("EHLO client.example.net").expectEventually("250 HELP");
        c.send("MAIL FROM:<" + mailFrom + ">").expect("250 .*");
        return c;
    }

    private LineClient loggedIn() throws IOException {
        LineClient c = mta.connect();
        c.expect("220 .*");
        c.send("EHLO laptop").expectEventually("250 HELP");
        c.send("AUTH PLAIN " + java.util.Base64.getEncoder().encodeToString(
                "\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8))).expect("235 .*");
        return c;
    }

    private static void data(LineClient c, String message) throws IOException {
        c.send("DATA").expect("354 .*");
        c.sendBytes((message + ".\r\n").getBytes(StandardCharsets.ISO_8859_1)); // the 8-bit octets as they are
    }

    private String text(MailboxName mailbox) throws IOException {
        MessageRef ref = mta.alice().select(mailbox).messages().getFirst();
        try (InputStream in = mta.alice().openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void anSpfFailIsRefusedAtRcptButPostmasterStaysReachable() throws Exception {
        try (LineClient c = session("boss@forged.example")) {
            c.send("RCPT TO:<alice@example.org>").expect(
                    "550 5\\.7\\.23 SPF fail: forged\\.example does not designate 127\\.0\\.0\\.1 as permitted sender.*");
            c.send("RCPT TO:<postmaster@example.org>").expect("250 .*");
        }
        assertEquals(1, dns.queries.stream().filter(q -> q.equals("forged.example/16")).count(), "asked once: " + dns.queries);
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.SPF), "counted for the metrics");
    }

    /** RFC 7208 §2.3: a HELO name whose own SPF policy excludes the client is refused, whatever MAIL FROM says. */
    @Test
    void aHeloNameThatFailsSpfIsRefusedToo() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO forged.example").expectEventually("250 HELP");
            c.send("MAIL FROM:<bounces@example.com>").expect("250 .*"); // example.com's policy passes 127.0.0.1
            c.send("RCPT TO:<alice@example.org>").expect(
                    "550 5\\.7\\.23 SPF fail: HELO forged\\.example does not designate 127\\.0\\.0\\.1 as permitted sender.*");
            c.send("RCPT TO:<postmaster@example.org>").expect("250 .*");
        }
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.SPF));
    }

    @Test
    void aSignedMessageGetsOurResultsAndLosesForgedOnesWithItsSignatureIntact() throws Exception {
        String signed = Files.readString(Path.of("src/test/resources/dkim/rsa-relaxed.eml"), StandardCharsets.ISO_8859_1);
        try (LineClient c = session("bounces@example.com")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "Authentication-Results: " + HOST + "; dkim=pass header.d=bank.example\r\n" + signed);
            c.expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String stored = text(MailboxName.INBOX);
        assertTrue(stored.startsWith("Return-Path: <bounces@example.com>\r\nAuthentication-Results: " + HOST + ";\r\n"
                + "\tspf=pass smtp.mailfrom=example.com;\r\n\tdkim=pass header.d=example.com header.s=rsa header.b="), stored);
        assertTrue(stored.contains(";\r\n\tdmarc=pass header.from=example.com\r\nReceived: from client.example.net"), stored);
        assertEquals(1, stored.split("Authentication-Results:", -1).length - 1, "the forged field is gone: " + stored);
        List<DkimResult> again = new DkimVerifier(new DnsLookup(dns.url()))
                .verify(new ByteArrayInputStream(stored.getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(1, again.size());
        assertTrue(again.getFirst().passed(), again.getFirst().reason());
    }

    @Test
    void aDmarcFailUnderPRejectIsRefusedAfterDataAndTheSessionGoesOn() throws Exception {
        try (LineClient c = session("newsletter@other.example")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "From: Bank <security@bank.example>\r\nSubject: verify your account\r\n\r\nclick here\r\n");
            c.expect("550 5\\.7\\.26 Unauthenticated mail from bank\\.example is refused by its DMARC policy \\(p=reject\\).*");
            c.send("RSET").expect("250 .*");
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing accepted");
    }

    /**
     * RFC 7489 §6.6.1: a From that does not name its domain plainly cannot be held to a policy,
     * so it is refused: two From fields, a domain the JDK's IDNA2003 would turn into another
     * (faß → fass), a header too long to read whole. An internationalized domain is asked for in
     * A-labels, whatever octets the client sent.
     */
    @Test
    void authorsThatCannotBeCheckedAreRefusedAndInternationalOnesAreChecked() throws Exception {
        Map<String, String> refused = Map.of(
                "From: a@example.com\r\nFrom: security@bank.example\r\n\r\nx\r\n", "550 5\\.7\\.1 .*: 2 From fields",
                "From: boss@fa\u00df.example\r\n\r\nx\r\n", "550 5\\.7\\.1 .*From domain fa\\?\\.example is not a valid domain name",
                "Subject: none\r\n\r\nx\r\n", "550 5\\.7\\.1 .*: no From field",
                "From: security@bank.example\r\n" + ("X-Pad: " + "p".repeat(990) + "\r\n").repeat(1100) + "\r\nx\r\n",
                "552 5\\.3\\.4 Message header too large.*");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            try (LineClient c = session("x@other.example")) {
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
                c.sendBytes(("DATA\r\n").getBytes(StandardCharsets.US_ASCII));
                c.expect("354 .*");
                c.sendBytes((e.getKey() + ".\r\n").getBytes(StandardCharsets.UTF_8));
                c.expect(e.getValue());
            }
        }
        try (LineClient c = session("x@other.example")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes("From: Verlag <info@b\u00fccher.example>\r\n\r\nx\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
            c.expect("550 5\\.7\\.26 Unauthenticated mail from xn--bcher-kva\\.example .*");
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing accepted");
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.DMARC));
        assertEquals(4, mta.counters.refusals(MailCounters.Refusal.UNCHECKABLE));
    }

    /**
     * A sender whose DNS never answers must not run out our time to get past p=reject: the
     * author's policy is asked alone, and the client told to come back later.
     */
    @Test
    void runningOutTheBudgetUnderPRejectIsATemporaryRefusal() throws Exception {
        zone.put("slow._domainkey.slow.example", List.of(new LocalDnsServer.Silent()));
        mta.close();
        InboundChecks checks = new InboundChecks(new DnsLookup(dns.url()), true, true, List.of(), HOST, Duration.ofMillis(900));
        mta = new MtaFixture(dir.resolve("budget"), Map.of(), SmtpSettings.mx(HOST).withSenderChecks(checks),
                QueueSettings.defaults(HOST));
        // a body hash that verifies, so the key is asked for: from a server that never answers
        String bodyHash = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256")
                .digest("x\r\n".getBytes(StandardCharsets.US_ASCII)));
        String signature = "DKIM-Signature: v=1; a=rsa-sha256; d=slow.example; s=slow; h=from; bh=" + bodyHash + "; b=AAAA\r\n";
        try (LineClient c = session("x@other.example")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, signature + "From: security@bank.example\r\n\r\nx\r\n");
            c.expect("451 4\\.4\\.3 Could not check who sent this in time.*");
            c.send("RSET").expect("250 .*");
        }
        assertEquals(List.of(), mta.store.store().queue().list());
    }

    @Test
    void aDmarcFailUnderPQuarantineGoesToJunk() throws Exception {
        try (LineClient c = session("promo@soft.example")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "From: promo@soft.example\r\nSubject: offer\r\n\r\nbuy now\r\n");
            c.expect("250 .*");
        }
        MailboxName junk = new MailboxName("Junk");
        mta.awaitMessages(mta.alice(), junk, 1);
        mta.awaitQueueEmpty();
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
        assertEquals(1, mta.counters.quarantines());
        String stored = text(junk);
        assertTrue(stored.contains("\tspf=softfail"), stored);
        assertTrue(stored.contains("\tdkim=none;\r\n\tdmarc=fail (no aligned SPF or DKIM pass for soft.example, p=quarantine)"), stored);
    }

    @Test
    void skippedClientsAndLoginsAreNotChecked() throws Exception {
        try (LineClient c = loggedIn()) {
            c.send("MAIL FROM:<boss@forged.example>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
        assertEquals(List.of(), dns.queries, "a login is not asked about");
        // but what it writes in our name is left out all the same (RFC 8601 §5), folded lines with it
        try (LineClient c = loggedIn()) {
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "Authentication-Results: (nested (comment)) " + HOST + ";\r\n\tdmarc=pass header.from=bank.example\r\n"
                    + "Authentication-Results: mx.google.com; spf=pass\r\n"
                    + "Authentication-Results:\r\n \"" + HOST + "\";\r\n" + ("\tdkim=pass" + "x".repeat(1000) + "\r\n").repeat(80)
                    + "From: alice@example.org\r\nSubject: kept\r\n\r\nbody\r\n");
            c.expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String own = text(MailboxName.INBOX);
        assertFalse(own.contains("bank.example") || own.contains("dkim=pass"), own);
        // a field too long to judge is dropped whatever a comment hides; a header line too long for
        // any field makes it and what follows body
        try (LineClient c = loggedIn()) {
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "Authentication-Results: (\r\n" + (" " + "c".repeat(1000) + "\r\n").repeat(70) + " ) " + HOST
                    + "; dmarc=pass header.from=bank.example\r\n"
                    + "Subject: second\r\nX-Long: " + "l".repeat(70 * 1024) + "\r\nAuthentication-Results: " + HOST
                    + "; dkim=pass header.d=bank.example\r\n\r\nbody\r\n");
            c.expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        MessageRef second = mta.alice().select(MailboxName.INBOX).messages().get(1);
        String stored;
        try (InputStream in = mta.alice().openContent(second)) {
            stored = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        String header = stored.substring(0, stored.indexOf("\r\n\r\n"));
        assertFalse(header.contains("bank.example") || header.contains("X-Long"), header);
        assertTrue(header.endsWith("Subject: second"), header.substring(Math.max(0, header.length() - 300)));
        assertTrue(own.contains("\r\nAuthentication-Results: mx.google.com; spf=pass\r\nFrom: alice@example.org\r\nSubject: kept\r\n"), own);
        mta.close();
        mta = fixture(List.of(Cidr.parse("127.0.0.0/8")));
        try (LineClient c = session("boss@forged.example")) {
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            data(c, "From: boss@forged.example\r\n\r\nhi\r\n");
            c.expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertFalse(text(MailboxName.INBOX).contains("Authentication-Results"), "a fresh fixture: its own INBOX");
        assertEquals(List.of(), dns.queries);
    }
}
