package dev.mailstack.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PKCS#8 private key ("BEGIN PRIVATE KEY", RSA, EC or Ed25519) from a PEM file: the TLS key
 * (privkey.pem) and the DKIM signing keys. Older forms are refused with the command that converts them.
 */
public final class PemPrivateKey {
    static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private PemPrivateKey() {
    }

    public static PrivateKey read(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PRIVATE KEY")) {
                byte[] der;
                try {
                    der = Base64.getMimeDecoder().decode(m.group(2));
                } catch (IllegalArgumentException e) { // a truncated or hand-edited file
                    throw new IOException(file + ": the key's base64 is damaged: " + e.getMessage(), e);
                }
                PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
                for (String algorithm : new String[]{"RSA", "EC", "Ed25519"}) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
                    } catch (GeneralSecurityException tryNext) {
                        // the key is of another algorithm
                    }
                }
                throw new IOException(file + ": unsupported private key algorithm");
            }
            if (m.group(1).endsWith("PRIVATE KEY")) {
                throw new IOException(file + " holds a '" + m.group(1) + "'; convert it to PKCS#8: "
                        + "openssl pkcs8 -topk8 -nocrypt -in " + file.getFileName() + " -out privkey.pem");
            }
        }
        throw new IOException(file + " holds no 'BEGIN PRIVATE KEY' block");
    }

    /** The PEM text of a PKCS#8 key, lines of 64 characters as openssl writes them. */
    public static String pem(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }
}
