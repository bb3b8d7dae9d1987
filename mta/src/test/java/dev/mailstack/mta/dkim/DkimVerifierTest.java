package dev.mailstack.mta.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DKIM verification of mail signed by another implementation (dkimpy, see
 * src/test/resources/dkim/make-fixtures.py) and by our own signer, with the keys served by a real
 * DNS server on loopback: every algorithm and canonicalization passes, and each kind of damage or
 * missing key gets the result RFC 6376 and RFC 8301 give it.
 */
class DkimVerifierTest {
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
