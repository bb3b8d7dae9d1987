package dev.mailstack.server;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every configuration key, with its default and the line docs/configuration.md shows for it
 * (a test keeps the two in step). Values are checked when the file is read.
 */
public enum ConfigKey {
    HOSTNAME("hostname", "", Type.HOSTNAME, "Name (one word) in greetings, Received: headers, Thunderbird autoconfig and the MX that dns check advises; empty means this machine's name: its canonical name, else its host name (hostname(1)), never localhost or an address. A name without a dot is warned about at start: set a full one (mail.example.org)."),
    DATA_DIR("data_dir", "data", Type.PATH, "Folder for the database and message files; relative to the working directory."),
    JDBC_URL("jdbc_url", "", Type.STRING, "Database URL; empty means an embedded H2 file in data_dir."),
    BIND("bind", "127.0.0.1", Type.ADDRESS, "Address every listener binds; 0.0.0.0 (or ::) serves the network."),
    WARM_UP("warm_up", "true", Type.BOOL, "Before listening, run each protocol once against a scratch store in data_dir so the first clients meet a warm server (about 1.5 s at start)."),
    SMTP_PORT("smtp.port", "auto", Type.PORT, "SMTP for other servers (MX). auto: 25 when allowed to bind it, else 2525. off disables."),
    SUBMISSION_PORT("submission.port", "auto", Type.PORT, "Submission with STARTTLS for mail clients. auto: 587, else 2587."),
    SUBMISSIONS_PORT("submissions.port", "auto", Type.PORT, "Submission with implicit TLS. auto: 465, else 2465. Needs a certificate."),
    POP3_PORT("pop3.port", "auto", Type.PORT, "POP3 with STLS. auto: 110, else 1110."),
    POP3S_PORT("pop3s.port", "auto", Type.PORT, "POP3 with implicit TLS. auto: 995, else 1995. Needs a certificate."),
    IMAP_PORT("imap.port", "auto", Type.PORT, "IMAP with STARTTLS. auto: 143, else 1143."),
    IMAPS_PORT("imaps.port", "auto", Type.PORT, "IMAP with implicit TLS. auto: 993, else 1993. Needs a certificate."),
    MANAGESIEVE_PORT("managesieve.port", "auto", Type.PORT, "ManageSieve (RFC 5804) with STARTTLS, for mail clients to edit their Sieve filters. auto: 4190 (IANA's sieve port, unprivileged). off disables."),
    LMTP_PORT("lmtp.port", "off", Type.PORT, "LMTP (RFC 2033) for an MTA in front of mailstack, as Dovecot's: Postfix's virtual_transport = lmtp:inet:127.0.0.1:24 delivers into our mailboxes. Only this machine and smtp.trusted_networks may use it; local mailboxes only; the MTA in front makes the checks. auto: 24, else 2424. Off by default."),
    LMTP_SOCKET("lmtp.socket", "", Type.PATH, "Unix domain socket for LMTP, e.g. /run/mailstack/lmtp (systemd's RuntimeDirectory), for Postfix's mailbox_transport or virtual_transport = lmtp:unix:/run/mailstack/lmtp; the same LMTP as lmtp.port, made with mode 0660 (the server's user and lmtp.socket_group, else its group, may connect), without TLS; a socket file left by a server that was killed is replaced, and the file is removed at stop. Empty: none."),
    LMTP_SOCKET_GROUP("lmtp.socket_group", "", Type.STRING, "Group given to lmtp.socket, so that the MTA's user can connect by joining it rather than mailstack's own group (whose members read the TLS key and the mail): install.sh makes mailstack-lmtp and puts the server in it; then usermod -aG mailstack-lmtp postfix. Empty: the server's own group."),
    HTTP_PORT("http.port", "auto", Type.PORT, "HTTP for Thunderbird autoconfig (/mail/config-v1.1.xml) and Prometheus /metrics. auto: 80, else 8080."),
    HTTPS_PORT("https.port", "off", Type.PORT, "HTTPS (implicit TLS, the certificate of tls.*) for the same autoconfig and /metrics: Thunderbird asks https://autoconfig.DOMAIN/ before http://. auto: 443, else 8443. Off by default, as a web server on this machine usually has 443 (let it pass /mail/ and /.well-known/autoconfig/ on to http.port instead). Needs a certificate."),
    METRICS_NETWORKS("http.metrics_networks", "127.0.0.0/8, ::1", Type.CIDRS, "Clients that may read /metrics (on http.port and https.port); others get 403. This machine only by default: queue sizes, login failures and store size are nobody else's business. Add your Prometheus server, e.g. 127.0.0.0/8, ::1, 10.0.0.5."),
    TLS_CERTIFICATE("tls.certificate", "", Type.STRING, "PEM certificate chain (fullchain.pem); empty: no TLS."),
    TLS_KEY("tls.key", "", Type.STRING, "PEM PKCS#8 private key (privkey.pem) for tls.certificate."),
    TLS_CERTIFICATES_DIR("tls.certificates_dir", "", Type.STRING, "Folder with one subfolder per host name holding fullchain.pem and privkey.pem (Let's Encrypt's live/), chosen by SNI."),
    TLS_RELOAD_CHECK("tls.reload_check_seconds", "10", Type.INT, "Seconds between looks at the certificate files; a change (a certbot renewal) reloads them. 0: only on SIGHUP."),
    PLAINTEXT_AUTH("auth.plaintext", "loopback", Type.PLAINTEXT, "Password logins without TLS: never, loopback (telnet on this machine) or always."),
    MAX_CONNECTIONS("net.max_connections", "1000", Type.INT, "Connections served at once per listener."),
    MAX_CONNECTIONS_PER_IP("net.max_connections_per_ip", "50", Type.INT, "Connections at once from one client address per listener (an IPv6 client counts by its /64, which it may use in full)."),
    MAX_LINE_BYTES("net.max_line_bytes", "8192", Type.INT, "Longest command line; at least 512."),
    MAX_COMMANDS_PER_SECOND("net.max_commands_per_second", "10000", Type.INT, "Commands one connection may send per second; faster clients are slowed down, not cut off (0: no limit)."),
    IDLE_TIMEOUT("net.idle_timeout_seconds", "300", Type.INT, "Seconds a client may stay silent (IMAP after login: 1800; POP3 after login: 600), or leave a reply unread."),
    MIN_DATA_RATE("net.min_data_rate", "500", Type.INT, "Bytes per second a client must average while it sends a message or a literal (SMTP and LMTP DATA and BDAT, IMAP APPEND and literals, ManageSieve literals), as Postfix's smtpd_min_data_rate: the payload has the idle timeout, and each byte adds 1/rate s, up to the idle timeout again. 0: only each read waits the idle timeout."),
    SHUTDOWN_GRACE("net.shutdown_grace_seconds", "20", Type.INT, "Seconds sessions get to finish when the server stops."),
    AUTOEXPUNGE_TRASH("mailbox.autoexpunge_trash_days", "0", Type.INT, "Days mail stays in each account's Trash (special-use \\Trash), counted from when it was put there, before it is expunged for good, as Dovecot's autoexpunge; checked hourly. 0: kept until the user empties it."),
    AUTOEXPUNGE_JUNK("mailbox.autoexpunge_junk_days", "0", Type.INT, "Days mail stays in each account's Junk (special-use \\Junk), counted from when it was put there (delivered as spam, or moved there); 30 is common. 0: kept for ever."),
    QUOTA_WARNING_PERCENT("mailbox.quota_warning_percent", "90", Type.PERCENTS, "Shares of an account's quota, in percent (1 to 99, comma-separated, at most 5, e.g. 80,95), at which a delivery that takes the account's use from below to at or above one puts a short warning into its INBOX, as Dovecot's quota_warning: once per crossing, only the highest share crossed; accounts without a quota never. Empty: no warnings."),
    STORE_MIN_FREE_BYTES("store.min_free_bytes", "104857600", Type.LONG, "Bytes kept free on the file system of data_dir: mail that would leave less is refused for now, as Postfix's queue_minfree (SMTP and LMTP MAIL with 452 4.3.1, counting its SIZE; IMAP APPEND with NO [OVERQUOTA]), and a warning logged at most once a minute, so that the database and the mail already accepted keep room when the disk fills; senders try again later. Mail whose writing fails all the same (the disk filled meanwhile) gets the same answer. 0: none kept (mail larger than what is free is still refused). 100 MiB."),
    STORE_MAX_MAILBOXES("store.max_mailboxes", "10000", Type.INT, "Mailboxes one account may have, and names it may subscribe to: past it IMAP CREATE (parents counted), RENAME to new parents and SUBSCRIBE get NO [LIMIT] (RFC 5530), a Sieve fileinto :create keeps the mail in INBOX, an import stops. Every LIST reads all of an account's mailboxes, so they are bounded as every read is; 10,000 is far more folders than a person keeps. At least 1."),
    MAX_MESSAGE_BYTES("smtp.max_message_bytes", "26214400", Type.LONG, "Largest message accepted (SIZE, RFC 1870); 25 MiB."),
    MAX_RECIPIENTS("smtp.max_recipients", "1000", Type.INT, "Recipients per message (Postfix's default)."),
    MAX_RECIPIENTS_PER_HOUR("smtp.max_recipients_per_hour", "1000", Type.INT, "Recipients one logged-in account may send to in any hour, on all SMTP ports together; past it each RCPT gets 450 4.7.1 (try again later), as does a message whose recipients no longer fit when it is queued (sessions side by side), and a warning is logged, since a stolen password is the usual cause (as rspamd's user ratelimit). Counted in memory, in one-minute steps; relaying from smtp.trusted_networks is not counted. 0: no limit."),
    MAX_ERRORS("smtp.max_errors", "20", Type.INT, "Errors in one SMTP session before it is closed with 421."),
    BARE_LF("smtp.bare_lf", "normalize", Type.BARE_LF, "A bare LF in DATA: normalize (to CRLF) or reject (SMTP smuggling defence either way)."),
    TRUSTED_NETWORKS("smtp.trusted_networks", "", Type.CIDRS, "Networks allowed to relay without AUTH, e.g. 10.0.0.0/8; none by default, not even loopback."),
    DNSBL("smtp.dnsbl", "", Type.ZONES, "DNS blocklists (RFC 5782) asked about clients of the MX port that neither log in nor relay from smtp.trusted_networks, e.g. zen.spamhaus.org (comma-separated); a listed client gets 554 5.7.1 at RCPT, as Postfix's reject_rbl_client. As there, zone=127.0.0.[2..11] counts only the answers the filter matches (each octet a number or a bracketed list of numbers and ranges, ; between). A list that cannot be asked lets mail through. Most lists refuse queries from public resolvers: use a resolver of your own."),
    GREYLIST("smtp.greylist", "false", Type.BOOL, "Greylisting on the MX port, as Postfix with postgrey: the first mail of a client network (IPv4 /24, IPv6 /64), envelope sender and recipient gets 450 4.7.1 at RCPT, and the same triplet passes when the client tries again after smtp.greylist_delay_seconds and within smtp.greylist_retry_window_hours (2 days by default); smtp.greylist_whitelist_clients and _recipients name those never greylisted. Only for clients that neither log in nor relay from smtp.trusted_networks, only for recipients delivered here, never postmaster. Off by default: new correspondents' first mail waits for their server's retry."),
    GREYLIST_DELAY("smtp.greylist_delay_seconds", "300", Type.INT, "Seconds a new triplet is deferred before a retry passes (postgrey's --delay)."),
    GREYLIST_RETRY_WINDOW("smtp.greylist_retry_window_hours", "48", Type.INT, "Hours after a triplet's first attempt within which a retry passes (postgrey's --retry-window); a later one starts it over. 1 to 720, and longer than smtp.greylist_delay_seconds."),
    GREYLIST_WHITELIST_CLIENTS("smtp.greylist_whitelist_clients", "", Type.PATH, "File of clients never greylisted, in the format of postgrey's whitelist_clients: a host name or domain (matching the client's forward-confirmed reverse DNS name and the names under it), /regex/, an address or a network, one a line; read at start and on SIGHUP. Empty: none."),
    GREYLIST_WHITELIST_RECIPIENTS("smtp.greylist_whitelist_recipients", "", Type.PATH, "File of recipients never greylisted, in the format of postgrey's whitelist_recipients: user@domain, domain, user@ or /regex/, one a line; read at start and on SIGHUP. Empty: none."),
    GREYLIST_MAX_AGE("smtp.greylist_max_age_days", "35", Type.INT, "Days a triplet that passed, and an auto-whitelisted client network, are remembered after their last mail (postgrey's --max-age)."),
    GREYLIST_AUTO_WHITELIST("smtp.greylist_auto_whitelist", "5", Type.INT, "Passed triplets (at most one counted an hour) after which a client network is no longer greylisted, for smtp.greylist_max_age_days after its last mail (postgrey's --auto-whitelist-clients). 0: never."),
    SENDER_LOGIN_MATCH("smtp.sender_login_match", "false", Type.BOOL, "Whether a logged-in client's MAIL FROM must be one of its own account's addresses (aliases and +tag forms included; the null sender passes), as Postfix's reject_sender_login_mismatch: otherwise 553 5.7.1. Off by default, as in Postfix, so an identity at another provider still sends; DKIM signs only the account's own addresses either way."),
    SENDER_CHECKS("smtp.sender_checks", "true", Type.BOOL, "SPF (RFC 7208), DKIM (RFC 6376) and DMARC (RFC 7489, with RFC 9989's DNS tree walk) for mail from clients of the MX port that neither log in nor relay from smtp.trusted_networks, as Postfix with policyd-spf, OpenDKIM and OpenDMARC: each accepted message gets an Authentication-Results field (RFC 8601) with the three results; forged ones in our name are removed. What is refused is set by smtp.spf_reject and smtp.dmarc_enforce."),
    SENDER_CHECKS_SKIP("smtp.sender_checks_skip", "127.0.0.0/8, ::1", Type.CIDRS, "Clients the sender checks leave alone (policyd-spf's skip_addresses): this machine by default, so a telnet session on it is not refused for its sender's SPF record."),
    SPF_REJECT("smtp.spf_reject", "true", Type.BOOL, "Refuse mail whose SPF result is fail (the sender's domain says this client may not send for it) with 550 5.7.23 at RCPT, as policyd-spf does, and mail from a client whose HELO name's own SPF policy excludes it (RFC 7208 §2.3, policyd-spf's HELO_reject = Fail); softfail, neutral and errors are only noted. Postmaster stays reachable."),
    DMARC_ENFORCE("smtp.dmarc_enforce", "true", Type.BOOL, "Follow the author domain's DMARC policy for mail that neither SPF nor DKIM authenticates for it: p=reject is refused with 550 5.7.26 after DATA, p=quarantine goes to the recipients' Junk mailbox; false only notes the result."),
    MILTERS("smtp.milters", "", Type.MILTERS, "Milters (spam and virus filters speaking the Sendmail milter protocol: rspamd, spamass-milter, clamav-milter, OpenDKIM, OpenDMARC) asked about each SMTP session and message, in order, as Postfix's smtpd_milters: inet:HOST:PORT or unix:/PATH, comma-separated; empty: none. A reject or tempfail at CONNECT answers every MAIL, at HELO, MAIL, RCPT or DATA that command, at the end of the message the DATA (the milter's own reply text when it gives one); discard accepts the message and delivers it to no one; quarantine delivers it to the local recipients' Junk mailbox (recipients elsewhere get it as usual); added header fields go on top of the header."),
    MILTER_DEFAULT_ACTION("smtp.milter_default_action", "tempfail", Type.MILTER_ACTION, "What a milter that cannot be reached, is too slow or breaks the protocol amounts to, for the rest of the session (Postfix's milter_default_action): tempfail (451 4.3.5 to the command and to each RCPT, DATA and MAIL after it), accept (the milter is skipped) or reject (550 5.5.0)."),
    MILTER_CONNECT_TIMEOUT("smtp.milter_connect_timeout_seconds", "30", Type.INT, "Seconds to connect to a milter and negotiate with it (Postfix's milter_connect_timeout)."),
    MILTER_COMMAND_TIMEOUT("smtp.milter_command_timeout_seconds", "30", Type.INT, "Seconds a milter may take over each step before the message content: CONNECT, HELO, MAIL, RCPT, DATA (Postfix's milter_command_timeout); a progress reply starts it over."),
    MILTER_CONTENT_TIMEOUT("smtp.milter_content_timeout_seconds", "300", Type.INT, "Seconds a milter may take over each step of the message content: a header field, a body chunk, the end of the message (Postfix's milter_content_timeout)."),
    MILTER_SUBMISSION("smtp.milter_submission", "true", Type.BOOL, "Whether the submission ports (587, 465) ask smtp.milters too, as Postfix's smtpd_milters serve every smtpd unless master.cf overrides them: mail clients' outgoing mail gets the same virus scan. false: only the MX port."),
    RETRY_INITIAL("queue.retry_initial_seconds", "300", Type.INT, "First retry delay for deferred mail; doubles each time."),
    RETRY_MAX("queue.retry_max_seconds", "3600", Type.INT, "Longest retry delay."),
    MAX_QUEUE_LIFETIME("queue.max_lifetime_hours", "120", Type.INT, "Give up and bounce after this long (5 days)."),
    DELAY_WARNING("queue.delay_warning_hours", "4", Type.INT, "Tell the sender mail is delayed after this long; 0 disables."),
    SRS("queue.srs", "true", Type.BOOL, "Sender Rewriting Scheme for mail an alias forwards to another server, as postsrsd does for Postfix: it is sent from SRS0=...@the-alias-domain instead of its original sender, whose SPF record does not list this server; bounces (null sender only) to that address are relayed back to the original sender for 21 days; with it off, they are refused. The key is data/srs/secret (made on first start, kept by mailstack backup). Needs a restart."),
    STATIC_ROUTES("queue.static_routes", "", Type.ROUTES, "domain=host:port pairs, comma-separated, used instead of MX lookups (tests, smart hosts)."),
    RELAY_HOST("queue.relay_host", "", Type.HOST_PORT, "host:port to send all outbound mail through (a smart host); empty: MX lookups."),
    RELAY_HOST_TLS("queue.relay_host_tls", "may", Type.TLS_POLICY, "TLS with the relay host: may (STARTTLS when offered), encrypt (STARTTLS required), verify (STARTTLS and a trusted certificate naming the relay host), implicit (TLS from the start, port 465) or none."),
    RELAY_HOST_USER("queue.relay_host_user", "", Type.STRING, "Login at the relay host (AUTH PLAIN or LOGIN, only inside TLS; see queue.relay_host_tls_verify); empty: no login."),
    RELAY_HOST_PASSWORD_FILE("queue.relay_host_password_file", "", Type.PATH, "File holding the relay host password on its first line (keep it chmod 600); read at start and on SIGHUP."),
    RELAY_HOST_TLS_VERIFY("queue.relay_host_tls_verify", "true", Type.BOOL, "With a relay host login: send the password only inside TLS to a relay host whose certificate chains to a trusted authority (queue.tls_trust_file) and names it, whatever queue.relay_host_tls says: no retry without TLS, no plaintext login on loopback either. false: any certificate will do, and a relay on loopback may take the login in plaintext."),
    TLS_TRUST_FILE("queue.tls_trust_file", "", Type.PATH, "PEM file of the certificate authorities a verified next hop's certificate must chain to (Postfix's smtp_tls_CAfile), instead of the JDK's (include public roots too if verify domains need them); empty: the JDK's. Read at start and on SIGHUP."),
    DESTINATION_CONCURRENCY("queue.destination_concurrency", "20", Type.INT, "Deliveries at once to one destination domain (or to the relay host); one that finds no turn within 10 s is retried later."),
    TLS_POLICY("queue.tls_policy", "", Type.TLS_POLICIES, "domain=none|may|encrypt|verify|implicit pairs (verify: STARTTLS and a certificate from an authority in queue.tls_trust_file naming the MX host; implicit: TLS from the first byte, for a static route to port 465), comma-separated: TLS with that domain's servers (default may: STARTTLS when offered; a failed handshake is retried without TLS)."),
    MTA_STS("queue.mta_sts", "true", Type.BOOL, "MTA-STS (RFC 8461) for domains reached by MX without a queue.tls_policy entry: a domain whose published policy is in enforce mode gets mail only on the MX hosts it names, each with STARTTLS and a certificate naming the host that chains to an authority in queue.tls_trust_file (else the JDK's); testing mode only logs. Fetched policies are kept in the store until their max_age, across restarts, and fetched again after half their max_age (a day at most), also while their DNS record cannot be seen; a failed fetch is not tried again for 5 minutes."),
    DANE("queue.dane", "false", Type.BOOL, "DANE (RFC 7672) for domains reached by MX without a queue.tls_policy entry, as Postfix's dane level: where DNSSEC validates the MX hosts and their TLSA records (_25._tcp.HOST), STARTTLS is required and the certificate must match a DANE-EE or DANE-TA record (else 451 4.7.5, never plaintext); all records unusable: TLS required; a failed TLSA lookup: that host is not used. Takes precedence over MTA-STS. Turn it on only with a validating resolver such as unbound on 127.0.0.1 first in /etc/resolv.conf: its AD bit is believed (from loopback only, never from systemd-resolved's 127.0.0.53 or Docker's 127.0.0.11, which forward); otherwise it stays off, and the log says why at the first delivery by MX."),
    MIME_MAX_DEPTH("mime.max_depth", "20", Type.INT, "Multipart and message/rfc822 nesting parsed; deeper parts are kept as one leaf."),
    MIME_MAX_PARTS("mime.max_parts", "1000", Type.INT, "Parts parsed in one message; the rest is kept unparsed."),
    MIME_MAX_HEADER_BYTES("mime.max_header_bytes", "1048576", Type.INT, "Header bytes analysed per part."),
    MIME_MAX_PARAMS("mime.max_params", "100", Type.INT, "Parameters read from one Content-Type or Content-Disposition."),
    FALLBACK_CHARSETS("mime.fallback_charsets", "GB18030", Type.STRING, "Charsets tried, in order, for raw 8-bit mail that is not UTF-8."),
    SIEVE_MAX_SCRIPTS("sieve.max_scripts", "20", Type.INT, "Sieve scripts one account may keep, the active one included; one more is refused (ManageSieve QUOTA/MAXSCRIPTS)."),
    SIEVE_MAX_SCRIPT_BYTES("sieve.max_script_bytes", "65536", Type.INT, "Octets (UTF-8) of one Sieve script, at most 1000000; a larger one is refused (ManageSieve QUOTA/MAXSIZE)."),
    SIEVE_BEFORE("sieve.before", "", Type.STRING, "Sieve script files (comma-separated) run before every account's own script at delivery, as Pigeonhole's sieve_before; read and checked at start and on SIGHUP. The next script runs only while the implicit keep holds; stop ends only the script it is in."),
    SIEVE_AFTER("sieve.after", "", Type.STRING, "Sieve script files (comma-separated) run after every account's own script, while the implicit keep is still in effect, as Pigeonhole's sieve_after; read and checked at start and on SIGHUP."),
    SIEVE_GLOBAL_DIR("sieve.global_dir", "", Type.PATH, "Folder of the site's global Sieve scripts: include :global \"NAME\" (RFC 6609) runs NAME.sieve from it; empty: none, such an include finds nothing (a runtime error unless :optional)."),
    SIEVE_DUPLICATE_MAX_PERIOD("sieve.duplicate_max_period_seconds", "604800", Type.INT, "Longest a Sieve duplicate test (RFC 7352) remembers a message's ID, capping its :seconds (Pigeonhole's sieve_duplicate_max_period); a week. Without :seconds: a week too."),
    SIEVE_SPAMTEST_STATUS_HEADER("sieve.spamtest_status_header", "", Type.SCANNER_FIELD, "Where the Sieve spamtest test (RFC 5235) reads the spam scanner's verdict: a header field name, optionally a colon and a Java regular expression whose first group is the value (Pigeonhole's sieve_spamtest_status_header). Empty: not configured, every spamtest yields 0 (untested)."),
    SIEVE_SPAMTEST_STATUS_TYPE("sieve.spamtest_status_type", "score", Type.SCANNER_TYPE, "What that value is: score (a number), strlen (a run of one character, e.g. *****) or text (a word listed in sieve.spamtest_text_values)."),
    SIEVE_SPAMTEST_MAX_VALUE("sieve.spamtest_max_value", "", Type.DECIMAL, "The score at the top of spamtest's scale (10, or 100 with :percent), for score and strlen; or sieve.spamtest_max_header."),
    SIEVE_SPAMTEST_MAX_HEADER("sieve.spamtest_max_header", "", Type.SCANNER_FIELD, "Where the scanner writes that top score itself (SpamAssassin's required=), written as sieve.spamtest_status_header; used instead of sieve.spamtest_max_value."),
    SIEVE_SPAMTEST_TEXT_VALUES("sieve.spamtest_text_values", "", Type.SCANNER_TEXTS, "For the text type: VALUE=TEXT pairs, comma-separated, values 0 to 10 (Pigeonhole's sieve_spamtest_text_valueN), e.g. 1=No, 10=Yes."),
    SIEVE_VIRUSTEST_STATUS_HEADER("sieve.virustest_status_header", "", Type.SCANNER_FIELD, "Where the Sieve virustest test (RFC 5235) reads the virus scanner's verdict, written as sieve.spamtest_status_header. Empty: every virustest yields 0 (untested)."),
    SIEVE_VIRUSTEST_STATUS_TYPE("sieve.virustest_status_type", "score", Type.SCANNER_TYPE, "score, strlen or text, as sieve.spamtest_status_type."),
    SIEVE_VIRUSTEST_MAX_VALUE("sieve.virustest_max_value", "", Type.DECIMAL, "The score at the top of virustest's scale (5), for score and strlen; or sieve.virustest_max_header."),
    SIEVE_VIRUSTEST_MAX_HEADER("sieve.virustest_max_header", "", Type.SCANNER_FIELD, "Where the scanner writes that top score itself, as sieve.spamtest_max_header."),
    SIEVE_VIRUSTEST_TEXT_VALUES("sieve.virustest_text_values", "", Type.SCANNER_TEXTS, "For the text type: VALUE=TEXT pairs, values 0 to 5, e.g. 1=clean, 5=infected."),
    SIEVE_EDITHEADER_FORBID_ADD("sieve.editheader_forbid_add", "", Type.FIELD_NAMES, "Header fields Sieve scripts may not add with editheader (RFC 5293), comma- or space-separated, as Pigeonhole's sieve_editheader_forbid_add; an attempt is ignored. Received, Return-Path and Authentication-Results are never added; Subject cannot be forbidden."),
    SIEVE_EDITHEADER_FORBID_DELETE("sieve.editheader_forbid_delete", "", Type.FIELD_NAMES, "Header fields Sieve scripts may not delete, as sieve.editheader_forbid_add (Pigeonhole's sieve_editheader_forbid_delete). Received, Auto-Submitted and Return-Path are never deleted; Subject cannot be forbidden."),
    DKIM_SELECTOR("dkim.selector", "mailstack", Type.SELECTOR, "DKIM selector (RFC 6376) a domain's keys are looked for under first, one of each kind: data_dir/dkim/DOMAIN/SELECTOR.pem for RSA, SELECTOR-ed25519.pem for Ed25519 (RFC 8463); else the domain's only key of that kind there (the kind is what the file holds; its name without .pem is its selector). A domain with both kinds signs with both, RSA's field on top (RFC 8463 §3: many verifiers know only RSA). Signed (rsa-sha256, ed25519-sha256; relaxed/relaxed): mail from a logged-in client From: one of its account's addresses, and mail from smtp.trusted_networks; never mail from other servers. mailstack dkim keygen DOMAIN [--type ed25519] makes a key and prints the DNS record to publish; a domain without a key sends unsigned.");

