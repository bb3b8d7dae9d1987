package dev.mailstack.mta.delivery;

import dev.mailstack.sieve.AdminScripts;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The site's Sieve settings for local delivery, replaced whole at start and on SIGHUP.
 *
 * @param adminScripts the administrator's scripts around every account's (sieve.before, sieve.after)
 * @param globalDir    where {@code include :global "NAME"} finds NAME.sieve (RFC 6609 §3.2;
 *                     sieve.global_dir); empty: no global scripts, every such include finds nothing
 */
public record SieveSettings(AdminScripts adminScripts, Optional<Path> globalDir) {
    /** No administrator scripts, no global scripts. */
    public static final SieveSettings NONE = new SieveSettings(AdminScripts.NONE, Optional.empty());

    public SieveSettings {
        Objects.requireNonNull(adminScripts, "adminScripts");
        Objects.requireNonNull(globalDir, "globalDir");
    }
}
