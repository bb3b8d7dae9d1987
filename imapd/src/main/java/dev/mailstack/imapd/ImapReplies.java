package dev.mailstack.imapd;

import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;

/** Response texts and codes that repeat across commands (STYLE.md R1, R4). */
final class ImapReplies {
    private ImapReplies() {
    }

    /**
     * The one mapping from store failures to IMAP response codes (RFC 5530). A temporary failure's
     * own text (a database error, over several lines) is for the log, not the client: a line break
     * in a response would end it early and desynchronise the client.
     */
    static String forFailure(StoreException e) {
        String code = switch (e.failure()) {
            case NOT_FOUND -> "[NONEXISTENT]";
            case ALREADY_EXISTS -> "[ALREADYEXISTS]";
            case EXPUNGED -> "[EXPUNGEISSUED]";
            case NO_PERMISSION -> "[NOPERM]";
            // RFC 9051 §7.1; a rev1 client ignores a code it does not know (RFC 3501 §7.1)
            case HAS_CHILDREN -> "[HASCHILDREN]";
            case OVER_QUOTA -> "[OVERQUOTA]";
            case TOO_BIG -> "[TOOBIG]";
            case INVALID_NAME -> "[CANNOT]";
            case LIMIT -> "[LIMIT]"; // RFC 5530 §3: a server limit, not the user's quota
            case TEMPORARY -> "[UNAVAILABLE]";
        };
        return code + " " + (e.failure() == StoreFailure.TEMPORARY ? "The mail store failed; try again later"
                : e.getMessage().replaceAll("[\\r\\n]+", " "));
    }

    /** The BYE a session of an account gets when the account is deleted (mailstack user del). */
    static final String ACCOUNT_DELETED = "This account was deleted or disabled; closing the connection";
    static final String NOT_AUTHENTICATED = "Log in first (LOGIN user password)";
    static final String NOT_SELECTED = "Select a mailbox first (SELECT INBOX)";
    static final String NOT_UTF8 = "Strings must be UTF-8 (or modified UTF-7 for mailbox names)";
    static final String AUTH_FAILED = "[AUTHENTICATIONFAILED] Authentication failed";
    static final String PRIVACY_REQUIRED = "[PRIVACYREQUIRED] Password login needs TLS: use STARTTLS first";
    static final String READ_ONLY = "[READ-ONLY] Mailbox is open read-only (EXAMINE)";
    static final String TRY_CREATE = "[TRYCREATE] No such mailbox: ";
    /** RFC 3501 §6.4.4: a charset the server cannot search in is NO, with the ones it can. */
    static final String BAD_CHARSET = "[BADCHARSET (" + String.join(" ", ImapCommand.Search.CHARSETS) + ")] Cannot search in ";
}
