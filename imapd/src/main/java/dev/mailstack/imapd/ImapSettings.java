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
    /**
     * {@code recent} off: no message is ever \Recent, as on Gmail and in IMAP4rev2 (RFC 9051 dropped
     * the flag). With it on (RFC 3501 §2.3.2, tested), Thunderbird 153 stalled after moving a message
     * into a folder in about a third of the acceptance runs, every session of it idling; until that
     * is understood, the server does not claim recent messages (NOTES.md, issue 7).
     */
    public static ImapSettings defaults(String hostname) {
        return new ImapSettings(hostname, PlaintextAuth.LOOPBACK, 64L * 1024 * 1024, 8192, Duration.ofMinutes(30),
                MimeLimits.defaults(), false);
    }

    public ImapSettings withRecent(boolean on) {
        return new ImapSettings(hostname, plaintextAuth, appendLimit, preAuthLiteralLimit, authenticatedIdle, mimeLimits, on);
    }
}
