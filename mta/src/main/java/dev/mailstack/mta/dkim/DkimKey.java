package dev.mailstack.mta.dkim;

import dev.mailstack.net.PemPrivateKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * A domain's DKIM signing key under one selector (RFC 6376 §3.1): RSA, as every verifier accepts
 * (RFC 8301 §3.2: at least 1024 bits, 2048 recommended, which is what {@link #generate} makes), or
 * Ed25519 (RFC 8463), short and fast but not yet known to every verifier, so signed beside RSA.
 */
public record DkimKey(String domain, String selector, PrivateKey privateKey) {
    public static final int BITS = 2048;

    /** The two kinds of key DKIM signs with; the kind is what a key file holds, never its name. */
    public enum Kind {
        RSA("rsa", "rsa-sha256"),
        ED25519("ed25519", "ed25519-sha256");

        private final String k;
        private final String algorithm;

        Kind(String k, String algorithm) {
            this.k = k;
            this.algorithm = algorithm;
        }

        /** The key record's k= (RFC 6376 §3.6.1, RFC 8463 §4), also the name the CLI takes. */
        public String k() {
            return k;
        }

        /** The signature's a= (RFC 6376 §3.5, RFC 8463 §3). */
        public String algorithm() {
            return algorithm;
        }

        /**
         * The selector a key of this kind has under the configured one: that selector for RSA, as
         * always; {@code SELECTOR-ed25519} for Ed25519, since one DNS name holds one key record.
         */
        public String selector(String configured) {
            return this == RSA ? configured : configured + "-" + k;
        }

        public static Optional<Kind> named(String k) {
            return Arrays.stream(values()).filter(kind -> kind.k.equalsIgnoreCase(k)).findFirst();
        }
    }

    public DkimKey {
        domain = domain.toLowerCase(Locale.ROOT);
        if (!(privateKey instanceof RSAPrivateCrtKey)
                && !(privateKey instanceof EdECPrivateKey ed && ed.getParams().getName().equalsIgnoreCase("Ed25519"))) {
            throw new IllegalArgumentException("a DKIM key is RSA or Ed25519, not " + privateKey.getAlgorithm());
        }
    }

    public Kind kind() {
        return privateKey instanceof RSAPrivateCrtKey ? Kind.RSA : Kind.ED25519;
    }

    /** A new RSA key of {@link #BITS} bits. */
    public static DkimKey generate(String domain, String selector) throws GeneralSecurityException {
        return generate(domain, selector, Kind.RSA);
    }

    public static DkimKey generate(String domain, String selector, Kind kind) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(kind == Kind.RSA ? "RSA" : "Ed25519");
        if (kind == Kind.RSA) {
            generator.initialize(BITS);
        }
        return new DkimKey(domain, selector, generator.generateKeyPair().getPrivate());
    }

    /**
     * A PEM PKCS#8 key ("BEGIN PRIVATE KEY"), RSA or Ed25519, as {@link #pem} writes it or
     * {@code openssl genpkey} makes it. Anything else gives an IOException naming the file.
     */
    public static DkimKey read(Path file, String domain, String selector) throws IOException {
        try {
            PrivateKey key = PemPrivateKey.read(file);
            if (key instanceof RSAPrivateCrtKey rsa && rsa.getModulus().bitLength() < 1024) { // RFC 8301 §3.2: verifiers reject shorter keys
                throw new IOException(file + ": a " + rsa.getModulus().bitLength() + "-bit key is too short to verify"
                        + " anywhere; mailstack dkim keygen makes one of " + BITS + " bits");
            }
            try {
                return new DkimKey(domain, selector, key);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage() + " (openssl genpkey -algorithm RSA -pkeyopt"
                        + " rsa_keygen_bits:2048, or openssl genpkey -algorithm ed25519)");
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use " + file + ": " + e.getMessage(), e);
        }
    }

    public String pem() {
        return PemPrivateKey.pem(privateKey);
    }

    /**
     * The signature over the canonicalized header data (RFC 6376 §3.7): RSASSA-PKCS1-v1_5 over its
     * SHA-256 hash for RSA; for Ed25519, PureEdDSA over the 32-byte SHA-256 hash of the data
     * (RFC 8463 §3: the hash is what is signed, so the data is hashed here and Ed25519 hashes again).
     */
    public byte[] sign(byte[] headerData) throws GeneralSecurityException {
        Signature signature = Signature.getInstance(kind() == Kind.RSA ? "SHA256withRSA" : "Ed25519");
        signature.initSign(privateKey);
        signature.update(kind() == Kind.RSA ? headerData : MessageDigest.getInstance("SHA-256").digest(headerData));
        return signature.sign();
    }

    /** Where the public key goes in DNS: {@code selector._domainkey.domain} (RFC 6376 §3.6.2.1). */
    public String dnsName() {
        return selector + "._domainkey." + domain;
    }

    /**
     * The TXT record's text (RFC 6376 §3.6.1): for RSA the public key as SubjectPublicKeyInfo in
     * base64; for Ed25519 the bare 32-byte public key in base64 (RFC 8463 §4), not its SPKI.
     */
    public String dnsText() {
        try {
            String p = switch (kind()) {
                case RSA -> {
                    RSAPrivateCrtKey rsa = (RSAPrivateCrtKey) privateKey;
                    yield Base64.getEncoder().encodeToString(KeyFactory.getInstance("RSA").generatePublic(
                            new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent())).getEncoded());
                }
                case ED25519 -> Base64.getEncoder().encodeToString(ed25519PublicKey());
            };
            return "v=DKIM1; k=" + kind().k() + "; p=" + p;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA and Ed25519 are in every JDK since 15", e);
        }
    }

    /**
     * The raw public key of an Ed25519 key. The JDK computes it only while generating a pair, and
     * the generator takes the private key's 32 bytes from its random source (RFC 8032 §5.1.5), so
     * the pair is generated again from the key's own bytes. The result is checked against a
     * signature, so that a JDK that draws its randomness otherwise cannot put a wrong key in DNS.
     */
    private byte[] ed25519PublicKey() throws GeneralSecurityException {
        byte[] seed = ((EdECPrivateKey) privateKey).getBytes()
                .orElseThrow(() -> new GeneralSecurityException("the Ed25519 key does not give its bytes"));
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        generator.initialize(NamedParameterSpec.ED25519, new Replay(seed));
        PublicKey publicKey = generator.generateKeyPair().getPublic();
        Signature check = Signature.getInstance("Ed25519");
        check.initSign(privateKey);
        byte[] probe = "dkim".getBytes(StandardCharsets.US_ASCII);
        check.update(probe);
        byte[] signed = check.sign();
        check.initVerify(publicKey);
        check.update(probe);
        if (!check.verify(signed)) {
            throw new GeneralSecurityException("the Ed25519 public key could not be derived from the private key");
        }
        byte[] spki = publicKey.getEncoded(); // RFC 8410 §4: a fixed 12-byte prefix, then the 32-byte key
        return Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    }

    /** A "random" source that gives back the bytes it was made with, for {@link #ed25519PublicKey}. */
    private static final class Replay extends SecureRandom {
        private final byte[] bytes;

        Replay(byte[] bytes) {
            this.bytes = bytes.clone();
        }

        @Override
        public void nextBytes(byte[] out) {
            System.arraycopy(bytes, 0, out, 0, Math.min(bytes.length, out.length));
        }
    }

    /**
     * The record as a zone file line, the text split into quoted strings of at most 255 characters
     * (one TXT string's limit, RFC 1035 §3.3.14; a 2048-bit key needs two).
     */
    public String zoneLine() {
        String text = dnsText();
        StringBuilder quoted = new StringBuilder();
        for (int i = 0; i < text.length(); i += 255) {
            quoted.append(quoted.isEmpty() ? "" : " ").append('"').append(text, i, Math.min(text.length(), i + 255)).append('"');
        }
        return dnsName() + ". IN TXT ( " + quoted + " )";
    }

    /** Writes the key readable by its owner only; refuses to replace one (a published record names it). */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                pem());
    }
}
