package dev.mailstack.store;

import java.text.Normalizer;
import java.util.Locale;

/**
 * A mailbox path in Unicode with '/' as the hierarchy separator. INBOX is matched in any ASCII
 * case and always stored as "INBOX" (RFC 3501 §5.1). Names are Net-Unicode (RFC 6855 §3, RFC
 * 5198 §2): kept in NFC, so that "Café" typed composed or decomposed is one mailbox, and without
 * control characters, line or paragraph separators.
 */
public record MailboxName(String path) {
    public static final char SEPARATOR = '/';
    public static final MailboxName INBOX = new MailboxName("INBOX");
    public static final int MAX_LENGTH = 255;

    public MailboxName {
        if (!Normalizer.isNormalized(path, Normalizer.Form.NFC)) {
            path = Normalizer.normalize(path, Normalizer.Form.NFC);
        }
        if (startsWithInbox(path) && (path.length() == 5 || path.charAt(5) == SEPARATOR)) {
            path = "INBOX" + path.substring(5);
        }
        if (path.isEmpty() || path.codePointCount(0, path.length()) > MAX_LENGTH) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name must have 1 to 255 characters");
        }
        if (path.startsWith("/") || path.endsWith("/") || path.contains("//")) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name has an empty level: " + path);
        }
        if (path.chars().anyMatch(MailboxName::forbidden)) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name has control characters or line separators");
        }
    }

    /**
     * True when {@code s} starts with "INBOX" in any ASCII case. Not {@code equalsIgnoreCase}, whose
     * Unicode folding takes a Turkish dotless "ınbox" for INBOX too: RFC 3501 §5.1 means ASCII case.
     */
    public static boolean startsWithInbox(String s) {
        if (s.length() < 5) {
            return false;
        }
        for (int i = 0; i < 5; i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || Character.toUpperCase(c) != "INBOX".charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Not in a Net-Unicode name: C0 and C1 controls, DEL, LINE and PARAGRAPH SEPARATOR (RFC 5198 §2). */
    static boolean forbidden(int c) {
        return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
    }

    public boolean isInbox() {
        return path.equals("INBOX");
    }

    /** The parent, if this name has more than one level. */
    public java.util.Optional<MailboxName> parent() {
        int i = path.lastIndexOf(SEPARATOR);
        return i < 0 ? java.util.Optional.empty() : java.util.Optional.of(new MailboxName(path.substring(0, i)));
    }

    public boolean isInside(MailboxName ancestor) {
        return path.startsWith(ancestor.path + SEPARATOR);
    }

    String key() {
        return path.toLowerCase(Locale.ROOT).equals("inbox") ? "INBOX" : path;
    }
}
