package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema version 22.1: mailbox names stored before {@link MailboxName} kept them Net-Unicode are
 * made so: NFC, each control character, LINE or PARAGRAPH SEPARATOR replaced by U+FFFD, at most
 * {@link MailboxName#MAX_LENGTH} characters (a RENAME before this version could store a child past
 * it). Every stored name must be one MailboxName accepts, or the account's every LIST fails on it;
 * and a decomposed "Café" must still be found when clients now ask for the composed one. Names are
 * rebuilt level by level, parents first, so children stay under their parent; a level whose new
 * name its account already has gets the row id after it, as a mailbox of its own. In Java because
 * SQL shared by H2 and PostgreSQL cannot normalise Unicode. Registered in {@link Database#open}.
 */
final class MailboxNamesNetUnicode extends JavaMigrationStep {
    MailboxNamesNetUnicode() {
        super("22.1", "mailbox names in NFC");
    }

    private record Row(long id, String name) {
        int depth() {
            return (int) name.chars().filter(c -> c == MailboxName.SEPARATOR).count();
        }
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        Set<Long> accounts = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id, name FROM mailboxes");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (!valid(rs.getString(2))) {
                    accounts.add(rs.getLong(1));
                }
            }
        }
        for (long account : accounts) {
            migrate(c, account);
        }
    }

    private static void migrate(Connection c, long account) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, name FROM mailboxes WHERE account_id = ?")) {
            ps.setLong(1, account);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getString(2)));
                }
            }
        }
        Set<String> taken = new HashSet<>();
        rows.stream().map(Row::name).filter(MailboxNamesNetUnicode::valid).forEach(taken::add); // kept as they are
        Map<String, String> renamed = new HashMap<>(); // old name -> new, for the levels below
        rows.sort(Comparator.comparingInt(Row::depth).thenComparingLong(Row::id));
        try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET name = ? WHERE id = ?")) {
            for (Row r : rows) {
                if (valid(r.name())) {
                    continue;
                }
                int slash = r.name().lastIndexOf(MailboxName.SEPARATOR);
                String parent = slash < 0 ? "" : r.name().substring(0, slash);
                String newParent = slash < 0 ? "" : renamed.getOrDefault(parent, netUnicode(parent));
                String name = free(newParent, netUnicode(r.name().substring(slash + 1)), r.id(), taken);
                taken.add(name);
                renamed.put(r.name(), name);
                ps.setString(1, name);
                ps.setLong(2, r.id());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * A name under {@code parent} for {@code level} that MailboxName accepts and the account does
     * not have: the level as it is, else with " (id)" or " (id-n)" after it, cut to fit the length
     * limit; at the top level when no child of {@code parent} can fit.
     */
    private static String free(String parent, String level, long id, Set<String> taken) {
        for (int n = 0; ; n++) {
            String suffix = n == 0 ? "" : n == 1 ? " (" + id + ")" : " (" + id + "-" + n + ")";
            String prefix = parent.isEmpty() || parent.codePointCount(0, parent.length()) >= MailboxName.MAX_LENGTH - 1
                    - suffix.length() ? "" : parent + MailboxName.SEPARATOR;
            int room = MailboxName.MAX_LENGTH - prefix.codePointCount(0, prefix.length()) - suffix.length();
            String cut = level.codePointCount(0, level.length()) <= room ? level
                    : level.substring(0, level.offsetByCodePoints(0, Math.max(0, room)));
            String candidate = prefix + (cut.isEmpty() ? "\uFFFD" : cut) + suffix;
            if (valid(candidate) && !taken.contains(new MailboxName(candidate).path())) {
                return new MailboxName(candidate).path();
            }
        }
    }

    /** A name MailboxName accepts as it is. */
    private static boolean valid(String name) {
        try {
            return new MailboxName(name).path().equals(name);
        } catch (StoreException e) {
            return false;
        }
    }

    private static String netUnicode(String name) {
        String nfc = Normalizer.normalize(name, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        nfc.chars().forEach(ch -> out.append(MailboxName.forbidden(ch) ? '\uFFFD' : (char) ch));
        return out.toString();
    }
}
