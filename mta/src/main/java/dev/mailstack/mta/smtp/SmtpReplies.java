package dev.mailstack.mta.smtp;

import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.inbound.SpfResult;

/** Every reply the SMTP server sends, in one place (STYLE.md R1). */
public final class SmtpReplies {
    private SmtpReplies() {
    }

    public static SmtpReply greeting(String hostname) {
        return new SmtpReply(220, null, hostname + " ESMTP mailstack ready");
    }

    public static SmtpReply lmtpGreeting(String hostname) {
        return new SmtpReply(220, null, hostname + " LMTP mailstack ready");
    }

    /** RFC 2033 §4.1: LMTP knows no HELO or EHLO; SMTP knows no LHLO. */
    public static final SmtpReply LMTP_ONLY = new SmtpReply(500, "5.5.1", "This is LMTP: say LHLO your.host.name");
    public static final SmtpReply NOT_LMTP = new SmtpReply(500, "5.5.1", "This is SMTP, not LMTP: say EHLO your.host.name");
    public static final SmtpReply LMTP_NOT_FOR_YOU = new SmtpReply(554, "5.7.1",
            "LMTP is for the mail server on this machine or smtp.trusted_networks only; send to port 25");
    public static final SmtpReply LMTP_HELP = new SmtpReply(214, "2.0.0", String.join("\n",
            "mailstack LMTP (RFC 2033), for the mail server in front. Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY",
            "  LHLO your.name / MAIL FROM:<sender> / RCPT TO:<local user> (one or more) / DATA",
            "After the message's final \".\", one reply per recipient taken."));
    public static final SmtpReply NO_AUTH_IN_LMTP = new SmtpReply(503, "5.5.1",
            "No AUTH in LMTP: the client is trusted for where it connects from");
    public static final SmtpReply NOT_LOCAL_LMTP = new SmtpReply(550, "5.1.1",
            "Not a mailbox of this server: LMTP delivers to local mailboxes only");

    public static SmtpReply bye(String hostname) {
        return new SmtpReply(221, "2.0.0", hostname + " closing connection, goodbye");
    }

    public static SmtpReply helo(String hostname, String client) {
        return new SmtpReply(250, null, hostname + " Hello " + client);
    }

    public static final SmtpReply OK = new SmtpReply(250, "2.0.0", "Ok");
    public static final SmtpReply SENDER_OK = new SmtpReply(250, "2.1.0", "Sender ok");
    public static final SmtpReply RECIPIENT_OK = new SmtpReply(250, "2.1.5", "Recipient ok");
    public static final SmtpReply RESET = new SmtpReply(250, "2.0.0", "Reset, transaction cleared");
    public static final SmtpReply START_DATA = new SmtpReply(354, null, "End data with <CR><LF>.<CR><LF>");
    public static final SmtpReply READY_FOR_TLS = new SmtpReply(220, "2.0.0", "Ready to start TLS");
    public static final SmtpReply AUTH_OK = new SmtpReply(235, "2.7.0", "Authentication successful");
    public static final SmtpReply VRFY = new SmtpReply(252, "2.5.2",
            "Cannot VRFY user, but will accept message and attempt delivery");
    public static final SmtpReply EXPN = new SmtpReply(502, "5.5.1", "EXPN is not offered; no list expansion here");

    public static SmtpReply queued(String id) {
        return new SmtpReply(250, "2.0.0", "Ok: queued as " + id);
    }

    /** Postfix's wording for reject_sender_login_mismatch. */
    public static SmtpReply senderNotOwned(String from, String user) {
        return new SmtpReply(553, "5.7.1", "<" + from + ">: Sender address rejected: not owned by user " + user);
    }

    /** Postfix's wording for reject_rbl_client, with the list's own reason when it gives one (RFC 5782 §2.2). */
    public static SmtpReply blocklisted(String client, DnsBlocklists.Listing listing) {
        return new SmtpReply(554, "5.7.1", "Service unavailable; client host [" + client + "] blocked using "
                + listing.zone() + (listing.reason().isEmpty() ? "" : "; " + listing.reason()));
    }

    /** RFC 7372 §3.2: X.7.23, SPF validation failed; the text is the domain's explanation (RFC 7208 §6.2) or ours. */
    public static SmtpReply spfFailed(SpfResult spf) {
        return new SmtpReply(550, "5.7.23", "SPF fail: " + spf.explanation());
    }

    /** What the sender checks refused a message for (DMARC p=reject, an unusable From, an oversized header). */
    public static SmtpReply refused(InboundChecks.Verdict.Refuse refuse) {
        return new SmtpReply(refuse.code(), refuse.status(), refuse.text());
    }

