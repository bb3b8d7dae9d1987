package dev.mailstack.mta.dkim;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.dkim.DkimResult.Kind;
import dev.mailstack.mta.dns.DnsLookup;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Verifies the DKIM signatures of incoming mail (RFC 6376 §6): rsa-sha256 and ed25519-sha256
 * (RFC 8463), simple and relaxed canonicalization, l= body lengths; rsa-sha1 and RSA keys under
 * 1024 bits are refused as RFC 8301 requires. The body is read once for all signatures. Only the
 * first {@link #MAX_SIGNATURES} fields are looked at (RFC 6376 §6.1 lets a verifier limit them),
 * so a message cannot make us fetch keys without end.
 */
public final class DkimVerifier {
    static final int MAX_SIGNATURES = 5;
    public static final int MAX_HEADER_BYTES = 1 << 20;
    /** SubjectPublicKeyInfo's prefix for a raw 32-byte Ed25519 key (RFC 8410 §4), which is how RFC 8463 §4 publishes it. */
    private static final byte[] ED25519_SPKI = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    private final DnsLookup dns;
    private final Clock clock;

    public DkimVerifier(DnsLookup dns) {
        this(dns, Clock.systemUTC());
    }

    DkimVerifier(DnsLookup dns, Clock clock) {
        this.dns = dns;
        this.clock = clock;
    }

    /** One result per DKIM-Signature field looked at, top first; none when the message has none (dkim=none). */
    public List<DkimResult> verify(InputStream message) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        return verify(HeaderFields.read(in, MAX_HEADER_BYTES), in);
    }

    /** As {@link #verify(InputStream)}, for a header already read ({@link HeaderFields#read}) and the body after it. */
    public List<DkimResult> verify(List<String> fields, InputStream in) throws IOException {
        long now = clock.instant().getEpochSecond();
        List<SignatureField.Reading> readings = new ArrayList<>();
        for (String field : fields) {
            if (readings.size() < MAX_SIGNATURES && HeaderFields.name(field).equals("dkim-signature")) {
                readings.add(SignatureField.read(field, fields, now));
            }
        }
        // one hash per canonicalization and length: signatures that share them share the work
        Map<String, BodyHash> byForm = new HashMap<>();
        for (SignatureField.Reading r : readings) {
            if (r instanceof SignatureField.Usable(SignatureField f)) {
                byForm.computeIfAbsent(f.relaxedBody() + "/" + f.length(), k -> new BodyHash(f.relaxedBody(), f.length()));
            }
        }
        if (!byForm.isEmpty()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                for (BodyHash body : byForm.values()) {
                    body.canonical.write(buffer, 0, n);
                }
            }
            for (BodyHash body : byForm.values()) {
                body.canonical.close();
            }
        }
        List<DkimResult> results = new ArrayList<>();
        for (SignatureField.Reading r : readings) {
            results.add(switch (r) {
                case SignatureField.Refused refused -> refused.result();
                case SignatureField.Usable(SignatureField f) -> result(f, byForm.get(f.relaxedBody() + "/" + f.length()));
            });
        }
        return results;
    }

    /** The key and the signature, once the body hash is known (RFC 6376 §6.1.2, §6.1.3). */
    private DkimResult result(SignatureField c, BodyHash body) {
        if (body.length >= 0 && body.counted < body.length) {
            return c.result(Kind.PERMERROR, "l=" + body.length + " is longer than the body");
        }
        if (!MessageDigest.isEqual(body.hash(), c.bodyHash())) {
            return c.result(Kind.FAIL, "body hash did not verify");
        }
        String keyName = c.names().selector() + "._domainkey." + c.names().domain();
        List<String> records;
        try {
            records = dns.txt(keyName);
        } catch (DnsLookup.DnsFailure e) {
            return c.result(Kind.TEMPERROR, "key lookup failed: " + e.getMessage());
        }
        if (records.isEmpty()) {
            return c.result(Kind.PERMERROR, "no key at " + keyName);
        }
        Map<String, String> key;
        try {
            key = TagList.parse(records.getFirst());
        } catch (IllegalArgumentException e) {
            return c.result(Kind.PERMERROR, "unreadable key record at " + keyName + ": " + e.getMessage());
        }
        String problem = keyProblem(key, c);
        if (problem != null) {
            return c.result(Kind.PERMERROR, problem);
        }
        boolean testing = List.of(key.getOrDefault("t", "").split(":")).stream().anyMatch(f -> f.strip().equals("y"));
        try {
            PublicKey publicKey = publicKey(c.algorithm(), Base64.getDecoder().decode(TagList.base64(key.get("p"))));
            if (publicKey instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < 1024) {
                return c.result(Kind.PERMERROR, "key of " + rsa.getModulus().bitLength() + " bits (RFC 8301: at least 1024)");
            }
            boolean good;
            if (c.algorithm().equals("ed25519-sha256")) {
                Signature ed = Signature.getInstance("Ed25519");
                ed.initVerify(publicKey);
                ed.update(sha256().digest(c.signedHeader())); // RFC 8463 §3: Ed25519 signs the SHA-256 hash
                good = ed.verify(c.signature());
            } else {
                Signature rsa = Signature.getInstance("SHA256withRSA");
                rsa.initVerify(publicKey);
                rsa.update(c.signedHeader());
                good = rsa.verify(c.signature());
            }
            if (good && body.length >= 0 && body.counted > body.length) {
                // RFC 6376 §8.2: text added past l= would ride on the signature; it vouches for
                // part of the message only, so it counts for nothing (RFC 8601 §2.7.1 "policy")
                return c.result(Kind.POLICY, "body has text past l=" + body.length + " that the signature does not cover");
            }
            if (good) {
                return c.result(Kind.PASS, "");
            }
            // RFC 6376 §3.6.1 t=y: mail of a domain still testing is treated as unsigned, not as forged
            return c.result(testing ? Kind.NEUTRAL : Kind.FAIL, "signature did not verify" + (testing ? " (key in testing mode)" : ""));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return c.result(Kind.PERMERROR, "unusable key at " + keyName + ": " + e.getClass().getSimpleName());
        }
    }

    /** What makes the key record unusable for this signature (RFC 6376 §3.6.1, §6.1.2), or null. */
    private static String keyProblem(Map<String, String> key, SignatureField c) {
        if (key.containsKey("v") && !key.get("v").equals("DKIM1")) {
            return "key record of version " + key.get("v");
        }
        String p = key.get("p");
        if (p == null) {
            return "key record without p=";
        }
        if (p.isEmpty()) {
            return "key revoked";
        }
        String type = key.getOrDefault("k", "rsa").toLowerCase(Locale.ROOT);
        if (!c.algorithm().startsWith(type + "-")) {
            return "key of type " + type + " for a signature by " + c.algorithm();
        }
        if (key.containsKey("h") && Arrays.stream(key.get("h").split(":")).noneMatch(h -> h.strip().equalsIgnoreCase("sha256"))) {
            return "key not for sha256";
        }
        if (key.containsKey("s") && Arrays.stream(key.get("s").split(":")).map(String::strip).noneMatch(s -> s.equals("*") || s.equals("email"))) {
            return "key not for email";
        }
        boolean strict = Arrays.stream(key.getOrDefault("t", "").split(":")).anyMatch(f -> f.strip().equals("s"));
        if (strict && !c.identityDomain().equals(c.names().domain())) {
            return "key with t=s and an i= of a subdomain";
        }
        return null;
    }

    private static PublicKey publicKey(String algorithm, byte[] encoded) throws GeneralSecurityException {
        if (algorithm.equals("ed25519-sha256")) {
            if (encoded.length != 32) {
                throw new InvalidKeySpecException("Ed25519 key of " + encoded.length + " bytes");
            }
            byte[] spki = Arrays.copyOf(ED25519_SPKI, ED25519_SPKI.length + 32);
            System.arraycopy(encoded, 0, spki, ED25519_SPKI.length, 32);
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        }
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(encoded));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** The body as one signature hashes it: canonicalized, cut at l= when given, digested. */
    private static final class BodyHash extends OutputStream {
        final MessageDigest digest = sha256();
        final long length;
        long counted;
        final OutputStream canonical;
        private byte[] hash;

        /** The digest, taken once: signatures sharing this body ask for it each. */
        byte[] hash() {
            if (hash == null) {
                hash = digest.digest();
            }
            return hash;
        }

        BodyHash(boolean relaxed, long length) {
            this.length = length;
            this.canonical = relaxed ? new RelaxedCanonicalization.Body(this) : new SimpleBody(this);
        }

        @Override
        public void write(int b) {
            if (length < 0 || counted < length) {
                digest.update((byte) b);
            }
            counted++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            long take = length < 0 ? len : Math.max(0, Math.min(len, length - counted));
            digest.update(b, off, (int) take);
            counted += len;
        }
    }
}
