package dev.mailstack.pop3d;

import dev.mailstack.store.Account;
import dev.mailstack.store.Flag;
import dev.mailstack.store.FlagChange;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;

/**
 * A logged-in session's maildrop: INBOX as it was at login (RFC 1939 §4: messages delivered
 * later are not shown), plus the marks DELE and RETR made. Nothing reaches the store before
 * {@link #update()} (STYLE.md R9). Owns the maildrop lock until {@link #close()}.
 */
final class Maildrop implements AutoCloseable {
    /** What QUIT changed in the store. */
    record Update(int expunged, int seen) {
    }

    private final Account account;
    private final StoreSession session;
    private final MailboxView view;
    private final List<MessageRef> messages;
    private final long totalOctets;
    /** "uidvalidity-" of every UIDL value, in ASCII: the same for the whole maildrop. */
    private final byte[] uniqueIdPrefix;
    private final BitSet deleted = new BitSet();
    private final BitSet retrieved = new BitSet();
    /** STAT's figures, kept up to date by DELE and RSET so no command counts the maildrop again. */
    private int liveCount;
    private long liveOctets;
    private final MaildropLocks.Lease lease;

    private Maildrop(Account account, StoreSession session, MailboxView view, MaildropLocks.Lease lease) {
        this.account = account;
        this.session = session;
        this.view = view;
        this.messages = Collections.unmodifiableList(view.messages()); // already a copy of its own
        long octets = 0;
        for (MessageRef m : messages) {
            octets += m.size();
        }
        this.totalOctets = octets;
        this.liveCount = messages.size();
        this.liveOctets = octets;
        this.uniqueIdPrefix = (Long.toHexString(view.info().uidValidity()) + "-").getBytes(StandardCharsets.US_ASCII);
        this.lease = lease;
    }

    /**
     * Takes the snapshot. On failure, whatever was thrown (an Error too), the view and the lease
     * are released before it leaves: an account left locked would get [IN-USE] until a restart.
     */
    static Maildrop open(MailboxStore store, Account account, MaildropLocks.Lease lease) {
        MailboxView view = null;
        boolean opened = false;
        try {
            StoreSession session = store.open(account.id());
            view = session.select(MailboxName.INBOX);
            Maildrop drop = new Maildrop(account, session, view, lease);
            opened = true;
            return drop;
        } finally {
            if (!opened) {
                try {
                    if (view != null) {
                        view.close();
                    }
                } finally {
                    lease.close();
                }
            }
        }
    }

    Account account() {
        return account;
    }

    /** Messages in the snapshot, deleted ones included (numbers never shift within a session). */
    int size() {
        return messages.size();
    }

    boolean exists(int number) {
        return number >= 1 && number <= messages.size();
    }

    boolean isDeleted(int number) {
        return deleted.get(number - 1);
    }

    MessageRef message(int number) {
        return messages.get(number - 1);
    }

    /** RFC 1939 §5 STAT: messages not marked deleted. */
    int liveCount() {
        return liveCount;
    }

    long liveOctets() {
        return liveOctets;
    }

    /**
     * The UIDL value (RFC 1939 §7: 1 to 70 characters from 0x21 to 0x7E): UIDVALIDITY and UID in
     * hex. Both survive restarts, so Thunderbird's "leave messages on server" never downloads a
     * message twice; they change only if INBOX is recreated, and then every message is new anyway.
     * Do not change the format: clients would fetch every message again.
     */
    String uniqueId(int number) {
        return new String(uniqueIdPrefix, StandardCharsets.US_ASCII) + Long.toHexString(message(number).uid().value());
    }

    /** What every {@link #uniqueId} starts with, for writing a whole UIDL listing without Strings. */
    byte[] uniqueIdPrefix() {
        return uniqueIdPrefix.clone();
    }

    void markDeleted(int number) {
        if (!deleted.get(number - 1)) {
            deleted.set(number - 1);
            liveCount--;
            liveOctets -= message(number).size();
        }
    }

    void markRetrieved(int number) {
        retrieved.set(number - 1);
    }

    /** RFC 1939 §5 RSET: unmarks deletions. RETR marks stay: those messages were downloaded. */
    void unmarkDeleted() {
        deleted.clear();
        liveCount = messages.size();
        liveOctets = totalOctets;
    }

    InputStream openContent(int number) throws IOException {
        return session.openContent(message(number));
    }

    /**
     * RFC 1939 §6 UPDATE: expunges the deleted messages and sets \Seen on the retrieved ones, in
     * one transaction. UIDs that another session expunged meanwhile are skipped by the store.
     */
    Update update() {
        List<Uid> expunge = new ArrayList<>();
        List<Uid> seen = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            MessageRef r = messages.get(i);
            if (deleted.get(i)) {
                expunge.add(r.uid());
            } else if (retrieved.get(i) && !r.flags().has(Flag.SEEN)) {
                seen.add(r.uid());
            }
        }
        if (expunge.isEmpty() && seen.isEmpty()) {
            return new Update(0, 0);
        }
        try (Transaction tx = session.begin()) {
            int flagged = seen.isEmpty() ? 0
                    : tx.setFlags(view.id(), seen, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN))).size();
            int removed = expunge.isEmpty() ? 0 : tx.expunge(view.id(), expunge).size();
            tx.commit();
            return new Update(removed, flagged);
        }
    }

    @Override
    public void close() {
        try {
            view.close();
        } finally {
            lease.close();
        }
    }
}
