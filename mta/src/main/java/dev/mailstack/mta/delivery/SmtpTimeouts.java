package dev.mailstack.mta.delivery;

import java.time.Duration;

/**
 * How long the outbound SMTP client waits (RFC 5321 §4.5.3.2).
 *
 * @param connect    to open the connection (not in the RFC; 30 s as Postfix's smtp_connect_timeout)
 * @param reply      for the greeting and the reply to MAIL, RCPT and other commands (§4.5.3.2.1–3: 5 minutes)
 * @param dataInit   for the reply to DATA (§4.5.3.2.4: 2 minutes)
 * @param dataBlock  for one send of message data to complete (§4.5.3.2.5: 3 minutes): a server that
 *                   stops reading mid-message fails the attempt, to be retried, instead of holding it
 * @param finalReply for the reply after the final dot (§4.5.3.2.6: 10 minutes)
 */
public record SmtpTimeouts(Duration connect, Duration reply, Duration dataInit, Duration dataBlock, Duration finalReply) {
    public static SmtpTimeouts rfc5321() {
        return new SmtpTimeouts(Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(2), Duration.ofMinutes(3),
                Duration.ofMinutes(10));
    }
}
