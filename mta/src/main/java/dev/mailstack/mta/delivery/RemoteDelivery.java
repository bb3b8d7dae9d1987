package dev.mailstack.mta.delivery;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.SevenBitDowngrade;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.naming.NamingException;

/** Sends a queued message to the recipients of one remote domain, trying its routes in order. */
public final class RemoteDelivery {
    private static final Logger LOG = System.getLogger(RemoteDelivery.class.getName());

    /**
     * The SMTP-style reply one recipient got; 2xx delivered, 4xx try later, 5xx refused.
     * {@code nextHopReports}: the next hop took the DSN request (RFC 3461 §5.2.2), so a success
     * notice is its to send; otherwise ours says "relayed".
     */
    public record Outcome(int position, int code, String reply, boolean nextHopReports) {
    }

    private final MailboxStore store;
    private final Router router;
    private final String hostname;
    private final SmtpTimeouts timeouts;

    public RemoteDelivery(MailboxStore store, Router router, String hostname) {
        this(store, router, hostname, SmtpTimeouts.rfc5321());
    }

    public RemoteDelivery(MailboxStore store, Router router, String hostname, SmtpTimeouts timeouts) {
        this.store = store;
        this.router = router;
        this.hostname = hostname;
        this.timeouts = timeouts;
    }

    public List<Outcome> deliver(QueuedMessage message, String domain, List<QueuedMessage.PendingRecipient> recipients) {
        List<Route> routes;
        try {
            routes = router.routes(domain);
        } catch (javax.naming.NameNotFoundException e) {
            // NXDOMAIN: the domain does not exist (a typo, most often); bounce now, as Postfix does, not in five days
            return all(recipients, 550, "550 5.1.2 " + domain + ": no such domain (DNS has no name " + domain + ")");
        } catch (NamingException e) {
            return all(recipients, 451, "451 4.4.3 cannot look up mail exchangers for " + domain + ": " + e.getMessage());
        }
        if (routes.isEmpty()) {
            return all(recipients, 556, "556 5.1.10 " + domain + " accepts no mail (null MX)");
        }
        String lastError = "no route";
        for (Route route : routes) {
            try (SmtpClient client = SmtpClient.connect(route, timeouts)) {
                return transaction(client, message, recipients, route);
            } catch (IOException e) {
                lastError = "451 4.4.1 " + route + ": " + e.getMessage();
                LOG.log(Level.INFO, "delivery attempt failed queue={0} route={1}: {2}", message.id(), route, e.getMessage());
            }
        }
        return all(recipients, 451, lastError);
    }

    private List<Outcome> transaction(SmtpClient client, QueuedMessage message,
                                      List<QueuedMessage.PendingRecipient> recipients, Route route) throws IOException {
        SmtpClient.Reply greeting = client.greeting();
        if (!greeting.ok()) {
            return all(recipients, greeting.code(), greeting.text());
        }
        SmtpClient.Reply hello = client.hello(hostname);
        if (!hello.ok()) {
            return all(recipients, hello.code(), hello.text());
        }
        boolean utf8Needed = message.envelope().smtpUtf8();
        if (utf8Needed && !client.has("SMTPUTF8")) {
            // RFC 6531 §3.2: a message that needs SMTPUTF8 cannot go to a server without it.
            return all(recipients, 553, "553 5.6.7 " + route + " does not support SMTPUTF8");
        }
        boolean eightBit = message.envelope().body8bit();
        boolean downgrading = eightBit && !client.has("8BITMIME");
        StringBuilder mail = new StringBuilder("MAIL FROM:<").append(message.envelope().returnPath()).append('>');
        if (client.has("SIZE")) {
            mail.append(" SIZE=").append(message.size());
        }
        if (eightBit && !downgrading) {
            mail.append(" BODY=8BITMIME");
        }
        if (utf8Needed) {
            mail.append(" SMTPUTF8");
        }
        boolean dsn = client.has("DSN");
        if (dsn) {
            message.envelope().ret().ifPresent(r -> mail.append(" RET=").append(r));
            message.envelope().envId().ifPresent(e -> mail.append(" ENVID=").append(e));
        }
        SmtpClient.Reply from = client.command(mail.toString());
        if (!from.ok()) {
            return all(recipients, from.code(), from.text());
        }
        Map<Integer, Outcome> outcomes = new LinkedHashMap<>();
        List<QueuedMessage.PendingRecipient> accepted = new ArrayList<>();
        for (QueuedMessage.PendingRecipient r : recipients) {
            StringBuilder rcpt = new StringBuilder("RCPT TO:<").append(r.recipient().address()).append('>');
            if (dsn) {
                r.recipient().dsnNotify().ifPresent(n -> rcpt.append(" NOTIFY=").append(n));
                r.recipient().orcpt().ifPresent(o -> rcpt.append(" ORCPT=").append(o));
            }
            SmtpClient.Reply reply = client.command(rcpt.toString());
            if (reply.ok()) {
                accepted.add(r);
            } else {
                outcomes.put(r.position(), new Outcome(r.position(), reply.code(), reply.text(), false));
            }
        }
        if (!accepted.isEmpty()) {
            SmtpClient.Reply end = downgrading ? sendDowngraded(client, message) : sendAsIs(client, message);
            for (QueuedMessage.PendingRecipient r : accepted) {
                outcomes.put(r.position(), new Outcome(r.position(), end.code(), end.text(), dsn));
            }
            LOG.log(Level.INFO, "relayed queue={0} route={1} reply={2} recipients={3}", message.id(), route, end.text(),
                    accepted.size());
        }
        List<Outcome> out = new ArrayList<>();
        for (QueuedMessage.PendingRecipient r : recipients) {
            out.add(outcomes.get(r.position()));
        }
        return out;
    }

    private SmtpClient.Reply sendAsIs(SmtpClient client, QueuedMessage message) throws IOException {
        try (InputStream content = withoutReturnPath(store.openContent(message.contentKey(), 0))) {
            return client.data(content);
        }
    }

    /** RFC 6152 §3: the next hop lacks 8BITMIME, so 8-bit parts go as quoted-printable or base64. */
    private SmtpClient.Reply sendDowngraded(SmtpClient client, QueuedMessage message) throws IOException {
        MessageSummary summary = MessageSummary.decode(store.facts(message.content()).summary());
        try (MessageSpool spool = store.spool()) {
            SevenBitDowngrade.write(offset -> store.openContent(message.contentKey(), offset), summary, message.size(), spool);
            MessageSpool.Spooled sevenBit = spool.finish();
            try (InputStream content = withoutReturnPath(sevenBit.open())) {
                return client.data(content);
            } finally {
                sevenBit.discard();
            }
        }
    }

    /** RFC 5321 §4.4: Return-Path is for final delivery; a relay does not send it on. */
    static InputStream withoutReturnPath(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 64 * 1024);
        in.mark(2048);
        byte[] head = in.readNBytes(12);
        if (!new String(head, StandardCharsets.US_ASCII).equalsIgnoreCase("Return-Path:")) {
            in.reset();
            return in;
        }
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                return in;
            }
        }
        return in;
    }

    private static List<Outcome> all(List<QueuedMessage.PendingRecipient> recipients, int code, String reply) {
        return recipients.stream().map(r -> new Outcome(r.position(), code, reply, false)).toList();
    }
}
