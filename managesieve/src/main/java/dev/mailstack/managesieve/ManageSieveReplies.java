package dev.mailstack.managesieve;

import dev.mailstack.managesieve.SieveResponse.Code;
import dev.mailstack.store.StoreFailure;
import java.util.Optional;

/** Every ManageSieve response we send, in one place (STYLE.md R1). */
final class ManageSieveReplies {
    private ManageSieveReplies() {
    }

    // --- connection level
    static final SieveResponse TOO_MANY_CONNECTIONS = SieveResponse.bye(Code.TRYLATER, "Too many connections, try again later");
    static final SieveResponse IDLE_TIMEOUT = SieveResponse.bye("Idle for too long; closing the connection");
    static final SieveResponse SHUTTING_DOWN = SieveResponse.bye(Code.TRYLATER, "Server shutting down, try again later");
    static final SieveResponse TOO_MANY_ERRORS = SieveResponse.bye("Too many bad commands; closing the connection");
    static final SieveResponse ACCOUNT_DELETED = SieveResponse.bye("This account was deleted or disabled; closing the connection");
    static final SieveResponse LINE_TOO_LONG = SieveResponse.no("Line too long");
    static final SieveResponse LINE_TOO_LONG_CLOSING = SieveResponse.bye("Line too long after a literal; closing the connection");
    static final SieveResponse LOGOUT = SieveResponse.ok("Logout completed");

    // --- syntax (CommandReader, ManageSieveParser)
    static final SieveResponse EXPECTED_COMMAND = SieveResponse.no("Expected a command, such as CAPABILITY");
    static final SieveResponse UNKNOWN = SieveResponse.no("Unknown command; try CAPABILITY");
    static final SieveResponse TOO_MANY_ARGUMENTS = SieveResponse.no("This command takes no arguments");
    static final SieveResponse BAD_NUMBER = SieveResponse.no("Expected a number from 0 to 4294967295");
    static final SieveResponse UNTERMINATED_STRING = SieveResponse.no("Quoted string without its closing quote");
    static final SieveResponse BAD_ESCAPE = SieveResponse.no("Only \\\" and \\\\ may be escaped in a quoted string");
    static final SieveResponse LITERAL_NOT_LAST = SieveResponse.no("A literal {n+} must end its line");
    static final SieveResponse NOT_UTF8 = SieveResponse.no("Strings and scripts must be UTF-8 (RFC 5804 §4, RFC 5228 §2.1)");
    static final SieveResponse STRING_TOO_LONG_BEFORE_LOGIN = SieveResponse.bye(Code.QUOTA_MAXSIZE,
            "String too long before login; closing the connection");

    // --- before login
    static final SieveResponse NEEDS_LOGIN = SieveResponse.no("Log in first (AUTHENTICATE \"PLAIN\")");
    static final SieveResponse ENCRYPT_NEEDED = SieveResponse.no(Code.ENCRYPT_NEEDED, "Password login needs TLS: use STARTTLS first");
    static final SieveResponse MECHANISM = SieveResponse.no("Unsupported mechanism; use PLAIN or LOGIN");
    static final SieveResponse AUTH_FAILED = SieveResponse.no("Authentication failed");
    static final SieveResponse AUTH_MALFORMED = SieveResponse.no("Malformed SASL response");
    static final SieveResponse AUTH_CANCELLED = SieveResponse.no("Authentication cancelled");
    static final SieveResponse AUTH_EXPECTED_STRING = SieveResponse.no("Expected one string as the SASL response; authentication cancelled");
    static final SieveResponse BEGIN_TLS = SieveResponse.ok("Begin TLS negotiation now");
    static final SieveResponse TLS_ACTIVE = SieveResponse.no("TLS already active");
    static final SieveResponse TLS_UNAVAILABLE = SieveResponse.no("TLS not available");

