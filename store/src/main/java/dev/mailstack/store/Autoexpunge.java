package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
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
        for (Box box : mailboxes(use)) {
            while (true) {
                List<Uid> due = due(box.mailbox(), savedBefore);
                if (due.isEmpty()) {
                    break;
                }
                try (Transaction tx = store.open(box.account()).begin()) {
                    expunged += tx.expunge(box.mailbox(), due).size();
                    tx.commit();
                }
                if (due.size() < BATCH) {
                    break;
                }
            }
        }
        return expunged;
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

    private List<Uid> due(MailboxId mailbox, Instant savedBefore) {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT uid FROM messages WHERE id > ? AND id < ? AND saved_at < ?"
                     + " ORDER BY id FETCH FIRST ? ROWS ONLY")) {
            ps.setLong(1, Mailboxes.messageKey(mailbox, 0));
            ps.setLong(2, Mailboxes.keyAfter(mailbox));
            ps.setTimestamp(3, Timestamp.from(savedBefore));
            ps.setInt(4, BATCH);
            List<Uid> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Uid(rs.getLong(1)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw store.db().failure(e, "find messages to autoexpunge");
        }
    }
}
