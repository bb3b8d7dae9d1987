package dev.mailstack.pop3d;

import dev.mailstack.store.StoreException;

/** The POP3 reply texts (STYLE.md R1), with RFC 2449/3206 response codes. */
final class Pop3Replies {
    private Pop3Replies() {
    }

    static final String UNKNOWN = "-ERR Unknown command; try CAPA, USER, PASS, STAT, LIST, RETR, DELE, QUIT";
    static final String WRONG_STATE_AUTH = "-ERR Log in first (USER name, then PASS password)";
    static final String WRONG_STATE_TRANSACTION = "-ERR Already logged in";
    static final String NO_SUCH_MESSAGE = "-ERR No such message";
    static final String DELETED = "-ERR Message is deleted";
    static final String NEED_NUMBER = "-ERR Message number required";
    static final String BAD_NUMBER = "-ERR Not a message number";
    static final String USER_FIRST = "-ERR USER first";
    static final String AUTH_FAILED = "-ERR [AUTH] Authentication failed";
    static final String IN_USE = "-ERR [IN-USE] Maildrop is in use by another POP3 session";
    static final String PLAINTEXT_DISABLED = "-ERR [AUTH] Password login needs TLS: use STLS first";
    static final String LINE_TOO_LONG = "-ERR Line too long";
    static final String CANCELLED = "-ERR Authentication cancelled";
    static final String MECHANISM = "-ERR Unsupported mechanism; use PLAIN or LOGIN";

    /** The one mapping from store failures to POP3 replies (STYLE.md R4). */
    static String forFailure(StoreException e) {
        return switch (e.failure()) {
            case TEMPORARY -> "-ERR [SYS/TEMP] " + e.getMessage() + "; try again";
            case NOT_FOUND, EXPUNGED -> "-ERR [SYS/PERM] " + e.getMessage();
            case NO_PERMISSION, OVER_QUOTA, TOO_BIG, INVALID_NAME, ALREADY_EXISTS -> "-ERR [SYS/PERM] " + e.getMessage();
        };
    }
}
