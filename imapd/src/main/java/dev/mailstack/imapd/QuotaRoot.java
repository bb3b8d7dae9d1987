package dev.mailstack.imapd;

import dev.mailstack.store.Quota;
import java.util.Optional;

/**
 * The one quota root of an account that has a quota (RFC 9208 §3): every mailbox of the account is
 * under it and its one resource is STORAGE, in units of 1024 octets. Named as Dovecot names its
 * root, which is what Thunderbird shows beside its quota meter.
 */
record QuotaRoot(long usedBytes, long limitBytes) {
    static final String NAME = "User quota";

    /** Empty for an account without a quota: its mailboxes are under no root (RFC 9208 §4.2.2). */
    static Optional<QuotaRoot> of(Quota quota) {
        return quota.limitBytes().isPresent()
                ? Optional.of(new QuotaRoot(quota.usedBytes(), quota.limitBytes().getAsLong()))
                : Optional.empty();
    }

    /**
     * The QUOTA response (RFC 9208 §5.1). Use is rounded up and the limit down, so a mailbox that
     * has reached its limit never shows room left.
     */
    String response() {
        return "QUOTA " + ImapSyntax.nstring(NAME) + " (STORAGE " + kilobytesUp(usedBytes) + " " + limitBytes / 1024 + ")";
    }

    static long kilobytesUp(long bytes) {
        return bytes / 1024 + (bytes % 1024 == 0 ? 0 : 1);
    }
}
