package dev.mailstack.store;

import java.util.OptionalLong;

/**
 * An account's storage limit, if it has one, and the octets its messages take (each copy counts,
 * as deliveries and APPEND check it), as the IMAP QUOTA extension reports them.
 */
public record Quota(OptionalLong limitBytes, long usedBytes) {
}
