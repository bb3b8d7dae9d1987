package dev.mailstack.imapd;

import dev.mailstack.store.Flags;
import dev.mailstack.store.MessageSpool;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** A parsed IMAP command (STYLE.md R2); the session switches over these exhaustively. */
sealed interface ImapCommand {
    record Capability() implements ImapCommand {
    }

    record Noop() implements ImapCommand {
    }

    record Logout() implements ImapCommand {
    }

    record StartTls() implements ImapCommand {
    }

    record Login(String user, String password) implements ImapCommand {
    }

    record Authenticate(String mechanism, Optional<String> initialResponse) implements ImapCommand {
    }

    record Select(String mailbox, boolean readOnly, boolean condstore, Optional<Qresync> qresync) implements ImapCommand {
    }

    /** RFC 7162 §3.2.5: what a client knew of the mailbox when it last had it selected. */
    record Qresync(long uidValidity, long modSeq, Optional<SequenceSet> knownUids) {
    }

    record Create(String mailbox) implements ImapCommand {
    }

    record Delete(String mailbox) implements ImapCommand {
    }

    record Rename(String from, String to) implements ImapCommand {
    }

    record Subscribe(String mailbox, boolean subscribe) implements ImapCommand {
    }

    /**
     * LIST and LSUB, with RFC 5258's selection and return options and RFC 5819's LIST-STATUS.
     * Selection options (RFC 5258 §3): {@code subscribedOnly} (SUBSCRIBED),
     * {@code specialUseOnly} (SPECIAL-USE, RFC 6154 §5.1) and {@code recursiveMatch}
     * (RECURSIVEMATCH, which the parser accepts only beside SUBSCRIBED).
     */
    record ListMailboxes(String reference, List<String> patterns, boolean lsub, boolean subscribedOnly,
                         boolean specialUseOnly, boolean recursiveMatch,
                         boolean returnSubscribed, boolean returnChildren, boolean returnSpecialUse,
                         List<StatusItem> statusItems, boolean extended) implements ImapCommand {
    }

    record Status(String mailbox, List<StatusItem> items) implements ImapCommand {
    }

    /** APPEND, with RFC 3502 MULTIAPPEND's one or more messages, appended all or none. */
    record Append(String mailbox, List<AppendMessage> messages) implements ImapCommand {
        public Append {
            messages = List.copyOf(messages);
        }

        /** Deletes the spooled messages (appending moved those it stored into the store already). */
        void discard() throws java.io.IOException {
            for (AppendMessage m : messages) {
                m.message().discard();
            }
        }
    }

    record AppendMessage(Flags flags, Optional<Instant> date, MessageSpool.Spooled message) {
    }

    record Check() implements ImapCommand {
    }

    record Close() implements ImapCommand {
    }

    record Unselect() implements ImapCommand {
    }

    record Expunge(Optional<SequenceSet> uids) implements ImapCommand {
    }

    /** {@code charset}: as named after CHARSET; none means US-ASCII (RFC 3501 §6.4.4). */
    record Search(boolean uid, Optional<String> charset, SearchKey key, boolean esearch, List<String> returnOptions)
            implements ImapCommand {
        /** US-ASCII, which RFC 3501 §6.4.4 requires, and UTF-8, in which every string is read. */
        static final List<String> CHARSETS = List.of("UTF-8", "US-ASCII");

        /** RFC 5182 §2.1 SAVE: the result becomes {@code $}. */
        boolean saves() {
            return returnOptions.contains("SAVE");
        }

        boolean charsetSupported() {
            return charset.isEmpty() || supports(charset.get());
        }

        /** Whether strings of search keys in this charset can be read; SORT and THREAD accept the same. */
        static boolean supports(String charset) {
            return CHARSETS.stream().anyMatch(c -> c.equalsIgnoreCase(charset));
        }
    }

    /**
     * RFC 5256 SORT and UID SORT: the messages {@code key} finds, in the order of {@code criteria}.
     * {@code charset} is mandatory here (§3). {@code esearch}: RFC 5267 §3 ESORT, RETURN (...)
     * answered with an ESEARCH response whose numbers are in sort order.
     */
    record Sort(boolean uid, List<SortCriterion> criteria, String charset, SearchKey key, boolean esearch,
                List<String> returnOptions) implements ImapCommand {
        public Sort {
            criteria = List.copyOf(criteria);
            returnOptions = List.copyOf(returnOptions);
        }

        /** RFC 5182 §2.1 SAVE, with ESORT (RFC 5267 §3). */
        boolean saves() {
            return returnOptions.contains("SAVE");
        }
    }

    /** RFC 5256 §3 threading algorithms (the THREAD= capabilities). */
    enum ThreadAlgorithm { ORDEREDSUBJECT, REFERENCES }

    /** RFC 5256 THREAD and UID THREAD (a name that does not hide java.lang.Thread). */
    record ThreadMessages(boolean uid, ThreadAlgorithm algorithm, String charset, SearchKey key) implements ImapCommand {
    }

    /** {@code vanished}: RFC 7162 §3.2.6, also tell which UIDs of the set are gone. */
    record Fetch(boolean uid, SequenceSet set, List<FetchItem> items, Optional<Long> changedSince, boolean vanished)
            implements ImapCommand {
    }

    enum StoreMode { ADD, REMOVE, REPLACE }

    record Store(boolean uid, SequenceSet set, StoreMode mode, boolean silent, Flags flags,
                 Optional<Long> unchangedSince) implements ImapCommand {
    }

    record Copy(boolean uid, SequenceSet set, String mailbox, boolean move) implements ImapCommand {
    }

    record Idle() implements ImapCommand {
    }

    record Namespace() implements ImapCommand {
    }

    record Id() implements ImapCommand {
    }

    record Enable(List<String> capabilities) implements ImapCommand {
    }

    record Compress(String mechanism) implements ImapCommand {
    }

    /** RFC 9208 §4.1: GETQUOTA, GETQUOTAROOT and SETQUOTA (whose limits are left unread: it is refused). */
    record GetQuota(String root) implements ImapCommand {
    }

    record GetQuotaRoot(String mailbox) implements ImapCommand {
    }

    record SetQuota(String root) implements ImapCommand {
    }
}
