package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VacationTest {
    private static final Duration WEEK = Duration.ofDays(7);
    private static final Instant T0 = Instant.parse("2030-03-01T10:00:00Z");

    @TempDir
    Path dir;
    StoreFixture f;
    Accounts accounts;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        accounts = f.store().accounts();
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void setReadAndClear() {
        assertEquals(Optional.empty(), accounts.vacation(f.user().id()));
        Instant ends = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.SECONDS);
        Vacation away = new Vacation("不在办公室", "我在度假。\n下周一回来。", Optional.of(ends));
        accounts.setVacation("Alice@Example.org", Optional.of(away));
        assertEquals(Optional.of(away), accounts.vacation(f.user().id()));
        assertEquals(Optional.of(away), accounts.vacationSetting("alice@example.org"));

        Vacation open = new Vacation("", "Away.", Optional.empty());
        accounts.setVacation("alice@example.org", Optional.of(open));
        assertEquals(Optional.of(open), accounts.vacation(f.user().id()), "set again: replaced");

        accounts.setVacation("alice@example.org", Optional.empty());
        assertEquals(Optional.empty(), accounts.vacation(f.user().id()));
        assertEquals(Optional.empty(), accounts.vacationSetting("alice@example.org"));
    }

    @Test
    void aVacationPastItsEndIsNone() {
        Vacation ended = new Vacation("Away", "Back now.",
                Optional.of(Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.SECONDS)));
        accounts.setVacation("alice@example.org", Optional.of(ended));
        assertEquals(Optional.empty(), accounts.vacation(f.user().id()));
        assertEquals(Optional.of(ended.endsAt()), accounts.vacationSetting("alice@example.org").map(Vacation::endsAt),
                "the administrator still sees what was set");
    }

    @Test
    void unknownUsersAndBadValuesAreRefused() {
        StoreException e = assertThrows(StoreException.class,
                () -> accounts.setVacation("nobody@example.org", Optional.of(new Vacation("", "x", Optional.empty()))));
        assertEquals(StoreFailure.NOT_FOUND, e.failure());
        assertEquals(StoreFailure.NOT_FOUND,
                assertThrows(StoreException.class, () -> accounts.vacationSetting("nobody@example.org")).failure());
        assertThrows(IllegalArgumentException.class, () -> new Vacation("a\r\nBcc: x@y", "x", Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new Vacation("a", " \n", Optional.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> new Vacation("a", "x".repeat(Vacation.MAX_BODY_CHARS + 1), Optional.empty()));
    }

    @Test
    void oneReplyPerSenderPerInterval() {
        AccountId alice = f.user().id();
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0, WEEK));
        assertFalse(accounts.claimVacationReply(alice, "Bob@Remote.test", T0.plus(Duration.ofDays(6)), WEEK),
                "within the week, whatever the case of the address");
        assertTrue(accounts.claimVacationReply(alice, "carol@remote.test", T0.plus(Duration.ofDays(6)), WEEK),
                "another sender is answered");
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0.plus(WEEK).plusSeconds(1), WEEK),
                "a week after the first reply: the messages in between did not push it back");
        assertFalse(accounts.claimVacationReply(alice, "bob@remote.test", T0.plus(WEEK).plusSeconds(2), WEEK));
        assertFalse(accounts.claimVacationReply(alice, "carol@remote.test", T0.plus(WEEK).plusSeconds(2), WEEK));
    }

    /** RFC 5230 §4.2: each vacation action of a script is tracked on its own, with its own interval. */
    @Test
    void eachHandleIsTrackedOnItsOwnWithItsOwnInterval() {
        AccountId alice = f.user().id();
        Duration minute = Duration.ofMinutes(1);
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", "away", T0, WEEK));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", "x".repeat(500), T0, minute));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0, WEEK), "the administrator's is another");
        assertFalse(accounts.claimVacationReply(alice, "bob@remote.test", "x".repeat(500), T0.plusSeconds(59), minute));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", "x".repeat(499) + "y", T0.plusSeconds(59), minute),
                "long handles are told apart by their hash");
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", "x".repeat(500), T0.plusSeconds(60), minute),
                "a minute's handle lapses after a minute");
        assertFalse(accounts.claimVacationReply(alice, "bob@remote.test", "away", T0.plusSeconds(61), WEEK),
                "and its pruning kept the week-long one's reply");
        accounts.setVacation("alice@example.org", Optional.of(new Vacation("", "Away.", Optional.empty())));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0.plusSeconds(62), WEEK),
                "setting the vacation again starts the administrator's afresh");
        assertFalse(accounts.claimVacationReply(alice, "bob@remote.test", "away", T0.plusSeconds(62), WEEK),
                "but not a script's");
    }

    @Test
    void settingTheVacationAgainAnswersEveryoneAfresh() {
        AccountId alice = f.user().id();
        accounts.setVacation("alice@example.org", Optional.of(new Vacation("", "Away.", Optional.empty())));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0, WEEK));
        accounts.setVacation("alice@example.org", Optional.of(new Vacation("", "Away longer.", Optional.empty())));
        assertTrue(accounts.claimVacationReply(alice, "bob@remote.test", T0.plusSeconds(1), WEEK));
    }

    @Test
    void deletingTheAccountDeletesItsVacationAndReplies() throws Exception {
        accounts.setVacation("alice@example.org", Optional.of(new Vacation("Away", "Gone.", Optional.empty())));
        assertTrue(accounts.claimVacationReply(f.user().id(), "bob@remote.test", T0, WEEK));
        assertEquals(1, rows("vacations"));
        assertEquals(1, rows("vacation_replies"));
        accounts.removeUser("alice@example.org");
        assertEquals(0, rows("vacations"));
        assertEquals(0, rows("vacation_replies"));
    }

    private long rows(String table) throws Exception {
        try (Connection c = f.store().db().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
