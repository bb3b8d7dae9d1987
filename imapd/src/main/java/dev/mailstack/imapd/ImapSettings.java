package dev.mailstack.imapd;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.PlaintextAuth;
import java.time.Duration;

/**
 * IMAP limits and policy (STYLE.md R6).
 *
 * @param appendLimit        largest APPEND literal (RFC 7889 APPENDLIMIT)
 * @param preAuthLiteralLimit literal bytes accepted before login (James: 8192)
 * @param authenticatedIdle  idle timeout after login (RFC 9051 §5.4: at least 30 minutes)
 * @param mimeLimits         bounds of the parse of an APPENDed message
 */
public record ImapSettings(String hostname, PlaintextAuth plaintextAuth, long appendLimit, int preAuthLiteralLimit,
                           Duration authenticatedIdle, MimeLimits mimeLimits, boolean recent) {
    /** {@code recent}: RFC 3501 §2.3.2's \Recent, each new message recent in exactly one session. */
    public static ImapSettings defaults(String hostname) {
        return new ImapSettings(hostname, PlaintextAuth.LOOPBACK, 64L * 1024 * 1024, 8192, Duration.ofMinutes(30),
                MimeLimits.defaults(), true);
    }
}