    enum Type { STRING, HOSTNAME, SELECTOR, ZONES, PATH, ADDRESS, PORT, INT, LONG, BOOL, PLAINTEXT, BARE_LF, CIDRS, ROUTES, HOST_PORT, TLS_POLICY, TLS_POLICIES, MILTERS, MILTER_ACTION,
        SCANNER_FIELD, SCANNER_TYPE, SCANNER_TEXTS, DECIMAL, PERCENTS, FIELD_NAMES }

    /**
     * Whether a SIGHUP applies a change to this key while the server runs (new SMTP sessions, the
     * queue's next deliveries); other keys need a restart, which the reload's log line says.
     */
    boolean live() {
        return switch (this) {
            case RETRY_INITIAL, RETRY_MAX, MAX_QUEUE_LIFETIME, DELAY_WARNING, STATIC_ROUTES, RELAY_HOST, RELAY_HOST_TLS,
                 RELAY_HOST_USER, RELAY_HOST_PASSWORD_FILE, RELAY_HOST_TLS_VERIFY, TLS_TRUST_FILE, TLS_POLICY, MTA_STS, DANE, MAX_MESSAGE_BYTES, MAX_RECIPIENTS, MAX_ERRORS,
                 TRUSTED_NETWORKS, DNSBL, SENDER_LOGIN_MATCH, SENDER_CHECKS, SENDER_CHECKS_SKIP, SPF_REJECT, DMARC_ENFORCE, BARE_LF,
                 MILTERS, MILTER_DEFAULT_ACTION, MILTER_CONNECT_TIMEOUT, MILTER_COMMAND_TIMEOUT, MILTER_CONTENT_TIMEOUT,
                 MILTER_SUBMISSION, MAX_RECIPIENTS_PER_HOUR -> true;
            case GREYLIST, GREYLIST_DELAY, GREYLIST_RETRY_WINDOW, GREYLIST_MAX_AGE, GREYLIST_AUTO_WHITELIST,
                 GREYLIST_WHITELIST_CLIENTS, GREYLIST_WHITELIST_RECIPIENTS -> true;
            case SIEVE_BEFORE, SIEVE_AFTER, SIEVE_GLOBAL_DIR, SIEVE_DUPLICATE_MAX_PERIOD -> true;
            case AUTOEXPUNGE_TRASH, AUTOEXPUNGE_JUNK, QUOTA_WARNING_PERCENT, STORE_MIN_FREE_BYTES, STORE_MAX_MAILBOXES -> true;
            case SIEVE_SPAMTEST_STATUS_HEADER, SIEVE_SPAMTEST_STATUS_TYPE, SIEVE_SPAMTEST_MAX_VALUE, SIEVE_SPAMTEST_MAX_HEADER,
                 SIEVE_SPAMTEST_TEXT_VALUES, SIEVE_VIRUSTEST_STATUS_HEADER, SIEVE_VIRUSTEST_STATUS_TYPE,
                 SIEVE_VIRUSTEST_MAX_VALUE, SIEVE_VIRUSTEST_MAX_HEADER, SIEVE_VIRUSTEST_TEXT_VALUES,
                 SIEVE_EDITHEADER_FORBID_ADD, SIEVE_EDITHEADER_FORBID_DELETE -> true;
            default -> false;
        };
    }

