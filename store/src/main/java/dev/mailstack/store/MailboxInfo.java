package dev.mailstack.store;

import java.util.Optional;

/** {@code objectId}: the mailbox's RFC 8474 MAILBOXID, the same for the mailbox's whole life, RENAME included. */
public record MailboxInfo(MailboxId id, MailboxName name, long uidValidity, long uidNext, long highestModSeq,
                          Optional<SpecialUse> specialUse, boolean subscribed, String objectId) {
}
