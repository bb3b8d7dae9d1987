package dev.mailstack.mta.milter;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.milter.MilterReply.Decision;
import dev.mailstack.store.MessageSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The milters of one SMTP session, in order, as Postfix's smtpd_milters: each is connected when
 * the session starts and asked at CONNECT, HELO, MAIL, RCPT, DATA and, once the message is in,
 * about its header fields, body and end. The first refusal wins; a milter that accepts is not
 * asked again about the message (or, at CONNECT and HELO, the session). A milter that cannot be
 * reached, is too slow or breaks the protocol counts as milter_default_action says, and is not
 * asked again in this session.
 */
public final class MilterSession implements AutoCloseable {
    private static final Logger LOG = System.getLogger(MilterSession.class.getName());
    /** Header bytes given to milters: mime.max_header_bytes' default; a larger header is refused. */
    public static final int MAX_HEADER_BYTES = 1024 * 1024;

    /** Who the SMTP client is, for CONNECT and its macros. */
    public record Client(String sessionId, String ourHostname, String daemonName, InetAddress address, int port) {
    }

    private interface Ask {
        Decision ask(MilterConnection m) throws IOException;
    }

    private final MilterSettings settings;
    private final Client client;
    private final List<MilterConnection> milters = new ArrayList<>();
    /**
     * A refusal at CONNECT, or a failed milter with a default action that refuses: every later
     * MAIL, RCPT, DATA and end of data gets it, as Postfix's milter_default_action refuses the
     * session's further commands; a message the milter never saw must not pass.
     */
    private MilterVerdict.Refuse sessionRefusal;
    /** A milter discarded the message under way at MAIL or RCPT. */
    private String discardedBy;
    private String messageId = "";

    private MilterSession(MilterSettings settings, Client client) {
        this.settings = settings;
        this.client = client;
    }

    /** Connects to every milter and runs CONNECT; the result is kept for the first MAIL. */
    public static MilterSession open(MilterSettings settings, Client client) {
        MilterSession s = new MilterSession(settings, client);
        for (MilterAddress a : settings.milters()) {
            try {
                s.milters.add(MilterConnection.open(a, settings));
            } catch (IOException | RuntimeException e) {
                s.failed(null, a, "connect", e);
            }
        }
        if (s.milters.isEmpty()) {
            return s;
        }
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("j", client.ourHostname());
        macros.put("_", "unknown [" + client.address().getHostAddress() + "]");
        macros.put("{daemon_name}", client.daemonName());
        macros.put("{client_addr}", client.address().getHostAddress());
        macros.put("{client_name}", "unknown");
        macros.put("{client_port}", String.valueOf(client.port()));
        macros.put("v", "mailstack");
        MilterPacket connect = MilterPacket.connect("[" + client.address().getHostAddress() + "]", client.address(),
                client.port());
        MilterVerdict v = s.each("connect", true, m -> m.ask(MilterOptions.NOCONNECT, MilterOptions.NR_CONN, macros,
                connect, settings.commandTimeout()));
        if (v instanceof MilterVerdict.Refuse r) {
            s.sessionRefusal = r;
        }
        return s;
    }

    public boolean on() {
        return !milters.isEmpty() || sessionRefusal != null;
    }

    public MilterVerdict helo(String helo) {
        return each("helo", true, m -> m.ask(MilterOptions.NOHELO, MilterOptions.NR_HELO, Map.of(),
                MilterPacket.helo(helo), settings.commandTimeout()));
    }

    /**
     * MAIL FROM: {@code id} is the message's id for the "i" macro (our queue id comes only after
     * the end of data); {@code params} are the ESMTP parameters as the client gave them.
     */
    public MilterVerdict mail(String from, List<String> params, Optional<String> login, String id) {
        abort();
        if (sessionRefusal != null) {
            return sessionRefusal;
        }
        messageId = id;
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("i", id);
        login.ifPresent(user -> {
            macros.put("{auth_type}", "PLAIN");
            macros.put("{auth_authen}", user);
        });
        macros.put("{mail_addr}", from);
        List<String> args = new ArrayList<>();
        args.add("<" + from + ">");
        args.addAll(params);
        for (MilterConnection m : milters) {
            m.inMessage = !m.done;
        }
        MilterVerdict v = each("mail", false, m -> m.ask(MilterOptions.NOMAIL, MilterOptions.NR_MAIL, macros,
                MilterPacket.mail(args), settings.commandTimeout()));
        if (!(v instanceof MilterVerdict.Pass)) {
            abort(); // the transaction does not start: the milters forget it too
        }
        return v;
    }

