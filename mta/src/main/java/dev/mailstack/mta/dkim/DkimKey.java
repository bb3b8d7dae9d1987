package dev.mailstack.mta.dkim;

import dev.mailstack.net.PemPrivateKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.Locale;

/**
 * A domain's DKIM signing key under one selector (RFC 6376 §3.1): RSA, as every verifier accepts
 * (RFC 8301 §3.2: at least 1024 bits, 2048 recommended, which is what {@link #generate} makes).
 */
public record DkimKey(String domain, String selector, RSAPrivateCrtKey privateKey) {
    public static final int BITS = 2048;

    public DkimKey {
        domain = domain.toLowerCase(Locale.ROOT);
    }

    public static DkimKey generate(String domain, String selector) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(BITS);
        return new DkimKey(domain, selector, (RSAPrivateCrtKey) generator.generateKeyPair().getPrivate());
    }

    /** A PEM PKCS#8 RSA key, as {@link #pem} writes it or openssl genpkey makes it. */
    public static DkimKey read(Path file, String domain, String selector) throws IOException {
        try {
            PrivateKey key = PemPrivateKey.read(file);
            if (!(key instanceof RSAPrivateCrtKey rsa)) {
                throw new IOException(file + ": a DKIM key here is RSA (openssl genpkey -algorithm RSA"
                        + " -pkeyopt rsa_keygen_bits:2048)");
            }
            if (rsa.getModulus().bitLength() < 1024) { // RFC 8301 §3.2: verifiers reject shorter keys
                throw new IOException(file + ": a " + rsa.getModulus().bitLength() + "-bit key is too short to verify"
                        + " anywhere; mailstack dkim keygen makes one of " + BITS + " bits");
            }
            return new DkimKey(domain, selector, rsa);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use " + file + ": " + e.getMessage(), e);
        }
    }

    public String pem() {
        return PemPrivateKey.pem(privateKey);
    }

    /** Where the public key goes in DNS: {@code selector._domainkey.domain} (RFC 6376 §3.6.2.1). */
    public String dnsName() {
        return selector + "._domainkey." + domain;
    }

    /** The TXT record's text (RFC 6376 §3.6.1): the public key, SubjectPublicKeyInfo in base64. */
    public String dnsText() {
        try {
            var pub = KeyFactory.getInstance("RSA").generatePublic(
                    new RSAPublicKeySpec(privateKey.getModulus(), privateKey.getPublicExponent()));
            return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(pub.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA is in every JDK", e);
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
