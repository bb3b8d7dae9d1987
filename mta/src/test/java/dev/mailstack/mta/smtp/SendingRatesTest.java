package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.MovableClock;
import dev.mailstack.store.AccountId;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SendingRatesTest {
    private static final AccountId ALICE = new AccountId(1);
    private static final AccountId BOB = new AccountId(2);

    @Test
    void anAccountsRecipientsCountForAnHourThenLapseMinuteByMinute() {
        MovableClock clock = new MovableClock();
        SendingRates rates = new SendingRates(10, clock);
        rates.tryRecord(ALICE, 4);
        clock.advance(Duration.ofMinutes(30));
        rates.tryRecord(ALICE, 6);
        assertTrue(rates.allows(ALICE, 0));
        assertFalse(rates.allows(ALICE, 1), "10 of 10 in the last hour");
        assertTrue(rates.allows(BOB, 10), "each account has its own hour");
        clock.advance(Duration.ofMinutes(29));
        assertFalse(rates.allows(ALICE, 1), "59 minutes after the first message it still counts");
        clock.advance(Duration.ofMinutes(1));
        assertTrue(rates.allows(ALICE, 4), "an hour after, its 4 have lapsed");
        assertFalse(rates.allows(ALICE, 5));
        clock.advance(Duration.ofMinutes(30));
        assertTrue(rates.allows(ALICE, 10), "and then the 6");
    }

    @Test
    void aWholeHourOfSilenceAndALimitChangedLiveAreHonoured() {
        MovableClock clock = new MovableClock();
        SendingRates rates = new SendingRates(5, clock);
        rates.tryRecord(ALICE, 5);
        assertFalse(rates.allows(ALICE, 1));
        rates.limit(0);
        assertTrue(rates.allows(ALICE, 1000), "0: no limit (a SIGHUP turned it off)");
        rates.limit(6);
        assertTrue(rates.allows(ALICE, 1), "the recipients counted before still count");
        assertFalse(rates.allows(ALICE, 2));
        clock.advance(Duration.ofHours(5)); // slot stamps from hours ago are not this hour's
        assertTrue(rates.allows(ALICE, 6));
        assertThrows(IllegalArgumentException.class, () -> rates.limit(-1));
    }

    /** Two sessions of one account checked at RCPT together: only what fits is taken at the end of DATA. */
    @Test
    void takingIsAllOrNothingAndAMessageNotSentIsGivenBack() {
        MovableClock clock = new MovableClock();
        SendingRates rates = new SendingRates(10, clock);
        assertTrue(rates.allows(ALICE, 8) && rates.allows(ALICE, 8), "both sessions' RCPTs looked at an empty hour");
        assertTrue(rates.tryRecord(ALICE, 8).isPresent());
        assertTrue(rates.tryRecord(ALICE, 8).isEmpty(), "the second message does not fit any more");
        SendingRates.Taken two = rates.tryRecord(ALICE, 2).orElseThrow();
        rates.giveBack(ALICE, two); // its queueing failed
        assertTrue(rates.allows(ALICE, 2));
        assertFalse(rates.allows(ALICE, 3));
        SendingRates.Taken late = rates.tryRecord(ALICE, 2).orElseThrow();
        clock.advance(Duration.ofMinutes(1));
        rates.giveBack(ALICE, late); // in a later minute: from the slot it was taken in, not this one
        assertTrue(rates.allows(ALICE, 2));
        assertFalse(rates.allows(ALICE, 3), "the 8 taken before still count");
        SendingRates unlimited = new SendingRates(0, clock);
        SendingRates.Taken nothing = unlimited.tryRecord(ALICE, 5).orElseThrow();
        unlimited.limit(3); // a SIGHUP between the take and a failed queueing
        unlimited.giveBack(ALICE, nothing);
        unlimited.tryRecord(ALICE, 3);
        assertFalse(unlimited.allows(ALICE, 1), "nothing taken, nothing given back: the hour never goes below zero");
    }

    @Test
    void manyAccountsThatStopSendingAreForgotten() {
        MovableClock clock = new MovableClock();
        SendingRates rates = new SendingRates(100, clock);
        for (int i = 0; i < 1000; i++) {
            rates.tryRecord(new AccountId(i), 1);
        }
        clock.advance(Duration.ofMinutes(60));
        for (int minute = 0; minute < 10; minute++) { // the sweep's turn comes once in ten minutes
            clock.advance(Duration.ofMinutes(1));
            rates.tryRecord(ALICE, 1);
        }
        assertTrue(rates.remembered() <= 1, "idle accounts dropped: " + rates.remembered());
    }
}