    // --- after login
    static final SieveResponse ALREADY_LOGGED_IN = SieveResponse.no("Already authenticated (UNAUTHENTICATE first)");
    static final SieveResponse STARTTLS_AFTER_LOGIN = SieveResponse.no("STARTTLS only before login");
    static final SieveResponse NOT_LOGGED_IN = SieveResponse.no("Not authenticated");
    static final SieveResponse DONE = SieveResponse.ok("");
    static final SieveResponse STORED = SieveResponse.ok("Script stored");
    static final SieveResponse VALID = SieveResponse.ok("Script is valid");
    static final SieveResponse HAVE_SPACE = SieveResponse.ok("Putscript would succeed");
    static final SieveResponse ACTIVATED = SieveResponse.ok("Script activated");
    static final SieveResponse DEACTIVATED = SieveResponse.ok("No script active");
    static final SieveResponse DELETED = SieveResponse.ok("Script deleted");
    static final SieveResponse RENAMED = SieveResponse.ok("Script renamed");
    static final SieveResponse UNAUTHENTICATED = SieveResponse.ok("Logged out; log in again with AUTHENTICATE");
    static final SieveResponse NO_SUCH_SCRIPT = SieveResponse.no(Code.NONEXISTENT, "There is no script of that name");

    static SieveResponse usage(String usage) {
        return SieveResponse.no("Usage: " + usage);
    }

    static SieveResponse stringExpected(String command) {
        return SieveResponse.no(command + " takes strings: \"quoted\" or a literal {octets+}");
    }

    static SieveResponse greeting(String hostname) {
        return SieveResponse.ok(hostname + " ManageSieve ready (mailstack)");
    }

    static SieveResponse loggedIn(String user) {
        return SieveResponse.ok("Logged in as " + user);
    }

    /** RFC 5804 §2.6: a script that does not parse is refused with the parser's "line N: ..." text. */
    static SieveResponse invalidScript(String message) {
        return SieveResponse.no(message);
    }

    /** RFC 5804 §2.13: {@code OK (TAG "t") "Done"}. */
    static SieveResponse noop(Optional<String> tag) {
        return tag.map(t -> new SieveResponse(SieveResponse.Status.OK, Optional.of(Code.TAG), Optional.of(t), "Done"))
                .orElse(SieveResponse.ok("Done"));
    }

    /** An over-size string drained after login: the session goes on. */
    static SieveResponse stringTooLong(long octets, long max) {
        return SieveResponse.no(Code.QUOTA_MAXSIZE, "A string of " + octets + " octets is over the " + max + " octet limit");
    }

    /** An over-size string not read: the client cannot be followed any more. */
    static SieveResponse stringTooLongClosing(long octets, long max) {
        return SieveResponse.bye(Code.QUOTA_MAXSIZE, "A string of " + octets + " octets is far over the " + max
                + " octet limit; closing the connection");
    }

    /**
     * The store's failure as a ManageSieve response, the one place it is mapped (STYLE.md R4); the
     * text is the store's, written for people. NO_PERMISSION only ever means "the script is active"
     * to the script store (RFC 5804 §2.10).
     */
    static SieveResponse forFailure(StoreFailure failure, String text) {
        return switch (failure) {
            case NOT_FOUND, EXPUNGED -> SieveResponse.no(Code.NONEXISTENT, text);
            case ALREADY_EXISTS -> SieveResponse.no(Code.ALREADYEXISTS, text);
            case NO_PERMISSION -> SieveResponse.no(Code.ACTIVE, text);
            case OVER_QUOTA -> SieveResponse.no(Code.QUOTA_MAXSCRIPTS, text);
            case TOO_BIG -> SieveResponse.no(Code.QUOTA_MAXSIZE, text);
            case INVALID_NAME, HAS_CHILDREN, LIMIT -> SieveResponse.no(text);
            case TEMPORARY -> SieveResponse.no(Code.TRYLATER, "Temporary server failure, try again later");
        };
    }
}
