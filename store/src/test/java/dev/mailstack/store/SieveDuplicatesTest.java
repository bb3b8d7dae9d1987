package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The duplicate test's memory (RFC 7352): per account and handle, until expiry; :last moves the
 * expiry; a message asked again gets the answer it got the first time.
 */
class SieveDuplicatesTest {
    @TempDir
    Path dir;
    /** The queued message whose delivery recorded the IDs, and another one asking later. */
    private static final QueueId FIRST = new QueueId(1);
    private static final QueueId LATER = new QueueId(2);

    @Test
    void idsAreKeptPerAccountAndHandleUntilTheyExpire() {
        try (StoreFixture f = StoreFixture.create(dir)) {
            SieveDuplicates d = f.store().sieveDuplicates();
            AccountId alice = f.user().id();
            AccountId bob = f.store().accounts().addUser("bob@example.org", PasswordScheme.hash("x")).id();
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            assertFalse(d.seen(alice, "", "<a@x>", t0, LATER));
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), false)), t0, FIRST);
            assertTrue(d.seen(alice, "", "<a@x>", t0.plusSeconds(60), LATER));
            assertFalse(d.seen(alice, "h", "<a@x>", t0.plusSeconds(60), LATER), "another handle");
            assertFalse(d.seen(bob, "", "<a@x>", t0.plusSeconds(60), LATER), "another account");
            assertFalse(d.seen(alice, "", "<a@x>", t0.plus(Duration.ofHours(1)), LATER), "expired");
        }
    }

    @Test
    void withoutLastTheFirstSightingCountsWithLastTheLatest() {
        try (StoreFixture f = StoreFixture.create(dir)) {
            SieveDuplicates d = f.store().sieveDuplicates();
            AccountId alice = f.user().id();
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            Instant t1 = t0.plus(Duration.ofMinutes(50));
            d.record(alice, List.of(new SieveDuplicates.Mark("", "first", Duration.ofHours(1), false),
                    new SieveDuplicates.Mark("", "last", Duration.ofHours(1), true)), t0, FIRST);
            d.record(alice, List.of(new SieveDuplicates.Mark("", "first", Duration.ofHours(1), false),
                    new SieveDuplicates.Mark("", "last", Duration.ofHours(1), true)), t1, FIRST);
            Instant t2 = t0.plus(Duration.ofMinutes(70));
            assertFalse(d.seen(alice, "", "first", t2, LATER), "expires an hour after it was first seen");
            assertTrue(d.seen(alice, "", "last", t2, LATER), ":last: an hour after it was last seen");
            // an expired ID recorded again counts afresh (the old row is pruned first)
            d.record(alice, List.of(new SieveDuplicates.Mark("", "first", Duration.ofHours(1), false)), t2, FIRST);
            assertTrue(d.seen(alice, "", "first", t2.plusSeconds(1), LATER));
        }
    }

    /** A message tried again after its delivery recorded its IDs is not a duplicate of itself. */
    @Test
    void theMessageThatRecordedAnIdIsNoDuplicateOfItself() {
        try (StoreFixture f = StoreFixture.create(dir)) {
            SieveDuplicates d = f.store().sieveDuplicates();
            AccountId alice = f.user().id();
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), false)), t0, FIRST);
            assertFalse(d.seen(alice, "", "<a@x>", t0.plusSeconds(1), FIRST), "its own retry");
            assertTrue(d.seen(alice, "", "<a@x>", t0.plusSeconds(1), LATER), "another copy");
        }
    }

    /**
     * RFC 7352 §3 across a retry: the first copy was filed and tracked (not a duplicate) but must be
     * tried again; a later copy is a duplicate and renews the tracking with :last; the first copy's
     * retry still gets its own answer, not "seen by the later copy", and a third copy is a duplicate.
     */
    @Test
    void aRetryGetsItsOwnAnswerAgainWhateverLaterCopiesDid() {
        try (StoreFixture f = StoreFixture.create(dir)) {
            SieveDuplicates d = f.store().sieveDuplicates();
            AccountId alice = f.user().id();
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), true, false)), t0, FIRST);
            assertTrue(d.seen(alice, "", "<a@x>", t0.plusSeconds(1), LATER));
            Instant t1 = t0.plus(Duration.ofMinutes(30));
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), true, true)), t1, LATER);
            assertFalse(d.seen(alice, "", "<a@x>", t1.plusSeconds(1), FIRST), "the first copy's retry: as before");
            assertTrue(d.seen(alice, "", "<a@x>", t1.plusSeconds(1), LATER), "the later copy's retry: as before");
            assertTrue(d.seen(alice, "", "<a@x>", t0.plus(Duration.ofMinutes(61)), new QueueId(3)),
                    ":last: tracked an hour from the later copy");
        }
    }

    /** Without :last a later copy's row does not make the ID last longer than its first sighting. */
    @Test
    void withoutLastALaterCopyKeepsTheFirstSightingsExpiry() {
        try (StoreFixture f = StoreFixture.create(dir)) {
            SieveDuplicates d = f.store().sieveDuplicates();
            AccountId alice = f.user().id();
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), false)), t0, FIRST);
            d.record(alice, List.of(new SieveDuplicates.Mark("", "<a@x>", Duration.ofHours(1), false, true)),
                    t0.plus(Duration.ofMinutes(50)), LATER);
            assertFalse(d.seen(alice, "", "<a@x>", t0.plus(Duration.ofMinutes(61)), new QueueId(3)));
        }
    }
}
