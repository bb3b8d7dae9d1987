package dev.mailstack.pop3d;

import dev.mailstack.net.PlaintextAuth;
import java.time.Duration;
import java.util.Objects;

/**
 * POP3 policy and limits (STYLE.md R6).
 *
 * @param hostname       the name in the greeting
 * @param plaintextAuth  when USER/PASS and AUTH PLAIN/LOGIN may be used without TLS (RFC 2595 §4):
 *                       {@code LOOPBACK} by default, for the README's telnet walk-through;
 *                       {@code NEVER} is what a public server on port 110 wants
 * @param idleTimeout    the autologout timer once logged in; RFC 1939 §3 says it MUST be at least
 *                       10 minutes, which is the default. Before login the listener's shorter
 *                       {@code NetLimits.idleTimeout()} applies (limits before login are stricter)
 * @param maxBadCommands how many bad commands (unknown, wrong state, bad arguments, overlong
 *                       lines) a session may send before it is closed, like Postfix's
 *                       smtpd_hard_error_limit (20)
 */
public record Pop3Settings(String hostname, PlaintextAuth plaintextAuth, Duration idleTimeout, int maxBadCommands) {
    /** RFC 1939 §3: "at least 10 minutes' duration". */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_BAD_COMMANDS = 20;

    public Pop3Settings {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(plaintextAuth, "plaintextAuth");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (hostname.isBlank() || hostname.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            throw new IllegalArgumentException("hostname must be one word: '" + hostname + "'");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive: " + idleTimeout);
        }
        if (maxBadCommands < 1) {
            throw new IllegalArgumentException("maxBadCommands must be at least 1: " + maxBadCommands);
        }
    }

    /** The default limits with the given password policy. */
    public Pop3Settings(String hostname, PlaintextAuth plaintextAuth) {
        this(hostname, plaintextAuth, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BAD_COMMANDS);
    }

    /** Passwords without TLS on loopback only; 10 minutes autologout; 20 bad commands. */
    public static Pop3Settings defaults(String hostname) {
        return new Pop3Settings(hostname, PlaintextAuth.LOOPBACK);
    }

    public Pop3Settings withPlaintextAuth(PlaintextAuth policy) {
        return new Pop3Settings(hostname, policy, idleTimeout, maxBadCommands);
    }

    public Pop3Settings withIdleTimeout(Duration timeout) {
        return new Pop3Settings(hostname, plaintextAuth, timeout, maxBadCommands);
    }

    public Pop3Settings withMaxBadCommands(int max) {
        return new Pop3Settings(hostname, plaintextAuth, idleTimeout, max);
    }
}
