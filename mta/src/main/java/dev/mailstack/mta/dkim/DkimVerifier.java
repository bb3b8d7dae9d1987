package dev.mailstack.mta.dkim;

import dev.mailstack.mta.dkim.DkimResult.Kind;
import dev.mailstack.mta.dns.DnsLookup;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
        List<Check> checks = new ArrayList<>();
        for (String field : fields) {
            if (checks.size() < MAX_SIGNATURES && HeaderFields.name(field).equals("dkim-signature")) {
                checks.add(Check.of(field, fields, clock.instant().getEpochSecond()));
            }
        }
        // one hash per canonicalization and length: signatures that share them share the work
        Map<String, BodyHash> byForm = new HashMap<>();
        for (Check check : checks) {
            if (check.problem == null) {
                check.body = byForm.computeIfAbsent(check.relaxedBody + "/" + check.length,
                        k -> new BodyHash(check.relaxedBody, check.length));
            }
        }
        List<BodyHash> bodies = List.copyOf(byForm.values());
        if (!bodies.isEmpty()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                for (BodyHash body : bodies) {
                    body.canonical.write(buffer, 0, n);
                }
            }
            for (BodyHash body : bodies) {
                body.canonical.close();
            }
        }
        List<DkimResult> results = new ArrayList<>();
        for (Check check : checks) {
            results.add(check.problem != null ? check.problem : result(check));
        }
        return results;
    }

    /** The key and the signature, once the body hash is known (RFC 6376 §6.1.2, §6.1.3). */
    private DkimResult result(Check c) {
        if (c.body.length >= 0 && c.body.counted < c.body.length) {
            return c.result(Kind.PERMERROR, "l=" + c.body.length + " is longer than the body");
        }
        if (!MessageDigest.isEqual(c.body.hash(), c.bodyHash)) {
            return c.result(Kind.FAIL, "body hash did not verify");
        }
        String keyName = c.selector + "._domainkey." + c.domain;
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
            PublicKey publicKey = publicKey(c.algorithm, Base64.getDecoder().decode(TagList.base64(key.get("p"))));
            if (publicKey instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < 1024) {
                return c.result(Kind.PERMERROR, "key of " + rsa.getModulus().bitLength() + " bits (RFC 8301: at least 1024)");
            }
            boolean good;
            if (c.algorithm.equals("ed25519-sha256")) {
                Signature ed = Signature.getInstance("Ed25519");
                ed.initVerify(publicKey);
                ed.update(sha256().digest(c.signedHeader)); // RFC 8463 §3: Ed25519 signs the SHA-256 hash
                good = ed.verify(c.signature);
            } else {
                Signature rsa = Signature.getInstance("SHA256withRSA");
                rsa.initVerify(publicKey);
                rsa.update(c.signedHeader);
                good = rsa.verify(c.signature);
            }
            if (good && c.body.length >= 0 && c.body.counted > c.body.length) {
                // RFC 6376 §8.2: text added past l= would ride on the signature; it vouches for
                // part of the message only, so it counts for nothing (RFC 8601 §2.7.1 "policy")
                return c.result(Kind.POLICY, "body has text past l=" + c.body.length + " that the signature does not cover");
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
    private static String keyProblem(Map<String, String> key, Check c) {
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
        if (!c.algorithm.startsWith(type + "-")) {
            return "key of type " + type + " for a signature by " + c.algorithm;
        }
        if (key.containsKey("h") && Arrays.stream(key.get("h").split(":")).noneMatch(h -> h.strip().equalsIgnoreCase("sha256"))) {
            return "key not for sha256";
        }
        if (key.containsKey("s") && Arrays.stream(key.get("s").split(":")).map(String::strip).noneMatch(s -> s.equals("*") || s.equals("email"))) {
            return "key not for email";
        }
        boolean strict = Arrays.stream(key.getOrDefault("t", "").split(":")).anyMatch(f -> f.strip().equals("s"));
        if (strict && !c.identityDomain.equals(c.domain)) {
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

    /** One DKIM-Signature field, read and checked as far as the header alone allows (RFC 6376 §6.1.1). */
    private static final class Check {
        String domain = "";
        String selector = "";
        String bPrefix = "";
        String identityDomain;
        String algorithm;
        byte[] bodyHash;
        byte[] signature;
        byte[] signedHeader;
        boolean relaxedBody;
        long length = -1;
        BodyHash body;
        /** Set when the field alone already decides: the result without any DNS. */
        DkimResult problem;

        DkimResult result(Kind kind, String reason) {
            return new DkimResult(kind, domain, selector, bPrefix, reason);
        }

        static Check of(String field, List<String> fields, long now) {
            Check c = new Check();
            try {
                c.read(field, fields, now);
            } catch (IllegalArgumentException e) {
                c.problem = c.result(Kind.PERMERROR, e.getMessage());
            }
            return c;
        }

        private void read(String field, List<String> fields, long now) {
            Map<String, String> tags = TagList.parse(field.substring(field.indexOf(':') + 1));
            // kept for the result only when they are names: they go into our header field
            String d = tags.getOrDefault("d", "").toLowerCase(Locale.ROOT);
            String s = tags.getOrDefault("s", "");
            domain = d.length() <= 253 && d.matches("[a-z0-9_-]+(\\.[a-z0-9_-]+)*") ? d : "";
            selector = s.length() <= 253 && s.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*") ? s : "";
            String b = TagList.base64(tags.getOrDefault("b", ""));
            bPrefix = b.substring(0, Math.min(8, b.length())).replaceAll("[^A-Za-z0-9+/=]", "");
            for (String required : List.of("v", "a", "b", "bh", "d", "h", "s")) {
                if (!tags.containsKey(required)) {
                    throw new IllegalArgumentException("signature without " + required + "=");
                }
            }
            if (!tags.get("v").equals("1")) {
                throw new IllegalArgumentException("signature of version " + tags.get("v"));
            }
            if (domain.isEmpty() || selector.isEmpty()) {
                throw new IllegalArgumentException("bad d= or s=");
            }
            algorithm = tags.get("a").toLowerCase(Locale.ROOT);
            if (algorithm.equals("rsa-sha1")) {
                throw new IllegalArgumentException("rsa-sha1 is not accepted (RFC 8301)");
            }
            if (!algorithm.equals("rsa-sha256") && !algorithm.equals("ed25519-sha256")) {
                throw new IllegalArgumentException("unknown algorithm " + algorithm);
            }
            List<String> signedNames = new ArrayList<>();
            for (String name : tags.get("h").split(":")) {
                signedNames.add(name.replaceAll("[ \t\r\n]", "").toLowerCase(Locale.ROOT));
            }
            if (!signedNames.contains("from")) {
                throw new IllegalArgumentException("From not signed");
            }
            String identity = tags.getOrDefault("i", "@" + domain);
            if (identity.indexOf('@') < 0) {
                throw new IllegalArgumentException("i= without @");
            }
            identityDomain = identity.substring(identity.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
            if (!identityDomain.equals(domain) && !identityDomain.endsWith("." + domain)) {
                throw new IllegalArgumentException("i= not within d=");
            }
            if (tags.containsKey("q") && Arrays.stream(tags.get("q").split(":")).noneMatch(q -> q.strip().equals("dns/txt"))) {
                throw new IllegalArgumentException("no known key query method");
            }
            if (tags.containsKey("x")) {
                long expires = number(tags.get("x"), "x");
                if (expires < now) {
                    throw new IllegalArgumentException("signature expired");
                }
                if (tags.containsKey("t") && expires < number(tags.get("t"), "t")) {
                    throw new IllegalArgumentException("x= before t=");
                }
            }
            String[] canon = tags.getOrDefault("c", "simple/simple").toLowerCase(Locale.ROOT).split("/", -1);
            boolean relaxedHeader = canonicalization(canon[0]);
            boolean relaxedBodyCanon = canon.length > 1 && canonicalization(canon[1]);
            if (canon.length > 2) {
                throw new IllegalArgumentException("bad c=");
            }
            try {
                bodyHash = Base64.getDecoder().decode(TagList.base64(tags.get("bh")));
                signature = Base64.getDecoder().decode(b);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bh= or b= is not base64");
            }
            relaxedBody = relaxedBodyCanon;
            length = tags.containsKey("l") ? number(tags.get("l"), "l") : -1;
            signedHeader = signedHeader(field, fields, signedNames, relaxedHeader);
        }

        private static boolean canonicalization(String name) {
            return switch (name) {
                case "simple" -> false;
                case "relaxed" -> true;
                default -> throw new IllegalArgumentException("unknown canonicalization " + name);
            };
        }

        private static long number(String value, String tag) {
            if (!value.matches("[0-9]{1,12}")) {
                throw new IllegalArgumentException("bad " + tag + "=");
            }
            return Long.parseLong(value);
        }

        /**
         * The octets the signature covers (RFC 6376 §3.7, §5.4.2): the h= fields, each name's
         * instances taken from the bottom up, then this field with b= emptied and no final CRLF.
         */
        private static byte[] signedHeader(String field, List<String> fields, List<String> names, boolean relaxed) {
            Map<String, List<String>> byName = new HashMap<>();
            for (String f : fields) {
                byName.computeIfAbsent(HeaderFields.name(f), n -> new ArrayList<>()).add(f);
            }
            Map<String, Integer> used = new HashMap<>();
            StringBuilder out = new StringBuilder();
            for (String name : names) {
                List<String> instances = byName.getOrDefault(name, List.of());
                int n = used.merge(name, 1, Integer::sum);
                if (n <= instances.size()) {
                    out.append(canonical(instances.get(instances.size() - n), relaxed));
                }
            }
            String own = canonical(withoutB(field), relaxed);
            out.append(own, 0, own.length() - 2);
            return out.toString().getBytes(StandardCharsets.ISO_8859_1);
        }

        private static String canonical(String field, boolean relaxed) {
            return relaxed ? RelaxedCanonicalization.header(field) : field + "\r\n";
        }

        /** The field with the value of its b= tag removed, all else as written. */
        private static String withoutB(String field) {
            int start = field.indexOf(':') + 1;
            while (start < field.length()) {
                int end = field.indexOf(';', start);
                if (end < 0) {
                    end = field.length();
                }
                int eq = field.indexOf('=', start);
                if (eq > 0 && eq < end && field.substring(start, eq).replaceAll("[ \t\r\n]", "").equals("b")) {
                    return field.substring(0, eq + 1) + field.substring(end);
                }
                start = end + 1;
            }
            return field;
        }
    }
}