    /**
     * A milter's reply (SMFIR_REPLYCODE, or the defaults for reject and tempfail), passed on as it
     * is but for what SMTP cannot carry: octets past ASCII (RFC 5321 §4.2's textstring) become '?',
     * and a reply without an enhanced code gets X.7.1, since ENHANCEDSTATUSCODES promised one on
     * every reply (RFC 2034 §3).
     */
    public static SmtpReply milter(int code, String enhanced, String text) {
        String ascii = text.replaceAll("[^\\x00-\\x7f]", "?");
        return new SmtpReply(code, enhanced != null ? enhanced : code / 100 + ".7.1", ascii.isEmpty() ? " " : ascii);
    }

    /** A message a milter discarded: accepted, delivered to no one; the client is not told (Postfix says "queued"). */
    public static final SmtpReply DISCARDED = new SmtpReply(250, "2.0.0", "Ok: message accepted");

    public static SmtpReply chunkReceived(long size) {
        return new SmtpReply(250, "2.0.0", "Ok: " + size + " octets received");
    }

    // --- 4xx
    public static final SmtpReply SHUTTING_DOWN = new SmtpReply(421, "4.3.2", "Service shutting down, try again later");
    public static final SmtpReply TOO_MANY_CONNECTIONS = new SmtpReply(421, "4.7.0", "Too many connections, try again later");
    public static final SmtpReply IDLE_TIMEOUT = new SmtpReply(421, "4.4.2", "Timeout: no command received, closing");
    public static final SmtpReply TOO_MANY_ERRORS = new SmtpReply(421, "4.7.0", "Too many errors, closing connection");
    /** To a session authenticated as an account that was deleted (mailstack user del). */
    public static final SmtpReply ACCOUNT_DELETED = new SmtpReply(421, "4.7.0", "This account was deleted or disabled; closing the connection");
    public static final SmtpReply TOO_MANY_RECIPIENTS = new SmtpReply(452, "4.5.3", "Too many recipients");

    /** smtp.max_recipients_per_hour reached by a logged-in account (as Postfix's anvil: 450 4.7.1). */
    public static SmtpReply rateLimited(int perHour) {
        return new SmtpReply(450, "4.7.1", "Too many recipients from this account in the last hour (at most " + perHour
                + "); try again later");
    }

    /**
     * Greylisting (smtp.greylist): RFC 5321 §4.2.5's transient failure, which a real MTA retries;
     * X.7.1 (delivery not authorized) as Postfix gives postgrey's DEFER_IF_PERMIT.
     */
    public static SmtpReply greylisted(String recipient, long seconds) {
        return new SmtpReply(450, "4.7.1", "<" + recipient + ">: greylisted, try again in " + seconds
                + " seconds (first mail from this sender to this recipient from your network)");
    }

    public static final SmtpReply STORE_BUSY = new SmtpReply(451, "4.3.0", "Temporary failure storing the message, try again later");
    /** RFC 5321 §4.2.3 452, RFC 3463 4.3.1: refused before the server's disk is full, as Postfix below queue_minfree. */
    public static final SmtpReply INSUFFICIENT_STORAGE = new SmtpReply(452, "4.3.1",
            "Insufficient system storage: the server's disk is nearly full, try again later");
    public static final SmtpReply CHECKS_FAILED = new SmtpReply(451, "4.3.0", "Temporary failure checking the message, try again later");
    public static final SmtpReply TLS_UNAVAILABLE = new SmtpReply(454, "4.7.0", "TLS not available");

    // --- 5xx syntax and sequence
    public static final SmtpReply UNKNOWN_COMMAND = new SmtpReply(500, "5.5.2", "Command not recognized; type HELP for the list");
    public static final SmtpReply LINE_TOO_LONG = new SmtpReply(500, "5.5.2", "Line too long");
    /** Postfix's reply ("bad UTF-8 syntax") to a command line that is not UTF-8 (RFC 6531 §3.3). */
    public static final SmtpReply NOT_UTF8 = new SmtpReply(500, "5.5.2", "Bad UTF-8 syntax");
    public static final SmtpReply NEED_HELO = new SmtpReply(503, "5.5.1", "Say EHLO (or HELO) first, e.g. EHLO my.host.name");
    public static final SmtpReply NEED_LHLO = new SmtpReply(503, "5.5.1", "Say LHLO first, e.g. LHLO my.host.name");
    public static final SmtpReply NEED_MAIL = new SmtpReply(503, "5.5.1", "Need MAIL FROM:<address> first");
    public static final SmtpReply NEED_RCPT = new SmtpReply(503, "5.5.1", "Need RCPT TO:<address> first");
    public static final SmtpReply NESTED_MAIL = new SmtpReply(503, "5.5.1", "Sender already given; RSET to start over");
    public static final SmtpReply NO_VALID_RECIPIENTS = new SmtpReply(554, "5.5.1", "No valid recipients");
    public static final SmtpReply NO_VALID_RECIPIENTS_LMTP = new SmtpReply(503, "5.5.1", "No valid recipients");
    public static final SmtpReply ALREADY_AUTHENTICATED = new SmtpReply(503, "5.5.1", "Already authenticated");
    public static final SmtpReply AUTH_IN_TRANSACTION = new SmtpReply(503, "5.5.1", "AUTH not allowed during a mail transaction");
    public static final SmtpReply ALREADY_TLS = new SmtpReply(503, "5.5.1", "TLS already active");
    public static final SmtpReply BDAT_MIXED = new SmtpReply(503, "5.5.1", "DATA cannot follow BDAT; RSET first");
    public static final SmtpReply RCPT_AFTER_BDAT = new SmtpReply(503, "5.5.1", "RCPT cannot follow BDAT; RSET first");
    /** BINARYMIME (RFC 3030 §3) is not announced; RFC 5321 §4.1.1.11: 555 for a parameter we do not implement. */
    public static final SmtpReply BINARY_UNSUPPORTED = new SmtpReply(555, "5.5.4",
            "BODY=BINARYMIME is not supported here; send base64 or quoted-printable parts with BODY=8BITMIME");

