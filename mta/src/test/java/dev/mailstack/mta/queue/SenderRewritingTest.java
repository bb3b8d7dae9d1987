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
        assertTrue(rewritten.matches("SRS0=[A-Za-z0-9]{6}=[A-Z2-7]{2}=sender\\.test=carol@forward\\.test"), rewritten);
        assertEquals(Optional.of("carol@sender.test"), srs.reverse(rewritten));
        assertEquals(Optional.of("carol@sender.test"), srs.reverse(rewritten.toLowerCase()), "case changed on the way back");
        assertEquals(Optional.of("carol@sender.test"), at(NOW.plus(Duration.ofDays(21))).reverse(rewritten));
        assertEquals(Optional.empty(), at(NOW.plus(Duration.ofDays(22))).reverse(rewritten), "too old");
        String forged = rewritten.replace("=carol@", "=mallory@");
        assertEquals(Optional.empty(), srs.reverse(forged), "the hash covers the sender");
        assertEquals(Optional.empty(), new SenderRewriting("another key".getBytes(), Clock.fixed(NOW, ZoneOffset.UTC))
                .reverse(rewritten), "another server's key");
        assertEquals(Optional.empty(), srs.reverse("carol@forward.test"));
        assertEquals(Optional.empty(), srs.reverse("SRS0=abc@forward.test"));
    }

    @Test
    void anSrs0AddressForwardedAgainBecomesSrs1AndGoesBackToTheFirstForwarder() {
        SenderRewriting srs = at(NOW);
        String first = "SRS0=HHHHHH=TT=sender.test=carol@first.test";
        String again = srs.forward(first, "forward.test");
        assertTrue(again.matches("SRS1=[A-Za-z0-9]{6}=first\\.test==HHHHHH=TT=sender\\.test=carol@forward\\.test"), again);
        assertEquals(Optional.of(first), srs.reverse(again));
        String third = srs.forward(again, "third.test");
        assertTrue(third.startsWith("SRS1=") && third.endsWith("=first.test==HHHHHH=TT=sender.test=carol@third.test"), third);
        assertEquals(Optional.of(first), srs.reverse(third));
    }

    @Test
    void theNullSenderAndOffLeaveTheSenderAlone() {
        assertEquals("", at(NOW).forward("", "forward.test"));
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
    }

    @Test
    void timestampsAreTwoBase32DaysModulo1024() {
        assertEquals("AA", SenderRewriting.timestamp(0));
        assertEquals("AB", SenderRewriting.timestamp(1));
        assertEquals("77", SenderRewriting.timestamp(1023));
        assertEquals("AA", SenderRewriting.timestamp(1024));
    }
}
