package dev.mailstack.store;

/** Counts for a STATUS-like query; computed in SQL without loading messages. */
public record MailboxStatus(MailboxInfo info, long messages, long unseen, long deleted, long totalSize, long recent) {
}
