package dev.mailstack.managesieve;

import dev.mailstack.net.PlaintextAuth;
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.SieveLimits;
import java.time.Duration;
import java.util.Objects;

/**
 * ManageSieve policy and limits (STYLE.md R6).
 *
 * @param hostname           the name in IMPLEMENTATION's neighbours and log lines
 * @param plaintextAuth      when AUTHENTICATE PLAIN/LOGIN may be used without TLS: the same rule
 *                           and setting (auth.plaintext) as POP3 and IMAP, loopback by default
 * @param limits             scripts per account and octets per script (QUOTA/MAXSCRIPTS, QUOTA/MAXSIZE)
 * @param preAuthStringBytes longest string (quoted or literal) before login: a SASL response is
 *                           short, and strangers get no room to send megabytes (like IMAP's 8 KiB)
 * @param idleTimeout        silence allowed once logged in; before login the listener's shorter
 *                           NetLimits idle timeout applies
 * @param maxBadCommands     bad commands (unknown, malformed, overlong, wrong state) before BYE
 * @param maxRedirects       the MAXREDIRECTS capability (RFC 5804 §1.7): redirects one script may
 *                           do per message, the number the interpreter applies
 */
public record ManageSieveSettings(String hostname, PlaintextAuth plaintextAuth, SieveLimits limits, int preAuthStringBytes,
                                  Duration idleTimeout, int maxBadCommands, int maxRedirects) {
    public static final int DEFAULT_PRE_AUTH_STRING_BYTES = 8192;
    /** As IMAP's autologout floor (RFC 9051 §5.4); an editor in a mail client stays connected while the user types. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);
    public static final int DEFAULT_MAX_BAD_COMMANDS = 20;
    public static final int DEFAULT_MAX_REDIRECTS = SieveScript.MAX_REDIRECTS;

    public ManageSieveSettings {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(plaintextAuth, "plaintextAuth");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (hostname.isBlank() || hostname.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            throw new IllegalArgumentException("hostname must be one word: '" + hostname + "'");
        }
        if (preAuthStringBytes < 512) {
            throw new IllegalArgumentException("preAuthStringBytes must be at least 512: " + preAuthStringBytes);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive: " + idleTimeout);
        }
        if (maxBadCommands < 1 || maxRedirects < 0) {
            throw new IllegalArgumentException("maxBadCommands must be at least 1 and maxRedirects at least 0");
        }
    }

    /** The given password policy and script limits, defaults for the rest. */
    public ManageSieveSettings(String hostname, PlaintextAuth plaintextAuth, SieveLimits limits) {
        this(hostname, plaintextAuth, limits, DEFAULT_PRE_AUTH_STRING_BYTES, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BAD_COMMANDS,
                DEFAULT_MAX_REDIRECTS);
    }

    public static ManageSieveSettings defaults(String hostname) {
        return new ManageSieveSettings(hostname, PlaintextAuth.LOOPBACK, SieveLimits.defaults());
    }

    public ManageSieveSettings withPlaintextAuth(PlaintextAuth policy) {
        return new ManageSieveSettings(hostname, policy, limits, preAuthStringBytes, idleTimeout, maxBadCommands, maxRedirects);
    }

    public ManageSieveSettings withMaxBadCommands(int max) {
        return new ManageSieveSettings(hostname, plaintextAuth, limits, preAuthStringBytes, idleTimeout, max, maxRedirects);
    }
}
