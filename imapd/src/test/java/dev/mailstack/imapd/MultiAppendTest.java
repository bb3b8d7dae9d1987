package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageSpool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 3502 MULTIAPPEND through a raw socket (Angus Mail's Folder.appendMessages sends one APPEND per
 * message, so no client library exercises it): all messages or none, synchronizing and
 * non-synchronizing literals mixed, one APPENDUID for the set.
 */
class MultiAppendTest {
    private static final long APPEND_LIMIT = 200;
    private static final String ONE = "Subject: one\r\n\r\nfirst\r\n";
    private static final String TWO = "Subject: two\r\n\r\nsecond\r\n";
    /** Bare LFs, as a script sends: stored with CRLF (RFC 3501 §2.3.1). */
    private static final String THREE = "Subject: three\n\nthird\n";

    @TempDir
    Path dir;
    ImapFixture imap;

    @BeforeEach
    void start() throws IOException {
        ImapSettings d = ImapSettings.defaults("imap.example.org");
        imap = new ImapFixture(dir, new ImapSettings(d.hostname(), d.plaintextAuth(), APPEND_LIMIT,
                d.preAuthLiteralLimit(), d.authenticatedIdle(), d.mimeLimits(), d.recent()));
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    @Test
    void everyMessageGoesInWithItsFlagsAndDateAndOneAppendUidNamesThemAll() throws IOException {
        try (LineClient c = imap.login(); LineClient watcher = imap.login()) {
            watcher.send("w SELECT Archive").expectEventually("w OK \\[READ-WRITE\\] SELECT completed");
            c.sendRaw("a APPEND Archive (\\Seen) \"1-Jan-2020 00:00:00 +0000\" {" + size(ONE) + "}\r\n");
            c.expect("\\+ .*");
            c.sendRaw(ONE + " (\\Flagged $Work) {" + size(TWO) + "+}\r\n" + TWO + " {" + size(THREE) + "}\r\n");
            c.expect("\\+ .*");
            c.sendRaw(THREE + "\r\n");
            c.expect("a OK \\[APPENDUID \\d+ 1:3\\] APPEND completed");

            watcher.send("n NOOP").expect("\\* 3 EXISTS");
            watcher.expectEventually("n OK NOOP completed");
            watcher.send("f FETCH 1:3 (FLAGS INTERNALDATE RFC822.SIZE)");
            watcher.expect("\\* 1 FETCH \\(FLAGS \\(\\\\Seen( \\\\Recent)?\\) INTERNALDATE \"01-Jan-2020 00:00:00 \\+0000\" RFC822.SIZE "
                    + size(ONE) + "\\)");
            watcher.expect("\\* 2 FETCH \\(FLAGS \\(\\\\Flagged( \\\\Recent)? \\$Work\\) INTERNALDATE \".*\" RFC822.SIZE "
                    + size(TWO) + "\\)");
            watcher.expect("\\* 3 FETCH \\(FLAGS \\((\\\\Recent)?\\) INTERNALDATE \".*\" RFC822.SIZE " + (size(THREE) + 3) + "\\)");
            watcher.expect("f OK FETCH completed");
        }
    }

    /**
     * RFC 3502 §6.3.11: a message that cannot be appended fails the whole command. A bad second date
     * is BAD, a second literal over APPENDLIMIT (announced, or reached once bare LFs became CRLF) NO
     * [TOOBIG], a missing mailbox NO [TRYCREATE], an empty message NO; the session stays in step, nothing is appended and
     * no spooled message is left behind.
     */
    @Test
    void aBadMessageAnywhereInTheCommandAppendsNothing() throws IOException {
        String overOnceCrlf = "Subject: x\n\n" + "a\n".repeat(80);
        try (LineClient c = imap.login()) {
            c.sendRaw("a APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " \"99-Foo-2020 00:00:00 +0000\" {"
                    + size(TWO) + "+}\r\n" + TWO + "\r\n");
            c.expect("a BAD bad date-time .*");
            c.sendRaw("b APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {300}\r\n");
            c.expect("b NO \\[TOOBIG\\] literal of 300 bytes is over the limit of 200");
            c.sendRaw("d APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {" + size(overOnceCrlf) + "+}\r\n" + overOnceCrlf
                    + " {" + size(TWO) + "+}\r\n" + TWO + "\r\n");
            c.expect("d NO \\[TOOBIG\\] message of \\d+ bytes with CRLF line ends is over the limit of 200");
            c.sendRaw("e APPEND Nowhere {" + size(ONE) + "+}\r\n" + ONE + " {" + size(TWO) + "+}\r\n" + TWO + "\r\n");
            c.expect("e NO \\[TRYCREATE\\] .*");
            // RFC 3502 §6.3.11: a zero-length literal is how a client cancels the command
            c.sendRaw("f APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {0}\r\n");
            c.expect("\\+ .*");
            c.sendRaw("\r\n");
            c.expect("f NO Zero-length message literal; nothing appended");
            c.send("g NOOP").expect("g OK NOOP completed");
            c.send("h STATUS INBOX (MESSAGES UIDNEXT)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0 UIDNEXT 1\\)");
            c.expect("h OK STATUS completed");
        }
        try (Stream<Path> left = Files.list(dir.resolve("data/contents/spool"))) {
            assertEquals(0, left.count(), "spooled messages of failed APPENDs are deleted");
        }
    }

    /**
     * store.min_free_bytes: an APPEND that would take the disk under it is refused as it is
     * announced (NO [OVERQUOTA], Dovecot's answer to a full disk), a non-synchronizing literal is
     * read and dropped so the session stays in step, and with room again the same APPEND is taken.
     */
    @Test
    void aNearlyFullDiskRefusesAppendsUntilThereIsRoomAgain() throws IOException {
        long free = imap.store.store().diskSpace().usable();
        try (LineClient c = imap.login()) {
            imap.store.store().diskSpace().keepFree(Long.MAX_VALUE / 2);
            c.send("a APPEND INBOX {" + size(ONE) + "}").expect("a NO \\[OVERQUOTA\\] Not enough disk space on the server; try again later");
            c.sendRaw("b APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {" + size(TWO) + "+}\r\n" + TWO + "\r\n");
            c.expect("b NO \\[OVERQUOTA\\] .*");
            c.send("c STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0\\)");
            c.expect("c OK STATUS completed");
            imap.store.store().diskSpace().keepFree(free / 2);
            c.sendRaw("d APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + "\r\n");
            c.expect("d OK \\[APPENDUID \\d+ \\d+\\] APPEND completed");
        }
        try (Stream<Path> left = Files.list(dir.resolve("data/contents/spool"))) {
            assertEquals(0, left.count(), "nothing refused was left in the spool");
        }
    }

    /** RFC 3502 §6.3.11 with RFC 9208 §5.1: the quota is checked for the set, and a set over it appends nothing. */
    @Test
    void aSetOverTheQuotaAppendsNothing() throws IOException {
        long used = imap.store.session().quota().usedBytes();
        imap.store.store().accounts().setQuota("alice@example.org", used + size(ONE) + size(TWO) - 1);
        try (LineClient c = imap.login()) {
            c.sendRaw("a APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {" + size(TWO) + "+}\r\n" + TWO + "\r\n");
            c.expect("a NO \\[OVERQUOTA\\] .*");
            c.send("b STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0\\)");
            c.expect("b OK STATUS completed");
            c.sendRaw("d APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + "\r\n");
            c.expect("d OK \\[APPENDUID \\d+ \\d+\\] APPEND completed");
        }
        assertEquals(used + size(ONE), imap.store.session().quota().usedBytes());
    }

    /**
     * The commit's quota check, which the one as literals are announced cannot replace: literals that
     * fit the room left, whose bare LFs made CRLF take the set past it. The whole set is refused, the
     * first message's insert rolled back with the second's, and no spooled message is left behind.
     */
    @Test
    void aSetThatCrlfLineEndsTakePastTheQuotaIsRolledBackAtTheCommit() throws IOException {
        long used = imap.store.session().quota().usedBytes();
        imap.store.store().accounts().setQuota("alice@example.org", used + size(ONE) + size(THREE));
        try (LineClient c = imap.login()) {
            c.sendRaw("a APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {" + size(THREE) + "+}\r\n" + THREE + "\r\n");
            c.expect("a NO \\[OVERQUOTA\\] .*");
            c.send("b STATUS INBOX (MESSAGES UIDNEXT)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0 UIDNEXT 1\\)");
            c.expect("b OK STATUS completed");
        }
        assertEquals(used, imap.store.session().quota().usedBytes());
        try (Stream<Path> left = Files.list(dir.resolve("data/contents/spool"))) {
            assertEquals(0, left.count(), "the spooled messages of a refused set are deleted");
        }
    }

    /**
     * Messages past the memory limit spool to files (smaller ones never make one): a set cancelled
     * by a zero-length literal, and one refused at its commit (bare LFs made CRLF take it past the
     * quota), leave no spool file behind, and the files put under the contents' addresses for the
     * refused commit go at the next sweep of leftovers.
     */
    @Test
    void theFilesOfLargeMessagesInARefusedSetAreDeleted() throws IOException {
        String big = "Subject: big\r\n\r\n" + "line of a large message\r\n".repeat(MessageSpool.IN_MEMORY_MAX / 25 + 1);
        String bareLf = "Subject: bare\n\n" + "line of a large message\n".repeat(MessageSpool.IN_MEMORY_MAX / 24 + 1);
        try (ImapFixture large = new ImapFixture(dir.resolve("large"))) {
            long used = large.store.session().quota().usedBytes();
            large.store.store().accounts().setQuota("alice@example.org", used + size(big) + size(bareLf));
            try (LineClient c = large.login()) {
                c.sendRaw("a APPEND INBOX {" + size(big) + "+}\r\n" + big + " {0}\r\n");
                c.expect("\\+ .*");
                c.sendRaw("\r\n");
                c.expect("a NO Zero-length message literal; nothing appended");
                c.sendRaw("b APPEND INBOX {" + size(big) + "+}\r\n" + big + " {" + size(bareLf) + "+}\r\n" + bareLf + "\r\n");
                c.expect("b NO \\[OVERQUOTA\\] .*");
                c.send("c STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0\\)");
                c.expect("c OK STATUS completed");
            }
            try (Stream<Path> left = Files.list(dir.resolve("large/data/contents/spool"))) {
                assertEquals(List.of(), left.toList(), "no spool file is left");
            }
            // the files put under their addresses before the refused commit, which no row names, are
            // the leftover sweep's (it holds writers off: another set may be about to name the same one)
            assertEquals(2, large.store.store().removeLeftovers(java.time.Duration.ZERO, java.time.Duration.ofSeconds(5)));
            try (Stream<Path> left = Files.walk(dir.resolve("large/data/contents"))) {
                assertEquals(List.of(), left.filter(Files::isRegularFile).toList(), "no content file is left");
            }
        }
    }

    /**
     * Content first, rows after: while the contents of a MULTIAPPEND are synced, neither its mailbox's
     * lock nor its account's writer turn is held, so a STORE in that mailbox and a delivery to the
     * account go ahead meanwhile (they would wait for the set's syncs if its first insert came before
     * them). The set's UIDs are taken at its commit, after the delivery's.
     */
    @Test
    void aStoreAndADeliveryGoAheadWhileTheContentsOfAMultiAppendAreSynced() throws Exception {
        imap.deliver(MailboxName.INBOX, "Subject: earlier\r\n\r\nx\r\n");
        CompletableFuture<Void> syncing = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        // a slow disk for the set's second message only: the first is durable at once
        imap.store.slowContentSync(sha256(TWO), syncing, release);
        try (LineClient c = imap.login(); LineClient other = imap.login()) {
            other.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.sendRaw("a APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {" + size(TWO) + "+}\r\n" + TWO
                    + " {" + size(THREE) + "+}\r\n" + THREE + "\r\n");
            syncing.get(10, TimeUnit.SECONDS);

            other.send("t STORE 1 +FLAGS (\\Flagged)").expectEventually("t OK .*STORE completed");
            assertEquals(2, imap.deliver(MailboxName.INBOX, "Subject: meanwhile\r\n\r\ny\r\n").value());

            release.complete(null);
            c.expect("a OK \\[APPENDUID \\d+ 3:5\\] APPEND completed");
        } finally {
            release.complete(null);
        }
        assertEquals(5, imap.store.session().status(MailboxName.INBOX).messages());
    }

    /** A literal that would pass the quota is refused as it is announced: no "+" to send it, nothing spooled. */
    @Test
    void aLiteralPastTheQuotaIsRefusedBeforeItIsSent() throws IOException {
        long used = imap.store.session().quota().usedBytes();
        imap.store.store().accounts().setQuota("alice@example.org", used + size(ONE) + 10);
        try (LineClient c = imap.login()) {
            c.sendRaw("a APPEND INBOX {" + size(ONE) + "+}\r\n" + ONE + " {150}\r\n");
            c.expect("a NO \\[OVERQUOTA\\] the messages would take the mailbox past its quota \\(" + (size(ONE) + 10) + " bytes left\\)");
            c.send("b STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0\\)");
            c.expect("b OK STATUS completed");
        }
        assertEquals(used, imap.store.session().quota().usedBytes());
    }

    /** Without a quota, what one APPEND spools is still bounded: four times APPENDLIMIT (R6), then NO [LIMIT] as announced. */
    @Test
    void oneAppendSpoolsAtMostFourTimesTheAppendLimit() throws IOException {
        String message = "Subject: x\r\n\r\n" + "y".repeat(190 - 16) + "\r\n";
        assertEquals(190, size(message));
        try (LineClient c = imap.login()) {
            StringBuilder command = new StringBuilder("a APPEND INBOX");
            for (int i = 0; i < 4; i++) {
                command.append(" {190+}\r\n").append(message);
            }
            c.sendRaw(command.append(" {190}\r\n").toString());
            c.expect("a NO \\[LIMIT\\] the messages of one APPEND come to at most 800 bytes .*");
            c.send("b STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 0\\)");
            c.expect("b OK STATUS completed");
            c.sendRaw("d APPEND INBOX {190+}\r\n" + message + " {190+}\r\n" + message + "\r\n");
            c.expect("d OK \\[APPENDUID \\d+ \\d+:\\d+\\] APPEND completed");
        }
    }

    private static String sha256(String message) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(message.getBytes(StandardCharsets.US_ASCII)));
    }

    private static int size(String message) {
        return message.getBytes(StandardCharsets.US_ASCII).length;
    }
}