    /** The smallest value an INT key takes; below it the server could not start (NetLimits). */
    int minimum() {
        return switch (this) {
            case MAX_LINE_BYTES -> 512; // RFC 5321 §4.5.3.1.4: a command line is up to 512 octets
            case MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP, IDLE_TIMEOUT, DESTINATION_CONCURRENCY, SIEVE_MAX_SCRIPTS,
                 SIEVE_MAX_SCRIPT_BYTES, MILTER_CONNECT_TIMEOUT, MILTER_COMMAND_TIMEOUT, MILTER_CONTENT_TIMEOUT,
                 GREYLIST_DELAY, GREYLIST_RETRY_WINDOW, GREYLIST_MAX_AGE, STORE_MAX_MAILBOXES -> 1;
            default -> 0;
        };
    }

    /** The largest value an INT key takes. */
    int maximum() {
        return switch (this) {
            case SIEVE_MAX_SCRIPT_BYTES -> dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES; // the content column's bound
            case GREYLIST_DELAY -> 86400; // a day: shorter than the retry window is checked with both read
            // 30 days: a first attempt never retried (most are spam) is a row kept this long
            case GREYLIST_RETRY_WINDOW -> 720;
            case GREYLIST_MAX_AGE -> 3650;
            default -> Integer.MAX_VALUE;
        };
    }

