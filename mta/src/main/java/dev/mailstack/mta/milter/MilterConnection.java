package dev.mailstack.mta.milter;

import dev.mailstack.mta.milter.MilterReply.Decision;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One milter for one SMTP session: negotiated once, then asked step by step. It knows which steps
 * the milter skips and which it does not answer; whether to ask it at all is {@link MilterSession}'s call.
 */
final class MilterConnection implements AutoCloseable {
    private static final Decision CONTINUE = new MilterReply.Continue();

    final MilterAddress address;
    private final MilterChannel channel;
    private final MilterOptions options;
    private final Duration commandTimeout;
    /** Accepted the session (at CONNECT or HELO), or broke: asked nothing more. */
    boolean done;
    /** Accepted, discarded or refused the message under way: asked nothing more about it. */
    boolean messageDone;
    /** Has been sent MAIL and not yet ABORT. */
    boolean inMessage;
    /** What the milter asked for at the end of the message. */
    final List<MilterReply.HeaderChange> changes = new ArrayList<>();
    /** The envelope changes it asked for at the end of the message, in order. */
    final List<MilterReply.EnvelopeChange> envelopeChanges = new ArrayList<>();
    /** Octets of names and values in {@link #changes}, bounded like a header. */
    private int changedBytes;
    /** Header changes one milter may ask for in one message. */
    static final int MAX_HEADER_CHANGES = 1000;
    /** How many timeouts of a step SMFIR_PROGRESS replies may stretch it to. */
    static final int MAX_PROGRESS = 10;
    Optional<String> quarantine = Optional.empty();

    private MilterConnection(MilterAddress address, MilterChannel channel, MilterOptions options, Duration commandTimeout) {
        this.address = address;
        this.channel = channel;
        this.options = options;
        this.commandTimeout = commandTimeout;
    }

