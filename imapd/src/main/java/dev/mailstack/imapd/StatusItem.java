package dev.mailstack.imapd;

import java.util.Locale;
import java.util.Optional;

/**
 * A STATUS data item (RFC 3501 §6.3.10), with HIGHESTMODSEQ (RFC 7162 §3.1.6), SIZE (RFC 8438),
 * DELETED (RFC 9051 §6.3.11) and APPENDLIMIT (RFC 7889 §3). Any other name is a syntax error,
 * answered BAD by the parser before the mailbox is looked at.
 */
enum StatusItem {
    MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ, SIZE, DELETED, APPENDLIMIT;

    static Optional<StatusItem> named(String name) {
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
