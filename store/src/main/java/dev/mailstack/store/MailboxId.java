package dev.mailstack.store;

public record MailboxId(long value) {
}
