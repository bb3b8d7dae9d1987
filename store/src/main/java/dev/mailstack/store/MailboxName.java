package dev.mailstack.store;

import java.util.Locale;

/**
 * A mailbox path in Unicode with '/' as the hierarchy separator. INBOX is matched without regard
 * to case and always stored as "INBOX" (RFC 3501 §5.1).
 */
public record MailboxName(String path) {
    public static final char SEPARATOR = '/';
    public static final MailboxName INBOX = new MailboxName("INBOX");
    public static final int MAX_LENGTH = 255;

    public MailboxName {
        if (path.equalsIgnoreCase("INBOX")) {
            path = "INBOX";
        } else if (path.regionMatches(true, 0, "INBOX/", 0, 6)) {
            path = "INBOX" + path.substring(5);
        }
        if (path.isEmpty() || path.codePointCount(0, path.length()) > MAX_LENGTH) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name must have 1 to 255 characters");
        }
        if (path.startsWith("/") || path.endsWith("/") || path.contains("//")) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name has an empty level: " + path);
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new StoreException(StoreFailure.INVALID_NAME, "mailbox name has control characters");
        }
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