    private final String key;
    private final String defaultValue;
    private final Type type;
    private final String description;

    ConfigKey(String key, String defaultValue, Type type, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.type = type;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    Type type() {
        return type;
    }

    /** MAILSTACK_SMTP_PORT for smtp.port: the environment override for containers. */
    public String environmentName() {
        return "MAILSTACK_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
    }

    public static Optional<ConfigKey> byKey(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }

    /**
     * The key an unknown one was probably meant to be, for "did you mean": the nearest within two
     * typed characters (smtp.prot), else the same name under another section (imap.max_line_bytes,
     * or max_recipients with no section), at most three of them.
     */
    static Optional<String> closestTo(String unknown) {
        String typed = unknown.toLowerCase(java.util.Locale.ROOT);
        ConfigKey best = null;
        int bestDistance = 3;
        for (ConfigKey k : values()) {
            // a distance is at least the difference in length: a long line is never near a key (and costs nothing)
            if (Math.abs(typed.length() - k.key.length()) >= bestDistance) {
                continue;
            }
            int d = distance(typed, k.key);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        if (best != null) {
            return Optional.of(best.key);
        }
        String name = typed.substring(typed.lastIndexOf('.') + 1);
        java.util.List<String> same = Arrays.stream(values()).map(ConfigKey::key)
                .filter(k -> k.substring(k.lastIndexOf('.') + 1).equals(name)).toList();
        if (same.isEmpty() || same.size() > 3) {
            return Optional.empty();
        }
        return Optional.of(same.size() == 1 ? same.get(0)
                : String.join(", ", same.subList(0, same.size() - 1)) + " or " + same.get(same.size() - 1));
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
