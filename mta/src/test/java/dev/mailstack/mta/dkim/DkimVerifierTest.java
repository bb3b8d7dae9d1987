package dev.mailstack.mta.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.dkim.DkimResult.Kind;
import dev.mailstack.mta.dns.DnsLookup;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DKIM verification of mail signed by another implementation (dkimpy, see
 * src/test/resources/dkim/make-fixtures.py) and by our own signer, with the keys served by a real
 * DNS server on loopback: every algorithm and canonicalization passes, and each kind of damage or
 * missing key gets the result RFC 6376 and RFC 8301 give it.
 */
class DkimVerifierTest {
    @TempDir
    Path dir;
    private LocalDnsServer dns;
    private DkimVerifier verifier;
    private final Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();

    @BeforeEach
    void keys() throws IOException {
        for (String line : Files.readAllLines(fixture("keys.txt"))) {
            String[] parts = line.split("\t");
            zone.put(parts[0], List.of(txt(parts[1])));
        }
    }

    private void start() throws IOException {
        dns = new LocalDnsServer(zone);
        verifier = new DkimVerifier(new DnsLookup(dns.url()));
    }

    @AfterEach
    void stop() throws Exception {
        if (dns != null) {
            dns.close();
        }
    }

    /** A TXT record of strings of at most 255 characters, as a zone would hold a long key. */
    private static LocalDnsServer.Txt txt(String text) {
        List<String> strings = new java.util.ArrayList<>();
        for (int i = 0; i < text.length(); i += 255) {
            strings.add(text.substring(i, Math.min(text.length(), i + 255)));
        }
        return new LocalDnsServer.Txt(strings);
    }

    private static Path fixture(String name) {
        return Path.of("src/test/resources/dkim", name);
    }

    private static String message(String name) throws IOException {
        return new String(Files.readAllBytes(fixture(name)), StandardCharsets.ISO_8859_1);
    }

