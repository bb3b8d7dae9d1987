package dev.mailstack.imapd;

import java.time.LocalDate;
import java.util.List;

/** A SEARCH criterion (RFC 3501 §6.4.4); a list of keys means all of them. */
sealed interface SearchKey {
    record All() implements SearchKey {
    }

    /** \Seen, \Deleted ... set ({@code set}) or not. */
    record Flag(dev.mailstack.store.Flag flag, boolean set) implements SearchKey {
    }

    record Keyword(String keyword, boolean set) implements SearchKey {
    }

    /** RECENT and OLD (RFC 3501 §6.4.4); NEW is RECENT UNSEEN. */
    record Recent(boolean recent) implements SearchKey {
    }

    enum DateOp { BEFORE, ON, SINCE }

    /**
     * Which date a date key compares: INTERNALDATE (BEFORE, ON, SINCE), the Date: header (SENTBEFORE,
     * SENTON, SENTSINCE) or the save date (RFC 8514 §4.3: SAVEDBEFORE, SAVEDON, SAVEDSINCE).
     */
    enum DateField { INTERNAL, SENT, SAVED }

    record Date(DateOp op, LocalDate date, DateField field) implements SearchKey {
    }

    /** RFC 8514 §4.3 SAVEDATESUPPORTED: every message when the mailbox keeps save dates, none when not. */
    record SaveDateSupported() implements SearchKey {
    }

    /** RFC 8474 §6 EMAILID and THREADID: the message with that id ({@code thread}: in that thread). */
    record ObjectId(String id, boolean thread) implements SearchKey {
    }

    /** RFC 5032 WITHIN: OLDER and YOUNGER, an INTERNALDATE more or less than {@code seconds} before now. */
    record Age(boolean older, long seconds) implements SearchKey {
    }

    record Size(boolean larger, long size) implements SearchKey {
    }

    /** HEADER field value, and FROM/TO/CC/BCC/SUBJECT as header searches on decoded text. */
    record Header(String field, String value) implements SearchKey {
    }

    record Body(String text) implements SearchKey {
    }

    record Text(String text) implements SearchKey {
    }

    record Uids(SequenceSet set) implements SearchKey {
    }

    record Sequence(SequenceSet set) implements SearchKey {
    }

    record ModSeq(long modSeq) implements SearchKey {
    }

    record Not(SearchKey key) implements SearchKey {
    }

    record Or(SearchKey left, SearchKey right) implements SearchKey {
    }

    record And(List<SearchKey> keys) implements SearchKey {
        public And {
            keys = List.copyOf(keys);
        }
    }
}
