package dev.mailstack.store;

import java.util.Optional;

public record MailboxInfo(MailboxId id, MailboxName name, long uidValidity, long uidNext, long highestModSeq,
                          Optional<SpecialUse> specialUse, boolean subscribed) {
}
