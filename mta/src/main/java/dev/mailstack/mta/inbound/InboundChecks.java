package dev.mailstack.mta.inbound;

import dev.mailstack.mta.dkim.DkimResult;
import dev.mailstack.mta.dkim.DkimVerifier;
import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.net.Cidr;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * SPF, DKIM and DMARC for mail that arrives from outside on the MX port, and what follows from
 * them, as Postfix with policyd-spf, OpenDKIM and OpenDMARC does it: an SPF fail is refused at
 * RCPT, a DMARC fail under p=reject after DATA, one under p=quarantine goes to the Junk
 * mailbox; every accepted message gets an Authentication-Results field (RFC 8601) saying what
 * was found. Clients in {@code skip} (loopback by default, as policyd-spf's skip_addresses) are
 * not checked: a telnet session on the server itself has no SPF record to pass.
 */
public final class InboundChecks {
    private static final System.Logger LOG = System.getLogger(InboundChecks.class.getName());
    /** All the checks of one message take at most this long by default; a client waits for the reply to DATA meanwhile. */
    public static final Duration BUDGET = Duration.ofSeconds(30);
    public static final InboundChecks OFF = new InboundChecks(null, false, false, List.of(), "");

    private final DnsLookup dns;
    private final boolean spfReject;
    private final boolean dmarcEnforce;
    private final List<Cidr> skip;
    private final String authservId;
    private final Duration budget;

    /**
     * @param dns          null turns every check off
     * @param spfReject    refuse mail whose SPF result is fail (550 5.7.23 at RCPT)
     * @param dmarcEnforce follow the author domain's DMARC policy for failing mail (reject, quarantine)
     * @param skip         clients not checked
     * @param authservId   this server's name in the Authentication-Results field (smtp.hostname)
     */
    public InboundChecks(DnsLookup dns, boolean spfReject, boolean dmarcEnforce, List<Cidr> skip, String authservId) {
        this(dns, spfReject, dmarcEnforce, skip, authservId, BUDGET);
    }

    /** {@code budget}: how long all the checks of one message may take (tests shorten it). */
    public InboundChecks(DnsLookup dns, boolean spfReject, boolean dmarcEnforce, List<Cidr> skip, String authservId,
                         Duration budget) {
        this.budget = budget;
        this.dns = dns;
        this.spfReject = spfReject;
        this.dmarcEnforce = dmarcEnforce;
        this.skip = List.copyOf(skip);
        this.authservId = authservId;
    }

    /** What to do with a message, and the Authentication-Results field to put at its top. */
    public sealed interface Verdict {
        String field();

        record Deliver(String field) implements Verdict {
        }

        /** DMARC p=quarantine: accepted, for the recipients' Junk mailboxes. */
        record Junk(String field) implements Verdict {
        }

        /**
         * Refused before 250, so nothing is accepted that will not be delivered: DMARC p=reject, or
         * a message whose author cannot be checked: the reply's code, enhanced code (RFC 3463) and text.
         */
        record Refuse(String field, int code, String status, String text) implements Verdict {
            /** Refused by the author domain's DMARC policy (RFC 7372's X.7.26), not for an author that cannot be checked. */
            public boolean byPolicy() {
                return status.equals("5.7.26");
            }
        }
    }

    public boolean appliesTo(InetAddress client) {
        return dns != null && skip.stream().noneMatch(c -> c.contains(client));
    }

    /** RFC 7208 §2.4: MAIL FROM's domain, or for the null sender the HELO name's. */
    public SpfResult spf(InetAddress client, String helo, String mailFrom) {
        try {
            return new SpfCheck(dns, authservId, SpfCheck.BUDGET).check(client, helo, mailFrom);
        } catch (RuntimeException e) {
            // a fault of ours must not end the client's session: as if DNS had not answered (RFC 7208 §2.6.6)
            LOG.log(System.Logger.Level.WARNING, "spf check failed for <" + mailFrom + ">: " + e);
            int at = mailFrom.lastIndexOf('@');
            return new SpfResult(SpfResult.Kind.TEMPERROR, at < 0 ? helo : mailFrom.substring(at + 1), "internal error");
        }
    }

    /** Whether this SPF result refuses the mail (only fail does: softfail and errors are marked, not refused). */
    public boolean refuses(SpfResult spf) {
        return spfReject && spf.kind() == SpfResult.Kind.FAIL;
    }

    /** Whether an SPF fail refuses mail at all (smtp.spf_reject): the HELO check is asked only then. */
    public boolean refusesFails() {
        return spfReject;
    }

    /**
     * DKIM and DMARC over the spooled message, with the transaction's SPF result, all within the
     * budget. Past it the author domain's policy still decides: a sender whose DNS never answers
     * must not get mail past p=reject by running out our time.
     */
    public Verdict verdict(InputStream message, SpfResult spf, boolean nullSender, String helo) throws IOException {
        // a field of its own for each path: a check past the budget may still be writing to its own
        Supplier<AuthenticationResults> withSpf = () -> new AuthenticationResults(authservId).add("spf",
                spf.kind().keyword(), spf.kind() == SpfResult.Kind.PASS ? "" : spf.explanation(),
                nullSender ? "smtp.helo" : "smtp.mailfrom", nullSender ? helo : spf.domain());
        AuthenticationResults results = withSpf.get();
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        List<String> fields;
        try {
            fields = HeaderFields.read(in, DkimVerifier.MAX_HEADER_BYTES);
        } catch (HeaderFields.TooLong e) {
            // no one signs or reads such a header, and its From could hide past what we read
            return new Verdict.Refuse(results.field(), 552, "5.3.4", "Message header too large (" + e.getMessage() + ")");
        }
        AuthorDomains authors = AuthorDomains.of(fields);
        if (authors instanceof AuthorDomains.Unusable u && dmarcEnforce) {
            // RFC 7489 §6.6.1: a From that names no one domain cannot be held to a policy, and what
            // readers show may be the part no check looked at; no DNS needed to say so
            results.add("dmarc", "permerror", u.why());
            return new Verdict.Refuse(results.field(), 550, "5.7.1",
                    "Messages need one From field with valid addresses (RFC 5322 section 3.6.2): " + u.why());
        }
        ExecutorService thread = Executors.newVirtualThreadPerTaskExecutor();
        try {
            return thread.submit(() -> verdict(fields, in, spf, authors, results)).get(budget.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return pastBudget(authors, withSpf.get(), thread);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while checking the message");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("checking the message failed", e.getCause());
        } finally {
            thread.shutdownNow(); // a lookup past the budget is not waited for
        }
    }

    /**
     * The author domains' policies alone, asked anew within a third of the budget: under p=reject
     * the client is asked to try again later (451), under p=quarantine the mail goes to Junk.
     */
    private Verdict pastBudget(AuthorDomains authors, AuthenticationResults results, ExecutorService thread) {
        String why = "no answer within " + budget.toMillis() / 1000.0 + " s";
        String field = results.add("dkim", "temperror", why).add("dmarc", "temperror", why).field();
        if (!dmarcEnforce || !(authors instanceof AuthorDomains.Found found)) {
            return new Verdict.Deliver(field);
        }
        DmarcResult.Policy strictest = DmarcResult.Policy.NONE;
        try {
            strictest = thread.submit(() -> {
                DmarcCheck check = new DmarcCheck(dns);
                DmarcResult.Policy worst = DmarcResult.Policy.NONE;
                for (String domain : found.domains()) {
                    DmarcResult.Policy p = check.policy(domain);
                    worst = p.compareTo(worst) > 0 ? p : worst;
                }
                return worst;
            }).get(budget.toMillis() / 3, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return new Verdict.Deliver(field); // the author domain's own DNS does not answer: its policy is unknown
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return switch (strictest) {
            case REJECT -> new Verdict.Refuse(field, 451, "4.4.3", "Could not check who sent this in time (DNS did not answer);"
                    + " try again later");
            case QUARANTINE -> new Verdict.Junk(field);
            case NONE -> new Verdict.Deliver(field);
        };
    }

    private Verdict verdict(List<String> fields, InputStream in, SpfResult spf, AuthorDomains authors,
                            AuthenticationResults results) throws IOException {
        List<DkimResult> dkim = new DkimVerifier(dns).verify(fields, in);
        if (dkim.isEmpty()) {
            results.add("dkim", "none", "");
        }
        List<String> dkimPasses = new ArrayList<>();
        for (DkimResult r : dkim) {
            results.add("dkim", r.kind().keyword(), r.reason(), "header.d", r.domain(), "header.s", r.selector(),
                    "header.b", r.bPrefix());
            if (r.passed()) {
                dkimPasses.add(r.domain());
            }
        }
        Optional<String> spfPass = spf.kind() == SpfResult.Kind.PASS
                ? Optional.ofNullable(AuthorDomains.dnsName(spf.domain())) : Optional.empty();
        switch (authors) {
            case AuthorDomains.Unusable u -> {
                return new Verdict.Deliver(results.add("dmarc", "permerror", u.why()).field()); // not enforced: noted
            }
            case AuthorDomains.Found found -> {
                DmarcCheck check = new DmarcCheck(dns);
                DmarcResult strictest = null;
                for (String domain : found.domains()) {
                    DmarcResult dmarc = check.evaluate(domain, spfPass, dkimPasses);
                    results.add("dmarc", dmarc.kind().keyword(), dmarc.reason(), "header.from", domain);
                    if (dmarc.kind() == DmarcResult.Kind.FAIL
                            && (strictest == null || dmarc.policy().compareTo(strictest.policy()) > 0)) {
                        strictest = dmarc;
                    }
                }
                if (dmarcEnforce && strictest != null && strictest.policy() == DmarcResult.Policy.REJECT) {
                    return new Verdict.Refuse(results.field(), 550, "5.7.26", "Unauthenticated mail from " + strictest.fromDomain()
                            + " is refused by its DMARC policy (p=reject): neither SPF nor DKIM passed for it");
                }
                if (dmarcEnforce && strictest != null && strictest.policy() == DmarcResult.Policy.QUARANTINE) {
                    return new Verdict.Junk(results.field());
                }
                return new Verdict.Deliver(results.field());
            }
        }
    }
}
