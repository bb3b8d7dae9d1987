package dev.mailstack.imapd;

import java.util.Locale;
import java.util.Optional;

/**
 * A STATUS data item (RFC 3501 §6.3.10), with HIGHESTMODSEQ (RFC 7162 §3.1.6), SIZE (RFC 8438),
 * DELETED (RFC 9051 §6.3.11), APPENDLIMIT (RFC 7889 §3), DELETED-STORAGE (RFC 9208 §4.2, which
 * QUOTA=RES-STORAGE requires) and MAILBOXID (RFC 8474 §4.3). Any other name is a syntax error,
 * answered BAD by the parser before the mailbox is looked at.
 */
enum StatusItem {
    MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ, SIZE, DELETED, APPENDLIMIT, DELETED_STORAGE, MAILBOXID;

    static Optional<StatusItem> named(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (upper.contains("_")) {
            return Optional.empty(); // the wire spells DELETED-STORAGE with a hyphen only
        }
        try {
            return Optional.of(valueOf(upper.replace('-', '_')));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The name as the wire spells it. */
    String wire() {
        return name().replace('_', '-');
    }
}