    // --- 5xx policy and mailbox
    public static final SmtpReply AUTH_REQUIRED = new SmtpReply(530, "5.7.0", "Authentication required");
    public static final SmtpReply TLS_REQUIRED_FOR_AUTH = new SmtpReply(538, "5.7.11",
            "Encryption required for password authentication: STARTTLS first");
    public static final SmtpReply AUTH_FAILED = new SmtpReply(535, "5.7.8", "Authentication credentials invalid");
    public static final SmtpReply AUTH_CANCELLED = new SmtpReply(501, "5.0.0", "Authentication cancelled");
    /** RFC 4954 §4: a response that cannot be decoded MUST get 501 (Postfix: "Cannot decode response"). */
    public static final SmtpReply AUTH_MALFORMED = new SmtpReply(501, "5.5.2", "Cannot decode the authentication response");
    /** Postfix's reply to a SASL response over the line limit. */
    public static final SmtpReply AUTH_RESPONSE_TOO_LONG = new SmtpReply(500, "5.5.6", "Authentication response too long");
    public static final SmtpReply AUTH_MECHANISM = new SmtpReply(504, "5.5.4", "Unrecognized authentication type; use PLAIN or LOGIN");
    public static final SmtpReply NO_SUCH_USER = new SmtpReply(550, "5.1.1", "No such user here");
    public static final SmtpReply RELAY_DENIED = new SmtpReply(554, "5.7.1",
            "Relay access denied: to send to other domains, log in first (AUTH, on the submission port)");
    public static final SmtpReply MESSAGE_TOO_BIG = new SmtpReply(552, "5.3.4", "Message size exceeds fixed limit");
    public static final SmtpReply BARE_NEWLINE = new SmtpReply(550, "5.5.2",
            "Bare LF or CR in message data; end every line with CRLF");
    public static final SmtpReply NON_ASCII_WITHOUT_SMTPUTF8 = new SmtpReply(553, "5.6.7",
            "Non-ASCII address needs the SMTPUTF8 parameter");

    /** RFC 5321 §6.3: a message that has passed this many hosts is in a loop. */
    public static SmtpReply tooManyHops(int received) {
        return new SmtpReply(554, "5.4.6", "Too many hops (" + received
                + " Received fields): a mail loop; check the forwarding between the servers named in them");
    }

    public static SmtpReply tooBig(long limit) {
        return new SmtpReply(552, "5.3.4", "Message size exceeds fixed limit of " + limit + " bytes");
    }

    public static SmtpReply syntax(String what) {
        return new SmtpReply(501, "5.5.4", "Syntax: " + what);
    }

    public static SmtpReply badAddress(String why) {
        return new SmtpReply(501, "5.1.3", "Bad address syntax: " + why);
    }

    public static SmtpReply unknownParameter(String keyword) {
        return new SmtpReply(555, "5.5.4", "Unsupported parameter " + keyword);
    }

    public static SmtpReply noSuchUser(String address) {
        return new SmtpReply(550, "5.1.1", "<" + address + ">: no such user here");
    }

    public static SmtpReply overQuota(String address) {
        return new SmtpReply(552, "5.2.2", "<" + address + ">: mailbox full");
    }

    public static SmtpReply help(boolean submission) {
        return new SmtpReply(214, "2.0.0", String.join("\n",
                "mailstack SMTP. Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH",
                "A message by hand:",
                "  EHLO your.name",
                submission ? "  AUTH PLAIN <base64 of \\0user\\0password>" : "  (AUTH PLAIN ... to send to other domains)",
                "  MAIL FROM:<you@example.org>",
                "  RCPT TO:<friend@example.org>",
                "  DATA",
                "  Subject: hello",
                "  (blank line, your text, then a line with a single dot)",
                "  QUIT",
                "End of HELP"));
    }
}
