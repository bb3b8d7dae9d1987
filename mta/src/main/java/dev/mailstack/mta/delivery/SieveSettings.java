package dev.mailstack.mta.delivery;

import dev.mailstack.sieve.AdminScripts;
import dev.mailstack.sieve.EditHeaderRules;
import dev.mailstack.sieve.ScannerVerdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The site's Sieve settings for local delivery, replaced whole at start and on SIGHUP.
 *
 * @param adminScripts the administrator's scripts around every account's (sieve.before, sieve.after)
 * @param globalDir    where {@code include :global "NAME"} finds NAME.sieve (RFC 6609 §3.2;
 *                     sieve.global_dir); empty: no global scripts, every such include finds nothing
 * @param duplicateMaxPeriod the longest a duplicate test's ID is remembered (RFC 7352 §3.3 lets a
 *                     site cap :seconds; sieve.duplicate_max_period_seconds, as Pigeonhole's
 *                     sieve_duplicate_max_period)
 * @param spamTest     where the spamtest test finds the spam scanner's verdict (RFC 5235;
 *                     sieve.spamtest_*, as Pigeonhole's sieve_spamtest_*); none: every test yields "0"
 * @param virusTest    the same for virustest (sieve.virustest_*)
 * @param editHeader   the fields scripts may not add or delete (RFC 5293 §6; sieve.editheader_forbid_add
 *                     and _delete, as Pigeonhole's sieve_editheader_forbid_add and _delete)
 */
public record SieveSettings(AdminScripts adminScripts, Optional<Path> globalDir, Duration duplicateMaxPeriod,
        ScannerVerdict spamTest, ScannerVerdict virusTest, EditHeaderRules editHeader) {
    /** Pigeonhole's default cap: a week. */
    public static final Duration DEFAULT_DUPLICATE_MAX_PERIOD = Duration.ofDays(7);
    /** No administrator scripts, no global scripts, the default cap. */
    public static final SieveSettings NONE = new SieveSettings(AdminScripts.NONE, Optional.empty(),
            DEFAULT_DUPLICATE_MAX_PERIOD, ScannerVerdict.NONE, ScannerVerdict.NONE, EditHeaderRules.NONE);

    public SieveSettings {
        Objects.requireNonNull(adminScripts, "adminScripts");
        Objects.requireNonNull(globalDir, "globalDir");
        Objects.requireNonNull(duplicateMaxPeriod, "duplicateMaxPeriod");
        Objects.requireNonNull(spamTest, "spamTest");
        Objects.requireNonNull(virusTest, "virusTest");
        Objects.requireNonNull(editHeader, "editHeader");
    }

    /** No spam or virus scanner configured. */
    public SieveSettings(AdminScripts adminScripts, Optional<Path> globalDir, Duration duplicateMaxPeriod) {
        this(adminScripts, globalDir, duplicateMaxPeriod, ScannerVerdict.NONE, ScannerVerdict.NONE, EditHeaderRules.NONE);
    }
}