    /** Connects and negotiates (SMFIC_OPTNEG), both within the connect timeout. */
    static MilterConnection open(MilterAddress address, MilterSettings settings) throws IOException {
        MilterChannel channel = MilterChannel.open(address, settings.connectTimeout());
        try {
            channel.send(MilterPacket.optionNegotiation(MilterOptions.OFFER), settings.connectTimeout());
            MilterReply reply = MilterReply.parse(channel.receive(settings.connectTimeout()));
            if (!(reply instanceof MilterReply.Negotiate n)) {
                throw new MilterProtocolException("expected option negotiation, got " + reply);
            }
            MilterOptions theirs = n.options();
            if (theirs.version() < 2 || theirs.version() > MilterOptions.VERSION) {
                throw new MilterProtocolException("unsupported milter protocol version " + theirs.version());
            }
            // libmilter answers with a subset of our offer; whatever else is asked for is not given
            int protocol = theirs.protocol() & MilterOptions.OFFER.protocol();
            if (theirs.version() < 4) {
                protocol |= MilterOptions.NODATA; // SMFIC_DATA came with version 4
            }
            MilterOptions agreed = new MilterOptions(theirs.version(), theirs.actions() & MilterOptions.OFFER.actions(),
                    protocol);
            return new MilterConnection(address, channel, agreed, settings.commandTimeout());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    MilterOptions options() {
        return options;
    }

    /**
     * One step: the macros for it, then the command, unless the milter skips the step
     * ({@code skipFlag}); its decision, or Continue when it skips the step or does not answer it
     * ({@code noReplyFlag}, 0 for steps that are always answered).
     */
    Decision ask(int skipFlag, int noReplyFlag, Map<String, String> macros, MilterPacket command, Duration timeout)
            throws IOException {
        if (skipFlag != 0 && options.has(skipFlag)) {
            return CONTINUE;
        }
        if (!macros.isEmpty()) {
            channel.send(MilterPacket.macros(command.code(), macros), timeout);
        }
        channel.send(command, timeout);
        if (noReplyFlag != 0 && options.has(noReplyFlag)) {
            return CONTINUE;
        }
        return decision(timeout);
    }

    /** A body chunk: its decision, or empty when the milter asks to skip the rest of the body. */
    Optional<Decision> body(MilterPacket chunk, Duration timeout) throws IOException {
        channel.send(chunk, timeout);
        if (options.has(MilterOptions.NR_BODY)) {
            return Optional.of(CONTINUE);
        }
        MilterReply r = next(timeout);
        if (r instanceof MilterReply.Skip && options.has(MilterOptions.SKIP)) {
            return Optional.empty();
        }
        return Optional.of(asDecision(r));
    }

    /**
     * End of the message (SMFIC_BODYEOB): header and envelope changes and a quarantine, each only
     * if it was negotiated, until the decision.
     */
    Decision endOfMessage(Map<String, String> macros, Duration timeout, EnvelopeRules rules) throws IOException {
        if (!macros.isEmpty()) {
            channel.send(MilterPacket.macros(MilterPacket.BODYEOB, macros), timeout);
        }
        channel.send(MilterPacket.endOfBody(), timeout);
        int recipientChanges = 0;
        // the whole exchange gets what one step may stretch to: modifications, unlike progress
        // replies, would otherwise restart the timeout for ever
        long deadline = System.nanoTime() + timeout.multipliedBy(MAX_PROGRESS).toNanos();
        while (true) {
            MilterReply r = next(timeout);
            if (!(r instanceof Decision) && System.nanoTime() - deadline > 0) {
                throw new MilterProtocolException("still changing the message after " + MAX_PROGRESS + " timeouts");
            }
            switch (r) {
                case MilterReply.HeaderChange c -> {
                    int needed = c instanceof MilterReply.ChangeHeader ? MilterOptions.CHGHDRS : MilterOptions.ADDHDRS;
                    if (!options.may(needed)) {
                        throw new MilterProtocolException("header change not negotiated: " + c);
                    }
                    changedBytes += c.name().length() + c.value().length();
                    if (changedBytes > MilterSession.MAX_HEADER_BYTES) {
                        throw new MilterProtocolException("header changes past " + MilterSession.MAX_HEADER_BYTES + " octets");
                    }
                    if (changes.size() >= MAX_HEADER_CHANGES) {
                        // each costs a pass over the header when applied (EditedHeader)
                        throw new MilterProtocolException("more than " + MAX_HEADER_CHANGES + " header changes");
                    }
                    changes.add(leadingSpace(c));
                }
                case MilterReply.EnvelopeChange c -> {
                    int needed = switch (c) {
                        case MilterReply.AddRecipient a -> a.withArguments() ? MilterOptions.ADDRCPT_PAR : MilterOptions.ADDRCPT;
                        case MilterReply.DeleteRecipient x -> MilterOptions.DELRCPT;
                        case MilterReply.ChangeSender x -> MilterOptions.CHGFROM;
                    };
                    if (!options.may(needed)) {
                        throw new MilterProtocolException("envelope change not negotiated: " + c);
                    }
                    boolean nullSender = c instanceof MilterReply.ChangeSender && c.address().isEmpty();
                    if (!nullSender && !rules.validAddress().test(c.address())) {
                        throw new MilterProtocolException("not a valid address: <"
                                + c.address().replaceAll("[^\\x20-\\x7e]", "?") + ">");
                    }
                    if (!(c instanceof MilterReply.ChangeSender) && ++recipientChanges > rules.maxRecipientChanges()) {
                        throw new MilterProtocolException("more than " + rules.maxRecipientChanges() + " recipients added or removed");
                    }
                    if (c instanceof MilterReply.ChangeSender) {
                        // the last one is the sender, as in Postfix; earlier ones need not be kept
                        envelopeChanges.removeIf(e -> e instanceof MilterReply.ChangeSender);
                    }
                    envelopeChanges.add(c);
                }
                case MilterReply.Quarantine q -> {
                    if (!options.may(MilterOptions.QUARANTINE)) {
                        throw new MilterProtocolException("quarantine not negotiated");
                    }
                    quarantine = Optional.of(q.reason());
                }
                default -> {
                    return asDecision(r);
                }
            }
        }
    }

    /**
     * The value as it follows the colon: libmilter's values come without the space after it
     * unless SMFIP_HDR_LEADSPC was agreed.
     */
    private MilterReply.HeaderChange leadingSpace(MilterReply.HeaderChange c) {
        if (options.has(MilterOptions.HDR_LEADSPC)) {
            return c;
        }
        return switch (c) {
            case MilterReply.AddHeader a -> new MilterReply.AddHeader(a.name(), " " + a.value());
            case MilterReply.InsertHeader i -> new MilterReply.InsertHeader(i.index(), i.name(), " " + i.value());
            case MilterReply.ChangeHeader m -> new MilterReply.ChangeHeader(m.index(), m.name(),
                    m.value().isEmpty() ? "" : " " + m.value());
        };
    }

    /** SMFIC_ABORT: the message is over (RSET, or after its end); not answered. */
    void abort() throws IOException {
        inMessage = false;
        messageDone = false;
        forgetChanges();
        channel.send(MilterPacket.abort(), commandTimeout);
    }

    /** SMFIC_QUIT, then the connection is closed; a milter that is gone by then changes nothing. */
    void quit() {
        try {
            channel.send(MilterPacket.quit(), commandTimeout);
        } catch (IOException e) {
            // closing anyway
        } finally {
            channel.close();
        }
    }

    /** Recipients it added or removed in this message. */
    int recipientChanges() {
        return (int) envelopeChanges.stream().filter(c -> !(c instanceof MilterReply.ChangeSender)).count();
    }

    /** This message's header and envelope changes and quarantine, which a new message or a failure drops. */
    void forgetChanges() {
        changes.clear();
        changedBytes = 0;
        envelopeChanges.clear();
        quarantine = Optional.empty();
    }

    /**
     * The next reply that is not SMFIR_PROGRESS, which restarts the timeout, up to
     * {@link #MAX_PROGRESS} timeouts in all: a milter cannot hold the session for ever.
     */
    private MilterReply next(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.multipliedBy(MAX_PROGRESS).toNanos();
        while (true) {
            MilterReply r = MilterReply.parse(channel.receive(timeout));
            if (!(r instanceof MilterReply.Progress)) {
                return r;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new MilterProtocolException("still asking for more time after " + MAX_PROGRESS + " timeouts");
            }
        }
    }

    private Decision decision(Duration timeout) throws IOException {
        return asDecision(next(timeout));
    }

    private static Decision asDecision(MilterReply r) throws MilterProtocolException {
        if (r instanceof Decision d) {
            return d;
        }
        throw new MilterProtocolException("reply " + r + " out of place");
    }

    @Override
    public void close() {
        channel.close();
    }
}
