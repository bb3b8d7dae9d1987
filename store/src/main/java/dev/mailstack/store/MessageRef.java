package dev.mailstack.store;

import java.time.Instant;

/**
 * One message as a mailbox holds it: its place (mailbox, UID), state and the content it points at.
 * {@code savedAt}: when it was put into this mailbox (delivered, appended, copied or moved there),
 * the save date of RFC 8514.
 */
public record MessageRef(MailboxId mailbox, Uid uid, long modSeq, long size, Instant internalDate,
                         Flags flags, ContentId content, String contentKey, Instant savedAt) {
}
