package dev.mailstack.store;

import java.time.Instant;

/** One message as a mailbox holds it: its place (mailbox, UID), state and the content it points at. */
public record MessageRef(MailboxId mailbox, Uid uid, long modSeq, long size, Instant internalDate,
                         Flags flags, ContentId content, String contentKey) {
}
