package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confirming tests of the server review (wt-rserver) about {@code config check}: each fails until
 * its finding is fixed. Moved here untouched from ReviewFindingsTest, for whoever takes them.
 */
class ConfigCheckFindingsTest {
    @TempDir
    Path dir;

    private record Ran(int exit, String out, String err) {
    }

    private Ran capture(String... args) {
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new Ran(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    /**
     * Finding: config check exits 0 for files the server refuses at start and that a SIGHUP
     * refuses to apply: a sieve.before file that does not exist.
     */
    @Test
    void configCheckRefusesAMissingSieveBeforeScript() throws Exception {
        Path sieve = dir.resolve("sieve.conf");
        Files.writeString(sieve, "sieve.before = " + dir.resolve("no-such.sieve") + "\n");
        Ran s = capture("config", "check", "--config", sieve.toString());
        assertEquals(1, s.exit(), "a missing sieve.before script stops serve; config check said: " + s.err());
    }

    /** Finding: the same for tls.certificate without tls.key, which Server.tls() refuses at start. */
    @Test
    void configCheckRefusesACertificateWithoutItsKey() throws Exception {
        Path tls = dir.resolve("tls.conf");
        Files.writeString(tls, "tls.certificate = " + dir.resolve("fullchain.pem") + "\n");
        Ran t = capture("config", "check", "--config", tls.toString());
        assertEquals(1, t.exit(), "tls.certificate without tls.key stops serve; config check said: " + t.err());
    }
}