    public MilterVerdict rcpt(String to, List<String> params) {
        if (sessionRefusal != null) {
            return sessionRefusal; // a milter failed earlier in this transaction: nothing more gets past it unseen
        }
        Map<String, String> macros = new LinkedHashMap<>();
        macros.put("i", messageId);
        macros.put("{rcpt_addr}", to);
        List<String> args = new ArrayList<>();
        args.add("<" + to + ">");
        args.addAll(params);
        return each("rcpt", false, m -> m.ask(MilterOptions.NORCPT, MilterOptions.NR_RCPT, macros,
                MilterPacket.rcpt(args), settings.commandTimeout()));
    }

    /** The DATA command (or the first BDAT), before the content: SMFIC_DATA. */
    public MilterVerdict data() {
        if (sessionRefusal != null) {
            return sessionRefusal;
        }
        return each("data", false, m -> m.ask(MilterOptions.NODATA, MilterOptions.NR_DATA, Map.of("i", messageId),
                MilterPacket.dataCommand(), settings.commandTimeout()));
    }

    /**
     * The message as it will be queued (a leading Return-Path is not shown): header fields one
     * by one (folding kept, as LF, as sendmail and Postfix send them), end of header, the body in
     * chunks, end of message.
     */
    public MilterVerdict.OfMessage endOfMessage(MessageSource message, EnvelopeRules rules) {
        if (sessionRefusal != null) {
            return MilterVerdict.OfMessage.only(sessionRefusal);
        }
        if (discardedBy != null) {
            return MilterVerdict.OfMessage.only(new MilterVerdict.Discard(discardedBy));
        }
        MilterVerdict v = each("content", false, m -> content(m, message, rules));
        if (v instanceof MilterVerdict.Discard) {
            return MilterVerdict.OfMessage.only(v);
        }
        if (discardedBy != null) {
            return MilterVerdict.OfMessage.only(new MilterVerdict.Discard(discardedBy));
        }
        List<MilterReply.HeaderChange> changes = new ArrayList<>();
        List<MilterReply.EnvelopeChange> envelope = new ArrayList<>();
        Optional<String> quarantine = Optional.empty();
        if (v instanceof MilterVerdict.Pass) {
            for (MilterConnection m : milters) {
                if (m.done) {
                    continue; // failed, or accepted the session before this message
                }
                changes.addAll(m.changes);
                envelope.addAll(m.envelopeChanges);
                for (MilterReply.EnvelopeChange c : m.envelopeChanges) {
                    logChange(m.address, c);
                }
                if (m.quarantine.isPresent()) {
                    quarantine = m.quarantine;
                    LOG.log(Level.INFO, "milter conn={0} stage=end action=quarantine milter={1} reason=\"{2}\"",
                            client.sessionId(), m.address, printable(m.quarantine.get()));
                }
            }
        }
        return new MilterVerdict.OfMessage(v, changes, envelope, quarantine);
    }

    private void logChange(MilterAddress milter, MilterReply.EnvelopeChange change) {
        String address = "<" + change.address() + ">";
        String[] what = switch (change) {
            case MilterReply.AddRecipient a -> new String[] {"addrcpt", "rcpt=" + address
                    + a.dsnNotify().map(n -> " notify=" + n).orElse("") + a.orcpt().map(o -> " orcpt=" + o).orElse("")};
            case MilterReply.DeleteRecipient d -> new String[] {"delrcpt", "rcpt=" + address};
            case MilterReply.ChangeSender c -> new String[] {"chgfrom", "from=" + address
                    + c.ret().map(r -> " ret=" + r).orElse("") + c.envId().map(e -> " envid=" + e).orElse("")};
        };
        LOG.log(Level.INFO, "milter conn={0} stage=end action={1} milter={2} {3}", client.sessionId(), what[0], milter,
                printable(what[1]));
    }

