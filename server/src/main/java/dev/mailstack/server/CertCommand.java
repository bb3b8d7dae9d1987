package dev.mailstack.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cert", mixinStandardHelpOptions = true, description = "Make TLS certificates.",
        subcommands = {CertCommand.SelfSigned.class})
final class CertCommand {
    @Command(name = "self-signed", mixinStandardHelpOptions = true, description = {
        "Make a self-signed certificate for first runs.",
        "Writes fullchain.pem and privkey.pem (PKCS#8, EC P-256) in the Let's Encrypt layout that"
                + " tls.certificate and tls.key expect. Clients will warn about it."})
    static final class SelfSigned implements Runnable {
        @Option(names = "--host", required = true, paramLabel = "NAME", description = "The server's name, e.g. mail.example.org.")
        String host;
        @Option(names = "--out", paramLabel = "DIR", description = "Where to write the files (default: current folder).")
        Path out = Path.of(".");
        @Option(names = "--days", paramLabel = "N", description = "Validity in days (default: 825).")
        int days = 825;

        @Override
        public void run() {
            try {
                Files.createDirectories(out);
                Path store = Files.createTempFile("mailstack-cert", ".p12");
                Files.delete(store);
                try {
                    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
                    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "mailstack", "-keyalg", "EC",
                            "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=" + host,
                            "-ext", "SAN=dns:" + host, "-validity", Integer.toString(days), "-keystore", store.toString(),
                            "-storetype", "PKCS12", "-storepass", "mailstack").redirectErrorStream(true).start();
                    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (p.waitFor() != 0) {
                        throw new CommandFailure("keytool failed: " + output.strip());
                    }
                    KeyStore ks = KeyStore.getInstance("PKCS12");
                    try (InputStream in = Files.newInputStream(store)) {
                        ks.load(in, "mailstack".toCharArray());
                    }
                    Key key = ks.getKey("mailstack", "mailstack".toCharArray());
                    Certificate cert = ks.getCertificate("mailstack");
                    Path keyFile = out.resolve("privkey.pem");
                    Files.writeString(out.resolve("fullchain.pem"), pem("CERTIFICATE", cert.getEncoded()));
                    Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
                    try {
                        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
                    } catch (UnsupportedOperationException ignored) {
                        // not a POSIX file system
                    }
                    System.out.println("wrote " + out.resolve("fullchain.pem") + " and " + keyFile + " for " + host);
                } finally {
                    Files.deleteIfExists(store);
                }
            } catch (IOException | GeneralSecurityException e) {
                throw new CommandFailure("cannot make a certificate: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandFailure("interrupted");
            }
        }

        private static String pem(String type, byte[] der) {
            return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                    + "\n-----END " + type + "-----\n";
        }
    }
}
