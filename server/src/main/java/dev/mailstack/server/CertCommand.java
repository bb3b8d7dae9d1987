package dev.mailstack.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.HexFormat;
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

        private static final java.nio.file.attribute.FileAttribute<?> PRIVATE_FOLDER =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

        @Override
        public void run() {
            try {
                Files.createDirectories(out);
                // keytool's key store only ever in a folder of this user's alone, under a password made
                // now and passed in the environment (not in ps): root writes this for the service
                Path work = Files.createTempDirectory("mailstack-cert", PRIVATE_FOLDER);
                Path store = work.resolve("key.p12");
                byte[] secret = new byte[16];
                new SecureRandom().nextBytes(secret);
                String password = HexFormat.of().formatHex(secret);
                try {
                    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
                    ProcessBuilder pb = new ProcessBuilder(keytool, "-genkeypair", "-alias", "mailstack", "-keyalg", "EC",
                            "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=" + host,
                            "-ext", "SAN=dns:" + host, "-validity", Integer.toString(days), "-keystore", store.toString(),
                            "-storetype", "PKCS12", "-storepass:env", "MAILSTACK_KEYSTORE_PASSWORD").redirectErrorStream(true);
                    pb.environment().put("MAILSTACK_KEYSTORE_PASSWORD", password);
                    Process p = pb.start();
                    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (p.waitFor() != 0) {
                        throw new CommandFailure("keytool failed: " + output.strip());
                    }
                    KeyStore ks = KeyStore.getInstance("PKCS12");
                    try (InputStream in = Files.newInputStream(store)) {
                        ks.load(in, password.toCharArray());
                    }
                    Key key = ks.getKey("mailstack", password.toCharArray());
                    Certificate cert = ks.getCertificate("mailstack");
                    Path keyFile = out.resolve("privkey.pem");
                    Files.writeString(out.resolve("fullchain.pem"), pem("CERTIFICATE", cert.getEncoded()));
                    writePrivately(keyFile, pem("PRIVATE KEY", key.getEncoded()));
                    System.out.println("wrote " + out.resolve("fullchain.pem") + " and " + keyFile + " for " + host);
                } finally {
                    Files.deleteIfExists(store);
                    Files.deleteIfExists(work);
                }
            } catch (IOException | GeneralSecurityException e) {
                throw new CommandFailure("cannot make a certificate: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandFailure("interrupted");
            }
        }

        /**
         * The key, readable by its owner only from the moment it exists: written to a new file made
         * rw------- in the same folder, then moved over the old one, never a file of the umask's mode
         * first and restricted after.
         */
        private static void writePrivately(Path target, String text) throws IOException {
            Path temp;
            try {
                temp = Files.createTempFile(target.getParent(), ".privkey", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                temp = Files.createTempFile(target.getParent(), ".privkey", ".tmp"); // not a POSIX file system
            }
            try {
                Files.writeString(temp, text);
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        }

        private static String pem(String type, byte[] der) {
            return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                    + "\n-----END " + type + "-----\n";
        }
    }
}
