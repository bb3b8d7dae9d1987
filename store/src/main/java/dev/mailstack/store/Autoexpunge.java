package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes what has lain in every account's mailbox of one special use (Trash, Junk) longer than the
 * administrator keeps it, as Dovecot's {@code autoexpunge}: counted from when each message was put
 * there (its saved date), not from its internal date. Each batch is an ordinary expunge in the
 * account's own transaction, so quota, counters and open IMAP sessions learn of it as of any other.
 */
final class Autoexpunge {
    private static final System.Logger LOG = System.getLogger(Autoexpunge.class.getName());
    /** Messages per transaction: one account's writer is never held long. */
    static final int BATCH = 500;

    private final MailboxStore store;

    Autoexpunge(MailboxStore store) {
        this.store = store;
    }

    private record Box(AccountId account, MailboxId mailbox) {
    }

    int run(SpecialUse use, Instant savedBefore) {
        int expunged = 0;
        StoreException failed = null;
        for (Box box : mailboxes(use)) {
            try {
                expunged += run(box, savedBefore);
            } catch (StoreException e) {
                // one mailbox's trouble (deleted meanwhile, a busy account) does not hold back the others
                LOG.log(System.Logger.Level.WARNING, "autoexpunge: mailbox skipped this round mailbox_id={0} error=\"{1}\"",
                        box.mailbox().value(), e.getMessage());
                failed = failed == null ? e : failed;
            }
        }
        if (failed != null && expunged == 0) {
            throw failed;
        }
        return expunged;
    }

    private int run(Box box, Instant savedBefore) {
        int expunged = 0;
        while (true) {
            List<Uid> due = due(box.mailbox(), savedBefore);
            if (due.isEmpty()) {
                return expunged;
            }
            try (Transaction tx = store.open(box.account()).begin()) {
                expunged += tx.expunge(box.mailbox(), due).size();
                tx.commit();
            }
            if (due.size() < BATCH) {
                return expunged;
            }
        }
    }

    private List<Box> mailboxes(SpecialUse use) {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT account_id, id FROM mailboxes WHERE special_use = ?")) {
            ps.setString(1, use.name());
            List<Box> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Box(new AccountId(rs.getLong(1)), new MailboxId(rs.getLong(2))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw store.db().failure(e, "find " + use.name() + " mailboxes");
        }
    }

    /**
     * The oldest messages of the mailbox, in UID order, up to the first one not yet due: UIDs are
     * handed out in the order messages are saved, so the due ones come first and a mailbox with
     * nothing due costs one row read, not a scan (a clock stepped back may leave a few due ones
     * behind a younger one until it is due too).
     */
    private List<Uid> due(MailboxId mailbox, Instant savedBefore) {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT uid, saved_at FROM messages WHERE id > ? AND id < ?"
                     + " ORDER BY id FETCH FIRST ? ROWS ONLY")) {
            ps.setLong(1, Mailboxes.messageKey(mailbox, 0));
            ps.setLong(2, Mailboxes.keyAfter(mailbox));
            ps.setInt(3, BATCH);
            List<Uid> out = new ArrayList<>();
            Instant future = Instant.now().plus(Duration.ofMinutes(1));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Instant saved = rs.getTimestamp(2).toInstant();
                    if (saved.isBefore(savedBefore)) {
                        out.add(new Uid(rs.getLong(1)));
                    } else if (!saved.isAfter(future)) {
                        break; // the first one not yet due: those after it were saved later still
                    }
                    // saved "in the future" by a clock that ran ahead: read past it, or it would hold back the rest
                }
            }
            return out;
        } catch (SQLException e) {
            throw store.db().failure(e, "find messages to autoexpunge");
        }
    }
}
