package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SenderRewritingTest {
    private static final Instant NOW = Instant.parse("2026-12-06T08:00:00Z");
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();

    @TempDir
    Path dir;

    private static SenderRewriting at(Instant when) {
        return new SenderRewriting(KEY, Clock.fixed(when, ZoneOffset.UTC));
    }

    @Test
    void aForwardedSendersAddressComesBackWhileFreshAndUnforged() {
        SenderRewriting srs = at(NOW);
        String rewritten = srs.forward("carol@sender.test", "forward.test");
        assertTrue(rewritten.matches("SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=sender\\.test=carol@forward\\.test"), rewritten);
        assertEquals(Optional.of("carol@sender.test"), srs.reverse(rewritten));
        assertEquals(Optional.of("carol@sender.test"), srs.reverse(rewritten.toLowerCase()), "case changed on the way back");
        assertEquals(Optional.of("carol@sender.test"), at(NOW.plus(Duration.ofDays(21))).reverse(rewritten));
        assertEquals(Optional.empty(), at(NOW.plus(Duration.ofDays(22))).reverse(rewritten), "too old");
        assertEquals(Optional.empty(), srs.reverse(rewritten.replace("=carol@", "=mallory@")), "the hash covers the sender");
        assertEquals(Optional.empty(), srs.reverse(rewritten.replace("=sender.test=", "=victim.test=")), "and its domain");
        String stamp = rewritten.split("=")[2];
        String otherDay = SenderRewriting.timestamp(NOW.toEpochMilli() / 86_400_000L - 3);
        assertEquals(Optional.empty(), srs.reverse(rewritten.replace("=" + stamp + "=", "=" + otherDay + "=")), "and its time");
        String tomorrow = SenderRewriting.timestamp(NOW.toEpochMilli() / 86_400_000L + 1);
        assertEquals(Optional.empty(), at(NOW.minus(Duration.ofDays(1))).reverse(rewritten), "nor from the future: " + tomorrow);
        assertEquals(Optional.empty(), new SenderRewriting("another key".getBytes(), Clock.fixed(NOW, ZoneOffset.UTC))
                .reverse(rewritten), "another server's key");
        assertEquals(Optional.empty(), srs.reverse("carol@forward.test"));
        assertEquals(Optional.empty(), srs.reverse("SRS0=abc@forward.test"));
    }

    @Test
    void anSrs0AddressForwardedAgainBecomesSrs1AndGoesBackToTheFirstForwarder() {
        SenderRewriting srs = at(NOW);
        String stamp = SenderRewriting.timestamp(NOW.toEpochMilli() / 86_400_000L);
        String first = "SRS0=HHHHHH=" + stamp + "=sender.test=carol@first.test";
        String again = srs.forward(first, "forward.test");
        assertTrue(again.matches("SRS1=[A-Z2-7]{8}=first\\.test==HHHHHH=" + stamp + "=sender\\.test=carol@forward\\.test"), again);
        assertEquals(Optional.of(first), srs.reverse(again));
        assertEquals(Optional.empty(), srs.reverse(again.replace("=first.test=", "=elsewhere.test=")), "the hash covers SRS1 too");
        assertEquals(Optional.empty(), at(NOW.plus(Duration.ofDays(22))).reverse(again), "the first forwarder's time counts");
        String third = srs.forward(again, "third.test");
        assertTrue(third.startsWith("SRS1=") && third.endsWith("=first.test==HHHHHH=" + stamp + "=sender.test=carol@third.test"), third);
        assertEquals(Optional.of(first), srs.reverse(third));
    }

    @Test
    void theNullSenderQuotedLocalPartsLiteralsAndOffLeaveTheSenderAlone() {
        assertEquals("", at(NOW).forward("", "forward.test"));
        assertEquals("\"carol smith\"@sender.test", at(NOW).forward("\"carol smith\"@sender.test", "forward.test"));
        assertEquals("carol@[192.0.2.1]", at(NOW).forward("carol@[192.0.2.1]", "forward.test"));
        assertEquals("carol@sender.test", SenderRewriting.OFF.forward("carol@sender.test", "forward.test"));
        assertEquals(Optional.empty(), SenderRewriting.OFF.reverse(at(NOW).forward("carol@sender.test", "forward.test")));
    }

    @Test
    void theKeyIsMadeOnceReadableByItsOwnerOnly() throws Exception {
        SenderRewriting first = SenderRewriting.load(dir.resolve("srs"));
        String rewritten = first.forward("carol@sender.test", "forward.test");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("srs/secret"))));
        assertEquals(Optional.of("carol@sender.test"), SenderRewriting.load(dir.resolve("srs")).reverse(rewritten),
                "the same key after a restart");
        assertNotEquals(rewritten, SenderRewriting.load(dir.resolve("other")).forward("carol@sender.test", "forward.test"));
        Files.createDirectories(dir.resolve("short"));
        Files.writeString(dir.resolve("short/secret"), "c2hvcnQ=\n");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> SenderRewriting.load(dir.resolve("short")));
        assertTrue(e.getMessage().contains("holds a key of 5 bytes"), e.getMessage());
        assertEquals(java.util.List.of("secret"), Files.list(dir.resolve("srs")).map(f -> f.getFileName().toString()).toList(),
                "no partial file left behind");
    }

    @Test
    void timestampsAreTwoBase32DaysModulo1024() {
        assertEquals("AA", SenderRewriting.timestamp(0));
        assertEquals("AB", SenderRewriting.timestamp(1));
        assertEquals("77", SenderRewriting.timestamp(1023));
        assertEquals("AA", SenderRewriting.timestamp(1024));
    }
}
