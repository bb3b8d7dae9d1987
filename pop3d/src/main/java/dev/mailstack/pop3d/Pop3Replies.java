package dev.mailstack.pop3d;

import dev.mailstack.pop3d.Pop3Reply.Code;
import dev.mailstack.store.StoreFailure;

/** Every POP3 reply line we send, in one place (STYLE.md R1). */
final class Pop3Replies {
    private Pop3Replies() {
    }

    // --- connection level
    static final Pop3Reply TOO_MANY_CONNECTIONS = Pop3Reply.err(Code.SYS_TEMP, "Too many connections, try again later");
    static final Pop3Reply IDLE_TIMEOUT = Pop3Reply.err("Autologout; idle for too long");
    static final Pop3Reply SHUTTING_DOWN = Pop3Reply.err(Code.SYS_TEMP, "Server shutting down, try again later");
    static final Pop3Reply LINE_TOO_LONG = Pop3Reply.err("Line too long");
    static final Pop3Reply TOO_MANY_ERRORS = Pop3Reply.err("Too many bad commands; closing the connection");
    /** RFC 3206 §4 SYS/PERM: logging in again will not help. Unasked for: the client reads it as its next reply. */
    static final Pop3Reply ACCOUNT_DELETED = Pop3Reply.err(Code.SYS_PERM,
            "This account was deleted or disabled; closing the connection");

    // --- syntax (Pop3Parser)
    static final Pop3Reply UNKNOWN = Pop3Reply.err("Unknown command; try CAPA");
    static final Pop3Reply NEED_NUMBER = Pop3Reply.err("Message number required");
    static final Pop3Reply BAD_NUMBER = Pop3Reply.err("Not a message number");
    static final Pop3Reply BAD_LINE_COUNT = Pop3Reply.err("Line count must be a number of 0 or more");
    static final Pop3Reply TOP_USAGE = Pop3Reply.err("Usage: TOP message lines");
    static final Pop3Reply TOO_MANY_ARGUMENTS = Pop3Reply.err("Too many arguments");
    static final Pop3Reply USER_NEEDS_NAME = Pop3Reply.err("USER needs a name");
    static final Pop3Reply CONTROL_CHARACTERS = Pop3Reply.err("Control characters are not allowed in commands");

    // --- AUTHORIZATION state
    static final Pop3Reply SEND_PASSWORD = Pop3Reply.ok("Send your password with PASS");
    static final Pop3Reply USER_FIRST = Pop3Reply.err("USER first");
    static final Pop3Reply AUTH_FAILED = Pop3Reply.err(Code.AUTH, "Authentication failed");
    static final Pop3Reply AUTH_MALFORMED = Pop3Reply.err("Malformed SASL response");
    static final Pop3Reply AUTH_CANCELLED = Pop3Reply.err("Authentication cancelled");
    static final Pop3Reply AUTH_RESPONSE_TOO_LONG = Pop3Reply.err("SASL response too long; authentication cancelled");
    static final Pop3Reply MECHANISM = Pop3Reply.err("Unsupported mechanism; use PLAIN or LOGIN");
    static final Pop3Reply IN_USE = Pop3Reply.err(Code.IN_USE, "Maildrop is in use by another POP3 session");
    static final Pop3Reply PLAINTEXT_DISABLED = Pop3Reply.err("Password login needs TLS: use STLS first");
    static final Pop3Reply BEGIN_TLS = Pop3Reply.ok("Begin TLS negotiation");
    static final Pop3Reply TLS_ACTIVE = Pop3Reply.err("TLS already active");
    static final Pop3Reply TLS_UNAVAILABLE = Pop3Reply.err("TLS not available");
    static final Pop3Reply NO_APOP = Pop3Reply.err("APOP is not offered; use USER/PASS or AUTH over TLS");
    static final Pop3Reply NEEDS_LOGIN = Pop3Reply.err("Not valid before login (USER name, then PASS password)");

    // --- TRANSACTION state
    static final Pop3Reply ALREADY_LOGGED_IN = Pop3Reply.err("Not valid after login");
    static final Pop3Reply NO_SUCH_MESSAGE = Pop3Reply.err("No such message");
    static final Pop3Reply DELETED = Pop3Reply.err("Message is deleted");
    static final Pop3Reply NOOP = Pop3Reply.ok("");
    static final Pop3Reply CAPABILITIES = Pop3Reply.ok("Capability list follows");
    static final Pop3Reply MECHANISMS = Pop3Reply.ok("SASL mechanisms follow");
    static final Pop3Reply TOP_FOLLOWS = Pop3Reply.ok("Top of message follows");

    /** RFC 5034 §4: a SASL continuation, "+" SP base64 challenge (empty for PLAIN). */
    static String challenge(String base64) {
        return "+ " + base64;
    }

    static Pop3Reply greeting(String hostname) {
        return Pop3Reply.ok(hostname + " POP3 ready (mailstack)");
    }

    static Pop3Reply loggedIn(String user, int messages, long octets) {
        return Pop3Reply.ok(user + " has " + messages + " messages (" + octets + " octets)");
    }

    static Pop3Reply stat(int messages, long octets) {
        // RFC 1939 §5 STAT: exactly "+OK nn mm"
        return Pop3Reply.ok(messages + " " + octets);
    }

    static Pop3Reply listing(int messages, long octets) {
        return Pop3Reply.ok(messages + " messages (" + octets + " octets)");
    }

    /** A single LIST or UIDL line: "+OK n value". */
    static Pop3Reply scanLine(int number, String value) {
        return Pop3Reply.ok(number + " " + value);
    }

    static Pop3Reply uidlFollows() {
        return Pop3Reply.ok("Unique-id listing follows");
    }

    static Pop3Reply retrieving(long octets) {
        return Pop3Reply.ok(octets + " octets");
    }

    static Pop3Reply deleted(int number) {
        return Pop3Reply.ok("Message " + number + " deleted");
    }

    static Pop3Reply reset(int messages, long octets) {
        return Pop3Reply.ok("Maildrop has " + messages + " messages (" + octets + " octets)");
    }

    static Pop3Reply signingOff(int deleted) {
        return Pop3Reply.ok("mailstack POP3 signing off (" + deleted + " messages deleted)");
    }

    static Pop3Reply signingOff() {
        return Pop3Reply.ok("mailstack POP3 signing off");
    }

    /** RFC 1939 §6: the UPDATE state could not remove the messages; nothing was changed. */
    static Pop3Reply updateFailed(StoreFailure failure) {
        return forFailure(failure).withText("Some deleted messages not removed; nothing was changed");
    }

    /**
     * The one mapping from store failures to POP3 replies (STYLE.md R4). The store's own message
     * goes to the log, never to the client.
     */
    static Pop3Reply forFailure(StoreFailure failure) {
        return switch (failure) {
            case TEMPORARY -> Pop3Reply.err(Code.SYS_TEMP, "Mail store temporarily unavailable; try again later");
            case NOT_FOUND -> Pop3Reply.err(Code.SYS_PERM, "Maildrop not found");
            case EXPUNGED -> Pop3Reply.err("Message was removed by another session");
            case NO_PERMISSION -> Pop3Reply.err(Code.SYS_PERM, "Not permitted");
            case OVER_QUOTA -> Pop3Reply.err(Code.SYS_PERM, "Mailbox over quota");
            case TOO_BIG -> Pop3Reply.err(Code.SYS_PERM, "Too big");
            case INVALID_NAME, ALREADY_EXISTS, HAS_CHILDREN, LIMIT -> Pop3Reply.err(Code.SYS_PERM, "Mail store refused the operation");
        };
    }
}
