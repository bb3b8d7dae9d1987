package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema version 22.1: mailbox names stored before {@link MailboxName} kept them Net-Unicode are
 * made so: NFC, and each control character, LINE or PARAGRAPH SEPARATOR replaced by U+FFFD. A name
 * read back must be one MailboxName accepts, or the account's every LIST would fail on it; and a
 * decomposed "Café" must still be found when clients now ask for the composed one. A name that
 * becomes one its account already has gets its row id after it, as a mailbox of its own. In Java
 * because SQL shared by H2 and PostgreSQL cannot normalise Unicode. Registered in {@link Database#open}.
 */
final class MailboxNamesNetUnicode extends JavaMigrationStep {
    MailboxNamesNetUnicode() {
        super("22.1", "mailbox names in NFC");
    }

    private record Row(long id, long account, String name) {
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        List<Row> rows = new ArrayList<>();
        Set<String> taken = new HashSet<>(); // account id and name, of every mailbox
        try (PreparedStatement ps = c.prepareStatement("SELECT id, account_id, name FROM mailboxes ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Row r = new Row(rs.getLong(1), rs.getLong(2), rs.getString(3));
                taken.add(r.account() + "/" + r.name());
                if (!netUnicode(r.name()).equals(r.name())) {
                    rows.add(r);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET name = ? WHERE id = ?")) {
            for (Row r : rows) {
                String name = netUnicode(r.name());
                if (taken.contains(r.account() + "/" + name)) {
                    name = name + " (" + r.id() + ")";
                }
                taken.add(r.account() + "/" + name);
                ps.setString(1, name);
                ps.setLong(2, r.id());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    static String netUnicode(String name) {
        String nfc = Normalizer.normalize(name, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        nfc.chars().forEach(ch -> out.append(MailboxName.forbidden(ch) ? '\uFFFD' : (char) ch));
        return out.toString();
    }
}
