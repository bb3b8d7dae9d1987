package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.QuotaChange;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The configured shares (mailbox.quota_warning_percent), when a change crosses one, and how a warning states the use. */
class QuotaWarningsTest {
    private static QuotaChange change(long limit, long before, long after) {
        return new QuotaChange(OptionalLong.of(limit), before, after);
    }

    @Test
    void parsesCommaSeparatedPercentagesInAnyOrderAndEmptyAsNone() {
        assertEquals(List.of(80, 95), QuotaWarnings.parse(" 95 , 80").percents());
        assertEquals(List.of(90), QuotaWarnings.parse("90").percents());
        assertTrue(QuotaWarnings.parse("").off());
        assertTrue(QuotaWarnings.parse("  ").off());
        assertEquals(List.of(1, 99), QuotaWarnings.parse("1,99").percents());
    }

    @Test
    void refusesWhatIsNotOneToFiveDistinctPercentagesFromOneTo99() {
        for (String bad : List.of("0", "100", "90%", "a", "80,", ",80", "80;95", "1,2,3,4,5,6", "90,90", "-5", "12345")) {
            assertThrows(IllegalArgumentException.class, () -> QuotaWarnings.parse(bad), bad);
        }
        assertEquals("a percentage is 1 to 99: 100",
                assertThrows(IllegalArgumentException.class, () -> QuotaWarnings.parse("80,100")).getMessage());
    }

    @Test
    void warnsOfTheHighestShareTakenFromBelowToAtOrAbove() {
        QuotaWarnings w = QuotaWarnings.parse("80,95");
        assertEquals(OptionalInt.of(80), w.crossed(change(1000, 799, 800)), "at the share counts");
        assertEquals(OptionalInt.empty(), w.crossed(change(1000, 800, 900)), "already at it");
        assertEquals(OptionalInt.of(95), w.crossed(change(1000, 100, 2000)), "both, and past the limit");
        assertEquals(OptionalInt.of(95), w.crossed(change(1000, 850, 960)));
        assertEquals(OptionalInt.empty(), w.crossed(change(1000, 960, 900)), "going down crosses nothing");
        assertEquals(OptionalInt.empty(), w.crossed(new QuotaChange(OptionalLong.empty(), 0, Long.MAX_VALUE)), "no quota");
        assertEquals(OptionalInt.empty(), QuotaWarnings.OFF.crossed(change(1000, 0, 1000)));
        assertEquals(OptionalInt.empty(), w.crossed(change(0, 0, 10)), "a quota of 0: never below a share");
    }

    @Test
    void aShareIsRoundedUpAndNeverOverflows() {
        assertEquals(900, QuotaWarnings.threshold(1000, 90));
        assertEquals(901, QuotaWarnings.threshold(1001, 90), "900.9 octets: 901 is the first at 90%");
        assertEquals(1, QuotaWarnings.threshold(1, 1));
        assertEquals(java.math.BigInteger.valueOf(Long.MAX_VALUE).multiply(java.math.BigInteger.valueOf(99))
                        .add(java.math.BigInteger.valueOf(99)).divide(java.math.BigInteger.valueOf(100)).longValueExact(),
                QuotaWarnings.threshold(Long.MAX_VALUE, 99));
    }

    @Test
    void sizesAreInBinaryUnitsWithOneDecimalCutNotRounded() {
        assertEquals("0 bytes", QuotaWarning.size(0));
        assertEquals("1 byte", QuotaWarning.size(1));
        assertEquals("1023 bytes", QuotaWarning.size(1023));
        assertEquals("1 KiB", QuotaWarning.size(1024));
        assertEquals("1.5 KiB", QuotaWarning.size(1536));
        assertEquals("97.6 KiB", QuotaWarning.size(100_000));
        assertEquals("4.5 GiB", QuotaWarning.size(4_831_838_208L));
        assertEquals("5 GiB", QuotaWarning.size(5L << 30));
        assertEquals("4.9 GiB", QuotaWarning.size((5L << 30) - 1), "not the 5 GiB of a full mailbox");
        assertEquals("7.9 EiB", QuotaWarning.size(Long.MAX_VALUE));
        assertEquals("Your mailbox is 90% full (4.5 GiB of 5 GiB)",
                new QuotaWarning(90, 4_831_838_208L, 5L << 30).subject());
    }
}
