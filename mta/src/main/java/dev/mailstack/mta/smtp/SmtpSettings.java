package dev.mailstack.mta.smtp;

import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.milter.MilterSettings;
import dev.mailstack.mta.queue.SenderRewriting;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.PlaintextAuth;
import java.util.List;

/**
 * How one SMTP endpoint behaves (STYLE.md R6: limits named, defaulted, enforced while reading).
 *
 * @param submission      587/465: AUTH before MAIL, Date and Message-ID added when missing (RFC 6409)
 * @param maxMessageBytes SIZE limit (RFC 1870), enforced while reading
 * @param maxRecipients   RCPTs per message (Postfix smtpd_recipient_limit: 1000)
 * @param maxErrors       errors before 421 (Postfix smtpd_hard_error_limit: 20)
 * @param trustedNetworks clients that may relay without AUTH; empty by default, not even loopback
 * @param rejectBareNewlines reject messages with bare LF/CR instead of normalising them to CRLF
 * @param blocklists      DNS blocklists asked about MX clients that neither logged in nor relay from trustedNetworks
 * @param senderLoginMatch a logged-in client's MAIL FROM must be one of its account's addresses
 *                        (Postfix's reject_sender_login_mismatch); off by default, as there
 * @param senderChecks    SPF, DKIM and DMARC for the same MX clients as the blocklists
 * @param srs             lets bounces to the addresses our forwards were sent from back to their senders
 * @param milters         spam and virus filters asked about each session and message (Postfix's smtpd_milters)
 * @param greylisting     postgrey's greylisting for the same MX clients as the blocklists; off by default
 */
public record SmtpSettings(String hostname, boolean submission, long maxMessageBytes, int maxRecipients, int maxErrors,
                           PlaintextAuth plaintextAuth, List<Cidr> trustedNetworks, boolean rejectBareNewlines,
                           DnsBlocklists blocklists, boolean senderLoginMatch, InboundChecks senderChecks,
                           SenderRewriting srs, MilterSettings milters, Greylisting greylisting) {
    public SmtpSettings {
        trustedNetworks = List.copyOf(trustedNetworks);
    }

    /** Without greylisting. */
    public SmtpSettings(String hostname, boolean submission, long maxMessageBytes, int maxRecipients, int maxErrors,
                        PlaintextAuth plaintextAuth, List<Cidr> trustedNetworks, boolean rejectBareNewlines,
                        DnsBlocklists blocklists, boolean senderLoginMatch, InboundChecks senderChecks,
                        SenderRewriting srs, MilterSettings milters) {
        this(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, senderChecks, srs, milters, Greylisting.OFF);
    }

    /** Without milters. */
    public SmtpSettings(String hostname, boolean submission, long maxMessageBytes, int maxRecipients, int maxErrors,
                        PlaintextAuth plaintextAuth, List<Cidr> trustedNetworks, boolean rejectBareNewlines,
                        DnsBlocklists blocklists, boolean senderLoginMatch, InboundChecks senderChecks,
                        SenderRewriting srs) {
        this(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, senderChecks, srs, MilterSettings.OFF);
    }

    /** Without blocklists or sender checks. */
    public SmtpSettings(String hostname, boolean submission, long maxMessageBytes, int maxRecipients, int maxErrors,
                        PlaintextAuth plaintextAuth, List<Cidr> trustedNetworks, boolean rejectBareNewlines) {
        this(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, DnsBlocklists.NONE, false, InboundChecks.OFF, SenderRewriting.OFF);
    }

    public static SmtpSettings mx(String hostname) {
        return new SmtpSettings(hostname, false, 25L * 1024 * 1024, 1000, 20, PlaintextAuth.LOOPBACK, List.of(), false);
    }

    public SmtpSettings asSubmission() {
        // mail clients log in: blocklists (of spam sources, dial-up and home ranges), SPF and greylisting are not for them
        return new SmtpSettings(hostname, true, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, DnsBlocklists.NONE, senderLoginMatch, InboundChecks.OFF, srs, milters.forSubmission(),
                Greylisting.OFF);
    }

    public SmtpSettings withSenderChecks(InboundChecks checks) {
        return new SmtpSettings(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, checks, srs, milters, greylisting);
    }

    public SmtpSettings withSenderRewriting(SenderRewriting rewriting) {
        return new SmtpSettings(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, senderChecks, rewriting, milters, greylisting);
    }

    public SmtpSettings withMilters(MilterSettings changed) {
        return new SmtpSettings(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, senderChecks, srs, changed, greylisting);
    }

    public SmtpSettings withGreylisting(Greylisting changed) {
        return new SmtpSettings(hostname, submission, maxMessageBytes, maxRecipients, maxErrors, plaintextAuth, trustedNetworks,
                rejectBareNewlines, blocklists, senderLoginMatch, senderChecks, srs, milters, changed);
    }
}