    private List<DkimResult> verify(String message) throws IOException {
        if (verifier == null) {
            start();
        }
        return verifier.verify(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)));
    }

    private DkimResult only(String message) throws IOException {
        List<DkimResult> results = verify(message);
        assertEquals(1, results.size(), results.toString());
        return results.getFirst();
    }

    @Test
    void everyAlgorithmAndCanonicalizationOfAnotherSignerPasses() throws IOException {
        for (String name : List.of("rsa-relaxed.eml", "rsa-simple.eml", "rsa-length.eml", "ed25519.eml")) {
            DkimResult r = only(message(name));
            assertEquals(Kind.PASS, r.kind(), name + ": " + r.reason());
            assertEquals("example.com", r.domain());
            assertEquals(name.startsWith("ed") ? "ed" : "rsa", r.selector());
            assertEquals(8, r.bPrefix().length());
        }
    }

    @Test
    void aChangedBodyFailsItsBodyHashUnlessPastTheSignedLength() throws IOException {
        for (String name : List.of("rsa-relaxed.eml", "rsa-simple.eml", "ed25519.eml")) {
            DkimResult r = only(message(name).replace("indented line", "indented 1ine"));
            assertEquals(Kind.FAIL, r.kind(), name);
            assertEquals("body hash did not verify", r.reason());
        }
        // l= covers what was signed; text added after it is not vouched for, so the signature
        // verifies but counts for nothing (RFC 6376 §8.2)
        assertEquals(Kind.PASS, only(message("rsa-length.eml")).kind());
        DkimResult appended = only(message("rsa-length.eml") + "appended by a phisher\r\n");
        assertEquals(Kind.POLICY, appended.kind());
        assertTrue(appended.reason().startsWith("body has text past l="), appended.reason());
        assertEquals(Kind.FAIL, only(message("rsa-length.eml").replace("indented line", "indented 1ine")).kind());
    }

    @Test
    void aChangedSignedHeaderFailsTheSignature() throws IOException {
        for (String name : List.of("rsa-relaxed.eml", "rsa-simple.eml", "ed25519.eml")) {
            DkimResult r = only(message(name).replace("Li Wei <li.wei@", "Li Wel <li.wei@"));
            assertEquals(Kind.FAIL, r.kind(), name);
            assertEquals("signature did not verify", r.reason());
        }
    }

    @Test
    void relaxedForgivesRefoldingAndSpacesWhereSimpleDoesNot() throws IOException {
        String respaced = "Subject:   =?UTF-8?B?5L2g5aW977yM5LiW55WM?=  \r\n";
        String original = "Subject: =?UTF-8?B?5L2g5aW977yM5LiW55WM?=\r\n";
        assertEquals(Kind.PASS, only(message("rsa-relaxed.eml").replace(original, respaced)
                .replace("Hello,  \t world  \r\n", "Hello, world\r\n")).kind());
        assertEquals(Kind.FAIL, only(message("rsa-simple.eml").replace(original, respaced)).kind());
        assertEquals(Kind.FAIL, only(message("rsa-simple.eml").replace("Hello,  \t world  \r\n", "Hello, world\r\n")).kind());
    }

    @Test
    void anAddedFromAfterSigningFailsWhenFromWasOversigned() throws IOException {
        // dkimpy signs From twice, as we do: a second From added later is then in the hash
        String forged = message("rsa-relaxed.eml").replace("To: zhang", "From: boss@example.com\r\nTo: zhang");
        assertEquals(Kind.FAIL, only(forged).kind());
    }

    @Test
    void ourOwnSignaturesVerify() throws Exception {
        DkimKey key = DkimKey.generate("example.org", "sel1");
        zone.put(key.dnsName(), List.of(txt(key.dnsText())));
        String body = "From: a@example.org\r\nTo: b@example.net\r\nSubject: round trip\r\n\r\nline  one \r\n\r\n\r\n";
        String signature = DkimSigner.OFF.signature(key, new ByteArrayInputStream(body.getBytes(StandardCharsets.US_ASCII)),
                Instant.now());
        DkimResult r = only(signature + body);
        assertEquals(Kind.PASS, r.kind(), r.reason());
        assertEquals("sel1", r.selector());
    }

    /** RFC 8463: ed25519-sha256 from our signer passes, and fails for a changed body or signed header as RSA does. */
    @Test
    void ourEd25519SignaturesVerify() throws Exception {
        DkimKey key = DkimKey.generate("example.org", "sel1-ed25519", DkimKey.Kind.ED25519);
        zone.put(key.dnsName(), List.of(txt(key.dnsText())));
        String body = "From: a@example.org\r\nTo: b@example.net\r\nSubject: round trip\r\n\r\nline  one \r\n\r\n\r\n";
        String signature = DkimSigner.OFF.signature(key, new ByteArrayInputStream(body.getBytes(StandardCharsets.US_ASCII)),
                Instant.now());
        assertTrue(signature.startsWith("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org;"
                + " s=sel1-ed25519;\r\n"), signature);
        DkimResult r = only(signature + body);
        assertEquals(Kind.PASS, r.kind(), r.reason());
        assertEquals("sel1-ed25519", r.selector());
        assertEquals(Kind.FAIL, only(signature + body.replace("line  one", "line  1")).kind(), "a changed body");
        DkimResult subject = only(signature + body.replace("round trip", "round trap"));
        assertEquals("signature did not verify", subject.reason(), "a changed subject");
    }

    /**
     * RFC 8463 §3's dual signing: one field per key, RSA on top, neither signing the other, so
     * each verifies on its own, and a verifier without the Ed25519 key still passes the RSA one.
     */
    @Test
    void aDualSignedMessagePassesOnceForEachKey() throws Exception {
        DkimKey rsa = DkimKey.generate("example.org", "sel1");
        DkimKey ed = DkimKey.generate("example.org", "sel1-ed25519", DkimKey.Kind.ED25519);
        zone.put(rsa.dnsName(), List.of(txt(rsa.dnsText())));
        zone.put(ed.dnsName(), List.of(txt(ed.dnsText())));
        String body = "From: a@example.org\r\nTo: b@example.net\r\nSubject: both\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n"
                + "\r\nHello\r\n";
        String signatures = DkimSigner.OFF.signatures(List.of(rsa, ed), new ByteArrayInputStream(body.getBytes(StandardCharsets.US_ASCII)),
                Instant.now());
        assertTrue(signatures.startsWith("DKIM-Signature: v=1; a=rsa-sha256;"), signatures);
        assertTrue(signatures.contains("\r\nDKIM-Signature: v=1; a=ed25519-sha256;"), signatures);
        assertFalse(signatures.contains("dkim-signature"), "neither signs the other: " + signatures);
        List<DkimResult> results = verify(signatures + body);
        assertEquals(List.of(Kind.PASS, Kind.PASS), results.stream().map(DkimResult::kind).toList(), results.toString());
        assertEquals(List.of("sel1", "sel1-ed25519"), results.stream().map(DkimResult::selector).toList());
        // a relay that drops one of them leaves the other valid
        String withoutRsa = signatures.substring(signatures.indexOf("DKIM-Signature: v=1; a=ed25519"));
        assertEquals(Kind.PASS, only(withoutRsa + body).kind());

        stop();
        zone.remove(ed.dnsName());
        start();
        results = verify(signatures + body);
        assertEquals(Kind.PASS, results.get(0).kind(), "the RSA signature needs no Ed25519 key");
        assertEquals(Kind.PERMERROR, results.get(1).kind());
    }

    /**
     * RFC 8463 Appendix A: its key (the RFC 8032 §7.1 test 1 key, as openssl writes it), its
     * record, and its message signed with both algorithms. Ed25519 is deterministic, so our key
     * over the same header data gives the RFC's b= octet for octet.
     */
    @Test
    void theRfc8463ExampleVerifiesAndOurKeySignsItOctetForOctet() throws Exception {
        String record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        zone.put("brisbane._domainkey.football.example.com", List.of(txt(record)));
        zone.put("test._domainkey.football.example.com", List.of(txt("v=DKIM1; k=rsa;"
                + " p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3"
                + "FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB")));
        String message = String.join("\r\n",
                "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;",
                " d=football.example.com; i=@football.example.com;",
                " q=dns/txt; s=brisbane; t=1528637909; h=from : to :",
                " subject : date : message-id : from : subject : date;",
                " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
                " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus",
                " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;",
                " d=football.example.com; i=@football.example.com;",
                " q=dns/txt; s=test; t=1528637909; h=from : to : subject :",
                " date : message-id : from : subject : date;",
                " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
                " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3",
                " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz",
                " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=",
                "From: Joe SixPack <joe@football.example.com>",
                "To: Suzie Q <suzie@shopping.example.net>",
                "Subject: Is dinner ready?",
                "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
                "Message-ID: <20030712040037.46341.5F8J@football.example.com>",
                "",
                "Hi.",
                "",
                "We lost the game.  Are you hungry yet?",
                "",
                "Joe.",
                "");
        List<DkimResult> results = verify(message);
        assertEquals(List.of(Kind.PASS, Kind.PASS), results.stream().map(DkimResult::kind).toList(), results.toString());

        Path file = dir.resolve("brisbane.pem");
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n"
                + "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n");
        DkimKey key = DkimKey.read(file, "football.example.com", "brisbane");
        assertEquals(DkimKey.Kind.ED25519, key.kind());
        assertEquals(record, key.dnsText(), "RFC 8463 §4: p= is the bare 32-byte key");
        List<String> fields = HeaderFields.read(new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)),
                DkimVerifier.MAX_HEADER_BYTES);
        SignatureField ed = ((SignatureField.Usable) SignatureField.read(fields.getFirst(), fields, 0)).field();
        assertEquals("/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
                Base64.getEncoder().encodeToString(key.sign(ed.signedHeader())));
    }

    @Test
    void keysThatAreMissingRevokedOrOfAnotherTypeArePermanentErrors() throws IOException {
        zone.put("rsa._domainkey.example.com", List.of(new LocalDnsServer.Txt("v=DKIM1; k=rsa; p=")));
        zone.remove("ed._domainkey.example.com");
        zone.put("ed._domainkey.example.com", List.of());
        DkimResult revoked = only(message("rsa-relaxed.eml"));
        assertEquals(Kind.PERMERROR, revoked.kind());
        assertEquals("key revoked", revoked.reason());
        DkimResult missing = only(message("ed25519.eml"));
        assertEquals(Kind.PERMERROR, missing.kind());
        assertEquals("no key at ed._domainkey.example.com", missing.reason());
    }

    @Test
    void aKeyOfTheWrongTypeOrTooShortIsAPermanentError() throws Exception {
        String edKey = Files.readAllLines(fixture("keys.txt")).get(1).split("\t")[1];
        zone.put("rsa._domainkey.example.com", List.of(txt(edKey)));
        DkimResult r = only(message("rsa-relaxed.eml"));
        assertEquals(Kind.PERMERROR, r.kind());
        assertEquals("key of type ed25519 for a signature by rsa-sha256", r.reason());

        java.security.KeyPairGenerator small = java.security.KeyPairGenerator.getInstance("RSA");
        small.initialize(512);
        String p = java.util.Base64.getEncoder().encodeToString(small.generateKeyPair().getPublic().getEncoded());
        zone.put("rsa._domainkey.example.com", List.of(txt("v=DKIM1; p=" + p)));
        stop();
        start();
        DkimResult weak = only(message("rsa-relaxed.eml"));
        assertEquals(Kind.PERMERROR, weak.kind());
        assertTrue(weak.reason().startsWith("key of 512 bits"), weak.reason());
    }

    @Test
    void aDnsFailureIsATemporaryError() throws IOException {
        zone.put("rsa._domainkey.example.com", List.of(new LocalDnsServer.ServFail()));
        DkimResult r = only(message("rsa-relaxed.eml"));
        assertEquals(Kind.TEMPERROR, r.kind());
        assertTrue(r.reason().startsWith("key lookup failed"), r.reason());
    }

    @Test
    void aFailureUnderATestingKeyIsNeutral() throws IOException {
        String rsaKey = Files.readAllLines(fixture("keys.txt")).get(0).split("\t")[1];
        zone.put("rsa._domainkey.example.com", List.of(txt(rsaKey.replace("v=DKIM1;", "v=DKIM1; t=y;"))));
        DkimResult r = only(message("rsa-relaxed.eml").replace("Li Wei <", "Li Wel <"));
        assertEquals(Kind.NEUTRAL, r.kind());
        assertEquals("signature did not verify (key in testing mode)", r.reason());
    }

    @Test
    void signaturesRefusedOnTheirFaceNeedNoDns() throws IOException {
        String relaxed = message("rsa-relaxed.eml");
        zone.clear();
        DkimResult sha1 = only(relaxed.replace("a=rsa-sha256", "a=rsa-sha1"));
        assertEquals(Kind.PERMERROR, sha1.kind());
        assertEquals("rsa-sha1 is not accepted (RFC 8301)", sha1.reason());
        assertEquals("signature expired", only(relaxed.replace("v=1;", "v=1; x=1000;")).reason());
        assertEquals("From not signed", only(relaxed.replace("h=from : to", "h=to").replace(" : from;", ";")).reason());
        assertEquals("tag d= given twice", only(relaxed.replace("v=1;", "v=1; d=example.net;")).reason());
        assertEquals("i= not within d=", only(relaxed.replace("i=@example.com;", "i=@evil.example;")).reason());
        assertEquals("signature without bh=", only(relaxed.replace("bh=", "bx=")).reason());
        assertEquals("signature without v=", only(relaxed.replace("v=1;", "V=1;")).reason(), "tag names are case-sensitive");
        assertEquals("i= without @", only(relaxed.replace("i=@example.com;", "i=example.com;")).reason());
        DkimResult huge = only(relaxed.replace("d=example.com;", "d=" + "x".repeat(300) + ".example;"));
        assertEquals("", huge.domain(), "a d= that is no name is not repeated in our header");
        assertEquals(List.of(), dns.queries, "no key was asked for");
    }

    @Test
    void atMostFiveSignaturesAreLookedAtAndAnUnsignedMessageHasNone() throws IOException {
        String relaxed = message("rsa-relaxed.eml");
        String signature = relaxed.substring(0, relaxed.indexOf("From: "));
        List<DkimResult> results = verify(signature.repeat(7) + relaxed.substring(relaxed.indexOf("From: ")));
        assertEquals(5, results.size());
        assertTrue(results.stream().allMatch(DkimResult::passed));
        assertEquals(List.of(), verify(relaxed.substring(relaxed.indexOf("From: "))));
    }
}
