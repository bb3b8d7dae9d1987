package dev.mailstack.store;

import java.util.OptionalLong;

/**
 * What one transaction's changes so far do to its account's storage use: the use before them and
 * with them, and the account's limit, all read as the account's one writer ({@link
 * Transaction#quotaChange()}), so no other change to the account comes between the two. Local
 * delivery judges from it whether a delivery took the account past a warning threshold.
 */
public record QuotaChange(OptionalLong limitBytes, long usedBefore, long usedAfter) {
    public QuotaChange {
        if (usedBefore < 0 || usedAfter < 0) {
            throw new IllegalArgumentException("negative use: before=" + usedBefore + " after=" + usedAfter);
        }
    }
}
