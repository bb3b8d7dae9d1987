package dev.mailstack.mta.smtp;

import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.milter.MilterSettings;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;

/** SMTP on one endpoint: port 25 (MX) or submission (587, 465), per {@link SmtpSettings}. */
public final class SmtpProtocol implements Protocol {
    /** Replaced on SIGHUP; a session keeps the settings it started with. */
    private volatile SmtpSettings settings;
    private final MailboxStore store;
    private final QueueIntake intake;
    private final AuthThrottle throttle;
    private final SendingRates rates;
    private final boolean lmtp;

    /** {@code rates}: shared by every endpoint, so an account's hour counts on 25, 587 and 465 together. */
    public SmtpProtocol(SmtpSettings settings, MailboxStore store, QueueIntake intake, AuthThrottle throttle,
                        SendingRates rates) {
        this(settings, store, intake, throttle, rates, false);
    }

    private SmtpProtocol(SmtpSettings settings, MailboxStore store, QueueIntake intake, AuthThrottle throttle,
                         SendingRates rates, boolean lmtp) {
        this.settings = settings;
        this.store = store;
        this.intake = intake;
        this.throttle = throttle;
        this.rates = rates;
        this.lmtp = lmtp;
    }

    /**
     * LMTP (RFC 2033) for the MTA in front of us, as Dovecot's: Postfix with {@code
     * virtual_transport = lmtp:inet:127.0.0.1:24} hands over mail for our mailboxes. It made the
     * checks already, so none are made again (DNS blocklists, SPF, DKIM, DMARC, milters); clients
     * other than this machine and smtp.trusted_networks are turned away at the greeting.
     */
    public static SmtpProtocol lmtp(SmtpSettings mx, MailboxStore store, QueueIntake intake, AuthThrottle throttle) {
        return new SmtpProtocol(lmtpSettings(mx), store, intake, throttle, SendingRates.unlimited(), true);
    }

    private static SmtpSettings lmtpSettings(SmtpSettings mx) {
        return mx.withSenderChecks(InboundChecks.OFF).withMilters(MilterSettings.OFF);
    }

    /** New sessions follow these (a configuration reload); sessions under way keep theirs. */
    public void use(SmtpSettings changed) {
        settings = lmtp ? lmtpSettings(changed) : changed;
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new SmtpSession(connection, settings, store, intake, throttle, rates, lmtp).run();
    }

    @Override
    public String tooManyConnectionsReply() {
        return SmtpReplies.TOO_MANY_CONNECTIONS.wire(true).strip();
    }

    @Override
    public String idleTimeoutReply() {
        return SmtpReplies.IDLE_TIMEOUT.wire(true).strip();
    }

    @Override
    public String shutdownReply() {
        return SmtpReplies.SHUTTING_DOWN.wire(true).strip();
    }
}
