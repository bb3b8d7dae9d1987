package dev.mailstack.mta.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.Origin;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.store.AccountId;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.apache.james.jdkim.exceptions.FailException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DKIM signatures checked by another implementation (Apache James jDKIM, given the key's DNS
 * record as a resolver would return it): what the signer makes verifies, survives what relaxed
 * canonicalization forgives, and fails for what it must not.
 */
class DkimSignerTest {
    private static DkimKey key;

    @TempDir
    Path dir;
    StoreFixture f;
    MailboxStore store;

    @BeforeAll
    static void makeKey() throws Exception {
        key = DkimKey.generate("example.org", "sel1");
    }

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir.resolve("data"));
        store = f.store();
    }

    @AfterEach
    void close() {
        f.close();
    }

    /** RFC 6376 §3.4.5's example, the one vector the RFC gives for relaxed. */
    @Test
    void relaxedCanonicalizationMatchesTheRfcExample() throws Exception {
        assertEquals("a:X\r\n", RelaxedCanonicalization.header("A: X"));
        assertEquals("b:Y Z\r\n", RelaxedCanonicalization.header("B : Y\t\r\n\tZ  "));
        assertEquals("c:a\u000b\r\n", RelaxedCanonicalization.header("C: a\u000b "), "only spaces and tabs are trimmed");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (RelaxedCanonicalization.Body body = new RelaxedCanonicalization.Body(out)) {
            body.write(" C \r\nD \t E\r\n\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals(" C\r\nD E\r\n", out.toString(StandardCharsets.US_ASCII));
        out.reset();
        try (RelaxedCanonicalization.Body body = new RelaxedCanonicalization.Body(out)) {
            body.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals("", out.toString(StandardCharsets.US_ASCII), "an empty body is empty (RFC 6376 erratum 3192)");
        out.reset();
        try (RelaxedCanonicalization.Body body = new RelaxedCanonicalization.Body(out)) {
            body.write("last line  ".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals("last line\r\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void signedMailVerifiesAndSurvivesWhatRelaxedForgives() throws Exception {
        String message = "From: Alice <alice@example.org>\r\nTo: bob@remote.test,\r\n carol@remote.test\r\n"
                + "Subject: =?UTF-8?B?5Lit5paH?= report\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n"
                + "Message-ID: <1@example.org>\r\nX-Not-Signed: yes\r\n\r\nline one  \r\n\r\nline\tthree\r\n\r\n\r\n";
        String signed = sign(message);
        assertTrue(signed.startsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel1;"));
        assertTrue(signed.contains("h=from:subject:date:to:message-id:from;"), signed);
        assertEquals("example.org", verify(signed).getFirst().getDToken().toString());

        // what relays do: refold a header, change whitespace, drop trailing blank lines and spaces
        String relayed = signed.replace("To: bob@remote.test,\r\n carol@remote.test", "To:  bob@remote.test,\r\n\t\tcarol@remote.test")
                .replace("line one  \r\n", "line one\r\n").replace("line\tthree\r\n\r\n\r\n", "line   three\r\n");
        verify(relayed);
        assertThrows(FailException.class, () -> verify(signed.replace("line one", "line 1")), "a changed body");
        assertThrows(FailException.class, () -> verify(signed.replace("report", "invoice")), "a changed subject");
        assertThrows(FailException.class, () -> verify(signed.replace("X-Not-Signed: yes\r\n",
                "X-Not-Signed: yes\r\nFrom: mallory@evil.test\r\n")), "a From added after signing (oversigned)");
        verify(signed.replace("X-Not-Signed: yes", "X-Not-Signed: changed")); // not in h=
    }

    /**
     * Not checked with jDKIM: a message with an empty body, whose relaxed form jDKIM takes as one
     * CRLF (its simple form) where RFC 6376 §3.4.4 and dkimpy have nothing; see the vector above.
     */
    @Test
    void aOneLineBodyAndEightBitHeadersVerify() throws Exception {
        verify(sign("From: alice@example.org\r\nSubject: nothing\r\n\r\nx"));
        verify(sign("From: =?UTF-8?B?5byg5LiJ?= <alice@example.org>\r\nSubject: 中文\r\n\r\n你好\r\n"));
    }

    /**
     * Through the queue's intake as SMTP hands mail to it: a logged-in sender's mail From: its own
     * address or alias is signed, From: another account's address never; a trusted network's mail
     * is signed, a stranger's (port 25, no login) never; a domain without a key goes unsigned; and
     * 8-bit mail is made 7-bit before it is signed (RFC 6376 §5.3), so no next hop's downgrade breaks it.
     */
    @Test
    void theIntakeSignsOnlyMailThatIsOursToVouchFor() throws Exception {
        Path keys = dir.resolve("dkim");
        key.write(DkimSigner.keyFile(keys, "example.org", "sel1"));
        QueueIntake intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { },
                new MailCounters(), new DkimSigner(keys, "sel1"));
        AccountId alice = store.accounts().find("alice@example.org").orElseThrow().id();
        store.accounts().addUser("ceo@example.org", PasswordScheme.hash("x"));
        store.accounts().addAlias("sales@example.org", "alice@example.org");
        Origin loggedIn = new Origin.LoggedIn(alice);
        String ascii = "From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: hi\r\n\r\nhello\r\n";

        String stored = content(queue(intake, ascii, false, loggedIn));
        assertTrue(stored.startsWith("Return-Path: <alice@example.org>\r\nDKIM-Signature: "), stored);
        verify(stored);
        verify(content(queue(intake, ascii.replace("From: alice@", "From: Sales <sales@").replace("org\r\nTo", "org>\r\nTo"),
                false, loggedIn)));
        verify(content(queue(intake, ascii.replace("alice@", "anyone@"), false, new Origin.TrustedNetwork())));

        assertUnsigned(queue(intake, ascii.replace("alice@", "ceo@"), false, loggedIn), "another account's address");
        assertUnsigned(queue(intake, ascii, false, new Origin.Outside()), "a stranger's mail");
        assertUnsigned(queue(intake, ascii.replace("alice@example.org", "alice@other.test"), false, new Origin.TrustedNetwork()),
                "no key for other.test");

        String eightBit = "From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n你好，世界\r\n";
        QueuedMessage downgraded = queue(intake, eightBit, true, loggedIn);
        assertFalse(downgraded.envelope().body8bit(), "queued as 7-bit");
        String sevenBit = content(downgraded);
        assertTrue(sevenBit.chars().allMatch(c -> c < 0x80), sevenBit);
        assertTrue(sevenBit.contains("Content-Transfer-Encoding: base64") || sevenBit.contains("quoted-printable"), sevenBit);
        verify(sevenBit);
        // an 8-bit address no conversion can encode: signed, but still 8-bit mail, which RemoteDelivery
        // sends only where 8BITMIME is announced (RFC 6152 §3)
        QueuedMessage leftOver = queue(intake, eightBit.replace("To: bob@", "To: jürgen@"), true, loggedIn);
        assertTrue(content(leftOver).contains("rgen@remote.test\r\n"), "left as it was: " + content(leftOver));
        assertTrue(leftOver.envelope().body8bit(), "still 8-bit mail");
    }

    /**
     * Mail a front MTA hands over by LMTP came from anywhere: never signed, even when that MTA is in
     * smtp.trusted_networks (whose own mail on port 25 is signed) and From: one of our domains.
     */
    @Test
    void mailHandedOverByLmtpIsNeverSignedEvenFromATrustedNetwork() throws Exception {
        Path keys = dir.resolve("dkim");
        key.write(DkimSigner.keyFile(keys, "example.org", "sel1"));
        QueueIntake intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { },
                new MailCounters(), new DkimSigner(keys, "sel1"));
        var settings = new dev.mailstack.mta.smtp.SmtpSettings("mx.example.org", false, 1 << 20, 100, 20,
                dev.mailstack.net.PlaintextAuth.LOOPBACK, List.of(dev.mailstack.net.Cidr.parse("127.0.0.0/8")), false);
        var throttle = dev.mailstack.net.AuthThrottle.defaults();
        try (var lmtp = dev.mailstack.net.TcpListener.start(new dev.mailstack.net.Endpoint("lmtp",
                        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), dev.mailstack.net.TlsMode.NONE),
                dev.mailstack.mta.smtp.SmtpProtocol.lmtp(settings, store, intake, throttle),
                dev.mailstack.net.NetLimits.defaults(), null);
             var c = new dev.mailstack.net.LineClient(lmtp.port())) {
            c.expect("220 .*");
            c.send("LHLO front.example.org").expectEventually("250 HELP");
            c.send("MAIL FROM:<ceo@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("From: ceo@example.org\r\nSubject: wire the money\r\n\r\nnow\r\n.\r\n").expect("250 .*");
        }
        QueuedMessage q = store.queue().claimDue(Instant.now().plusSeconds(1), Duration.ofMinutes(1)).orElseThrow();
        assertUnsigned(q, "a forged From: of ours, relayed in by the front MTA");
    }

    /** A damaged key costs the signature, never the message: it is queued unsigned. */
    @Test
    void aDamagedKeyLeavesMailUnsignedRatherThanRefused() throws Exception {
        Path keys = dir.resolve("dkim");
        Path file = DkimSigner.keyFile(keys, "example.org", "sel1");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS=x\n-----END PRIVATE KEY-----\n");
        DkimSigner signer = new DkimSigner(keys, "sel1");
        assertEquals(List.of(), signer.keysFor("example.org"), "bad base64");
        QueueIntake intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { },
                new MailCounters(), signer);
        AccountId alice = store.accounts().find("alice@example.org").orElseThrow().id();
        assertUnsigned(queue(intake, "From: alice@example.org\r\n\r\nx\r\n", false, new Origin.LoggedIn(alice)),
                "queued all the same");
        Files.delete(file);
        key.write(file);
        String hugeHeader = "From: alice@example.org\r\nX-Big: " + "a".repeat(1_100_000) + "\r\n\r\nx\r\n";
        assertUnsigned(queue(intake, hugeHeader, false, new Origin.LoggedIn(alice)), "a header past the signer's limit");
        Files.writeString(file, "not a key");
        assertEquals(List.of(), signer.keysFor("example.org"));
        assertEquals(List.of(), signer.keysFor("../example.org"));
        assertEquals(List.of(), signer.keysFor("exam\0ple.org"));
        assertEquals(List.of(), DkimSigner.OFF.keysFor("example.org"));
    }

    /**
     * A domain signs with its key under the configured selector, else with its only key, so one
     * domain can move to a new key alone; with several and none under the selector it signs none.
     */
    @Test
    void eachDomainChoosesItsOwnKey() throws Exception {
        Path keys = dir.resolve("dkim");
        DkimSigner signer = new DkimSigner(keys, "sel1");
        DkimKey.generate("example.net", "s2027").write(DkimSigner.keyFile(keys, "example.net", "s2027"));
        assertEquals(List.of("s2027"), selectors(signer, "example.net"), "its only key");
        DkimKey.generate("example.net", "s2028").write(DkimSigner.keyFile(keys, "example.net", "s2028"));
        assertEquals(List.of(), selectors(signer, "example.net"), "two keys and neither is sel1's");
        Files.delete(DkimSigner.keyFile(keys, "example.net", "s2027"));
        assertEquals(List.of("s2028"), selectors(signer, "example.net"), "the old one retired");
        key.write(DkimSigner.keyFile(keys, "example.net", "sel1"));
        assertEquals(List.of("sel1"), selectors(signer, "Example.NET"), "the configured selector first");
    }

    /**
     * A domain with an RSA and an Ed25519 key signs with both (RFC 8463 §3): through the intake,
     * the message gets two fields, RSA's on top; a verifier that knows only RSA (jDKIM) passes it,
     * and ours passes both against the records keygen prints.
     */
    @Test
    void theIntakeSignsWithBothKindsAndEachSignatureVerifies() throws Exception {
        Path keys = dir.resolve("dkim");
        key.write(DkimSigner.keyFile(keys, "example.org", "sel1"));
        DkimKey ed = DkimKey.generate("example.org", "sel1-ed25519", DkimKey.Kind.ED25519);
        ed.write(DkimSigner.keyFile(keys, "example.org", "sel1-ed25519"));
        QueueIntake intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { },
                new MailCounters(), new DkimSigner(keys, "sel1"));
        AccountId alice = store.accounts().find("alice@example.org").orElseThrow().id();
        String stored = content(queue(intake, "From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: hi\r\n\r\nhello\r\n",
                false, new Origin.LoggedIn(alice)));
        assertTrue(stored.startsWith("Return-Path: <alice@example.org>\r\nDKIM-Signature: v=1; a=rsa-sha256;"), stored);
        assertTrue(stored.contains("\r\nDKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=sel1-ed25519;"),
                stored);
        List<SignatureRecord> rsaOnly = verify(stored, Map.of(key.dnsName(), key.dnsText(), ed.dnsName(), ed.dnsText()));
        assertEquals(List.of("sel1"), rsaOnly.stream().map(r -> r.getSelector().toString()).toList());
        Map<String, List<LocalDnsServer.Record>> zone = Map.of(key.dnsName(), List.of(txt(key.dnsText())),
                ed.dnsName(), List.of(txt(ed.dnsText())));
        try (LocalDnsServer dns = new LocalDnsServer(zone)) {
            List<DkimResult> results = new DkimVerifier(new DnsLookup(dns.url()))
                    .verify(new ByteArrayInputStream(stored.getBytes(StandardCharsets.UTF_8)));
            assertEquals(List.of("sel1 PASS", "sel1-ed25519 PASS"), results.stream().map(r -> r.selector() + " " + r.kind()).toList(),
                    results.toString());
        }
    }

    /**
     * Of each kind the key under the selector (SELECTOR.pem for RSA, SELECTOR-ed25519.pem for
     * Ed25519), else the only one of that kind, whatever its name: so the Ed25519 key changes on
     * its own as the RSA key does, and a domain without an Ed25519 key signs as before.
     */
    @Test
    void eachKindIsChosenOnItsOwn() throws Exception {
        Path keys = dir.resolve("dkim");
        DkimSigner signer = new DkimSigner(keys, "sel1");
        DkimKey.generate("example.net", "e2026", DkimKey.Kind.ED25519).write(DkimSigner.keyFile(keys, "example.net", "e2026"));
        assertEquals(List.of("e2026"), selectors(signer, "example.net"), "an Ed25519 key alone signs alone");
        key.write(DkimSigner.keyFile(keys, "example.net", "sel1"));
        assertEquals(List.of("sel1", "e2026"), selectors(signer, "example.net"), "both kinds, RSA first");
        DkimKey.generate("example.net", "e2027", DkimKey.Kind.ED25519).write(DkimSigner.keyFile(keys, "example.net", "e2027"));
        assertEquals(List.of("sel1"), selectors(signer, "example.net"), "two Ed25519 keys, neither under sel1-ed25519");
        DomainKeys read = DomainKeys.read(keys.resolve("example.net"), "example.net", "sel1");
        assertEquals(List.of("2 ed25519 keys (e2026.pem, e2027.pem) and none under dkim.selector as sel1-ed25519.pem:"
                + " remove the retired ones from " + keys.resolve("example.net")), read.problems().stream().map(DomainKeys.Problem::text).toList());
        DkimKey.generate("example.net", "sel1-ed25519", DkimKey.Kind.ED25519)
                .write(DkimSigner.keyFile(keys, "example.net", "sel1-ed25519"));
        assertEquals(List.of("sel1", "sel1-ed25519"), selectors(signer, "example.net"), "the one under the selector");
        for (String retired : List.of("e2026", "e2027", "sel1")) {
            Files.delete(DkimSigner.keyFile(keys, "example.net", retired));
        }
        assertEquals(List.of("sel1-ed25519"), selectors(signer, "example.net"));
    }

    /**
     * A damaged key under the selector is not replaced by another of the folder's keys (whose
     * record may be gone); the other kind signs on, and the problem names the file.
     */
    @Test
    void aDamagedKeyUnderTheSelectorIsNotReplacedByAnother() throws Exception {
        Path keys = dir.resolve("dkim");
        Path damaged = DkimSigner.keyFile(keys, "example.org", "sel1");
        Files.createDirectories(damaged.getParent());
        Files.writeString(damaged, "-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADANBg==\n-----END RSA PRIVATE KEY-----\n");
        DkimKey.generate("example.org", "s2026").write(DkimSigner.keyFile(keys, "example.org", "s2026"));
        DkimKey.generate("example.org", "sel1-ed25519", DkimKey.Kind.ED25519)
                .write(DkimSigner.keyFile(keys, "example.org", "sel1-ed25519"));
        assertEquals(List.of("sel1-ed25519"), selectors(new DkimSigner(keys, "sel1"), "example.org"));
        DomainKeys read = DomainKeys.read(damaged.getParent(), "example.org", "sel1");
        assertEquals(List.of(new DomainKeys.Unreadable(damaged, damaged + " holds a 'RSA PRIVATE KEY'; convert it to PKCS#8:"
                + " openssl pkcs8 -topk8 -nocrypt -in sel1.pem -out privkey.pem")), read.problems());
    }

    /** What is no DKIM key is refused with an error that names the file and says what would do. */
    @Test
    void aKeyFileOfAnotherAlgorithmIsRefusedNamingTheFile() throws Exception {
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        Path file = dir.resolve("ec.pem");
        Files.writeString(file, dev.mailstack.net.PemPrivateKey.pem(ec.generateKeyPair().getPrivate()));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> DkimKey.read(file, "example.org", "ec"));
        assertTrue(e.getMessage().startsWith(file + ": a DKIM key is RSA or Ed25519, not EC (openssl genpkey"), e.getMessage());

        Path ed448 = dir.resolve("ed448.pem");
        Files.writeString(ed448, dev.mailstack.net.PemPrivateKey.pem(
                java.security.KeyPairGenerator.getInstance("Ed448").generateKeyPair().getPrivate()));
        e = assertThrows(java.io.IOException.class, () -> DkimKey.read(ed448, "example.org", "ed448"));
        assertTrue(e.getMessage().startsWith(ed448.toString()), e.getMessage());

        Path text = dir.resolve("notes.pem");
        Files.writeString(text, "selector notes");
        e = assertThrows(java.io.IOException.class, () -> DkimKey.read(text, "example.org", "notes"));
        assertEquals(text + " holds no 'BEGIN PRIVATE KEY' block", e.getMessage());
    }

    /** RFC 8301 §3.2: verifiers refuse RSA keys under 1024 bits, so such a key is no key. */
    @Test
    void aShortKeyIsRefused() throws Exception {
        java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
        generator.initialize(768);
        Path file = dir.resolve("short.pem");
        Files.writeString(file, dev.mailstack.net.PemPrivateKey.pem(generator.generateKeyPair().getPrivate()));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> DkimKey.read(file, "example.org", "s"));
        assertTrue(e.getMessage().contains("768-bit key is too short"), e.getMessage());
    }

    /** Many signed fields: h= folds, and the signature still verifies. */
    @Test
    void aLongSignedHeaderListIsFoldedAndVerifies() throws Exception {
        StringBuilder m = new StringBuilder("From: alice@example.org\r\nSubject: many\r\n");
        for (int i = 0; i < 60; i++) {
            m.append("To: r").append(i).append("@remote.test\r\n");
        }
        String signed = sign(m.append("\r\nbody\r\n").toString());
        String field = signed.substring(0, signed.indexOf("\r\nFrom: "));
        for (String line : field.split("\r\n")) {
            assertTrue(line.length() <= 80, "a line of " + line.length() + ": " + line);
        }
        verify(signed);
    }

    private static List<String> selectors(DkimSigner signer, String domain) {
        return signer.keysFor(domain).stream().map(DkimKey::selector).toList();
    }

    /** A TXT record of strings of at most 255 characters, as a zone holds a long key. */
    private static LocalDnsServer.Txt txt(String text) {
        List<String> strings = new java.util.ArrayList<>();
        for (int i = 0; i < text.length(); i += 255) {
            strings.add(text.substring(i, Math.min(text.length(), i + 255)));
        }
        return new LocalDnsServer.Txt(strings);
    }

    private void assertUnsigned(QueuedMessage q, String why) throws Exception {
        String text = content(q);
        assertFalse(text.contains("DKIM-Signature"), why + ": " + text);
    }

    private QueuedMessage queue(QueueIntake intake, String text, boolean eightBit, Origin origin) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store, "Return-Path: <alice@example.org>\r\n" + text);
        try {
            intake.accept(new MailEnvelope("alice@example.org", List.of(MailEnvelope.Recipient.of("bob@remote.test")),
                    Optional.empty(), Optional.empty(), false, eightBit, Instant.now()), m, origin);
        } finally {
            m.discard();
        }
        QueuedMessage q = store.queue().claimDue(Instant.now().plusSeconds(1), Duration.ofMinutes(1)).orElseThrow();
        store.queue().delete(q.id());
        return q;
    }

    private String content(QueuedMessage q) throws Exception {
        try (InputStream in = store.openContent(q.contentKey(), 0)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String sign(String message) throws Exception {
        byte[] octets = message.getBytes(StandardCharsets.UTF_8);
        return new DkimSigner(null, "sel1").signature(key, new ByteArrayInputStream(octets), Instant.now()) + message;
    }

    private static List<SignatureRecord> verify(String message) throws Exception {
        return verify(message, Map.of(key.dnsName(), key.dnsText()));
    }

    /** {@code records}: the key records by name, as DNS would give them. */
    private static List<SignatureRecord> verify(String message, Map<String, String> records) throws Exception {
        DKIMVerifier verifier = new DKIMVerifier((method, selector, domain) -> {
            String name = selector + "._domainkey." + domain;
            assertTrue(records.containsKey(name), "looked up " + name);
            return List.of(records.get(name));
        });
        List<SignatureRecord> ok = verifier.verify(new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)));
        assertFalse(ok == null || ok.isEmpty(), "no valid signature: " + verifier.getResults());
        return ok;
    }
}