    private Decision content(MilterConnection m, MessageSource message, EnvelopeRules rules) throws IOException {
        Duration t = settings.contentTimeout();
        MilterOptions o = m.options();
        try (InputStream raw = message.open()) {
            BufferedInputStream in = new BufferedInputStream(raw, 64 * 1024);
            List<String> fields = HeaderFields.read(in, MAX_HEADER_BYTES);
            boolean first = true;
            for (String f : fields) {
                boolean returnPath = first && HeaderFields.name(f).equals("return-path");
                first = false;
                if (returnPath) {
                    continue;
                }
                int colon = f.indexOf(':');
                String value = f.substring(colon + 1).replace("\r\n", "\n");
                if (!o.has(MilterOptions.HDR_LEADSPC)) {
                    value = value.stripLeading();
                }
                Decision d = m.ask(MilterOptions.NOHDRS, MilterOptions.NR_HDR, Map.of(),
                        MilterPacket.header(f.substring(0, colon).strip(), value), t);
                if (!(d instanceof MilterReply.Continue)) {
                    return d;
                }
            }
            Decision d = m.ask(MilterOptions.NOEOH, MilterOptions.NR_EOH, Map.of("i", messageId), MilterPacket.endOfHeader(), t);
            if (!(d instanceof MilterReply.Continue)) {
                return d;
            }
            if (!o.has(MilterOptions.NOBODY)) {
                byte[] chunk = new byte[MilterPacket.BODY_CHUNK];
                for (int n; (n = in.readNBytes(chunk, 0, chunk.length)) > 0; ) {
                    Optional<Decision> b = m.body(MilterPacket.body(chunk, 0, n), t);
                    if (b.isEmpty()) {
                        break; // SMFIR_SKIP
                    }
                    if (!(b.get() instanceof MilterReply.Continue)) {
                        return b.get();
                    }
                }
            }
        }
        // the recipient changes of all milters together are bounded: those before this one count
        int before = milters.stream().takeWhile(other -> other != m).filter(other -> !other.done)
                .mapToInt(MilterConnection::recipientChanges).sum();
        return m.endOfMessage(Map.of("i", messageId), t,
                new EnvelopeRules(rules.validAddress(), rules.maxRecipientChanges() - before));
    }

    /**
     * SMFIC_ABORT to every milter in a message: RSET, a new MAIL, a refusal, and after each
     * message's end. A milter that cannot take it is failed.
     */
    public void abort() {
        discardedBy = null;
        for (MilterConnection m : milters) {
            if (m.inMessage && !m.done) {
                try {
                    m.abort();
                } catch (IOException e) {
                    failed(m, m.address, "abort", e);
                }
            }
            m.inMessage = false;
            m.messageDone = false;
        }
    }

    /** Asks each milter still in the game in turn; the first refusal (or discard at the end) ends the round. */
    private MilterVerdict each(String stage, boolean sessionLevel, Ask ask) {
        for (MilterConnection m : milters) {
            if (m.done || (!sessionLevel && m.messageDone)) {
                continue;
            }
            Decision d;
            try {
                d = ask.ask(m);
            } catch (IOException | RuntimeException e) {
                MilterVerdict v = failed(m, m.address, stage, e);
                if (v instanceof MilterVerdict.Refuse) {
                    return v;
                }
                continue;
            }
            switch (d) {
                case MilterReply.Continue c -> { }
                case MilterReply.Accept a -> {
                    if (sessionLevel) {
                        m.done = true;
                        m.quit();
                    } else {
                        m.messageDone = true;
                    }
                }
                case MilterReply.Discard x -> {
                    log(stage, "discard", m.address, "");
                    if (stage.equals("content")) {
                        return new MilterVerdict.Discard(m.address.toString());
                    }
                    discardedBy = m.address.toString(); // before DATA: the message is taken and then dropped
                    m.messageDone = true;
                }
                case MilterReply.Refuse r -> {
                    log(stage, r.temporary() ? "tempfail" : "reject", m.address, r.code() + " " + r.enhanced() + " " + r.text());
                    return new MilterVerdict.Refuse(r.code(), r.enhanced(), r.text(), m.address.toString());
                }
            }
        }
        return new MilterVerdict.Pass();
    }

    /** A milter that failed: closed, never asked again; the default action says what it amounts to. */
    private MilterVerdict failed(MilterConnection m, MilterAddress address, String stage, Exception e) {
        if (m != null) {
            m.done = true;
            m.forgetChanges(); // what it sent before failing is not applied, to this message or a later one
            m.close();
        }
        String action = settings.defaultAction().name().toLowerCase(java.util.Locale.ROOT);
        LOG.log(Level.WARNING, "milter failed conn={0} stage={1} action={2} milter={3} error=\"{4}\"",
                client.sessionId(), stage, action, address, printable(String.valueOf(e.getMessage())));
        MilterVerdict.Refuse r = switch (settings.defaultAction()) {
            case ACCEPT -> null;
            case TEMPFAIL -> MilterVerdict.Refuse.tempfail(address.toString());
            case REJECT -> MilterVerdict.Refuse.reject(address.toString());
        };
        if (r == null) {
            return new MilterVerdict.Pass();
        }
        if (sessionRefusal == null) {
            sessionRefusal = r;
        }
        return r;
    }

    private void log(String stage, String action, MilterAddress milter, String reply) {
        LOG.log(Level.INFO, "milter conn={0} stage={1} action={2} milter={3}{4}", client.sessionId(), stage, action,
                milter, reply.isEmpty() ? "" : " reply=\"" + printable(reply) + "\"");
    }

    private static String printable(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** SMFIC_QUIT to each milter still connected. */
    @Override
    public void close() {
        for (MilterConnection m : milters) {
            if (!m.done) {
                m.done = true;
                m.quit();
            }
        }
    }
}
