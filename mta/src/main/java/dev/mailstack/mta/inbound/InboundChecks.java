package dev.mailstack.mta.inbound;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mta.dkim.DkimResult;
import dev.mailstack.mta.dkim.DkimVerifier;
import dev.mailstack.mta.dkim.HeaderFields;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.net.Cidr;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.IDN;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * SPF, DKIM and DMARC for mail that arrives from outside on the MX port, and what follows from
 * them, as Postfix with policyd-spf, OpenDKIM and OpenDMARC does it: an SPF fail is refused at
 * RCPT, a DMARC fail under p=reject after DATA, one under p=quarantine goes to the Junk
 * mailbox; every accepted message gets an Authentication-Results field (RFC 8601) saying what
 * was found. Clients in {@code skip} (loopback by default, as policyd-spf's skip_addresses) are
 * not checked: a telnet session on the server itself has no SPF record to pass.
 */
public final class InboundChecks {
    public static final InboundChecks OFF = new InboundChecks(null, false, false, List.of(), "");

    private final DnsLookup dns;
    private final boolean spfReject;
    private final boolean dmarcEnforce;
    private final List<Cidr> skip;
    private final String authservId;

    /**
     * @param dns          null turns every check off
     * @param spfReject    refuse mail whose SPF result is fail (550 5.7.23 at RCPT)
     * @param dmarcEnforce follow the author domain's DMARC policy for failing mail (reject, quarantine)
     * @param skip         clients not checked
     * @param authservId   this server's name in the Authentication-Results field (smtp.hostname)
     */
    public InboundChecks(DnsLookup dns, boolean spfReject, boolean dmarcEnforce, List<Cidr> skip, String authservId) {
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
        record Junk(String field, DmarcResult dmarc) implements Verdict {
        }

        /** DMARC p=reject: refused before 250, so nothing is accepted that will not be delivered. */
        record Refuse(String field, DmarcResult dmarc) implements Verdict {
        }
    }

    public boolean appliesTo(InetAddress client) {
        return dns != null && skip.stream().noneMatch(c -> c.contains(client));
    }

    public String authservId() {
        return authservId;
    }

    /** RFC 7208 §2.4: MAIL FROM's domain, or for the null sender the HELO name's. */
    public SpfResult spf(InetAddress client, String helo, String mailFrom) {
        return new SpfCheck(dns, authservId, SpfCheck.BUDGET).check(client, helo, mailFrom);
    }

    /** Whether this SPF result refuses the mail (only fail does: softfail and errors are marked, not refused). */
    public boolean refuses(SpfResult spf) {
        return spfReject && spf.kind() == SpfResult.Kind.FAIL;
    }

    /** DKIM and DMARC over the spooled message, with the transaction's SPF result. */
    public Verdict verdict(InputStream message, SpfResult spf, boolean nullSender, String helo) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        AuthenticationResults results = new AuthenticationResults(authservId);
        results.add("spf", spf.kind().keyword(), spf.kind() == SpfResult.Kind.PASS ? "" : spf.explanation(),
                nullSender ? "smtp.helo" : "smtp.mailfrom", nullSender ? helo : spf.domain());
        List<String> fields;
        try {
            fields = HeaderFields.read(in, DkimVerifier.MAX_HEADER_BYTES);
        } catch (HeaderFields.TooLong e) {
            // not a header anyone signs or reads: nothing to check, and nothing to refuse on
            return new Verdict.Deliver(results.add("dkim", "permerror", e.getMessage()).add("dmarc", "permerror", e.getMessage()).field());
        }
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
        Optional<String> author = authorDomain(fields);
        DmarcResult dmarc = author.isEmpty()
                ? new DmarcResult(DmarcResult.Kind.PERMERROR, "", DmarcResult.Policy.NONE, "not exactly one From domain")
                : new DmarcCheck(dns).evaluate(author.get(),
                        spf.kind() == SpfResult.Kind.PASS ? Optional.of(spf.domain()) : Optional.empty(), dkimPasses);
        results.add("dmarc", dmarc.kind().keyword(), dmarc.reason(), "header.from", author.orElse(""));
        String field = results.field();
        if (dmarcEnforce && dmarc.kind() == DmarcResult.Kind.FAIL) {
            switch (dmarc.policy()) {
                case REJECT -> {
                    return new Verdict.Refuse(field, dmarc);
                }
                case QUARANTINE -> {
                    return new Verdict.Junk(field, dmarc);
                }
                case NONE -> {
                }
            }
        }
        return new Verdict.Deliver(field);
    }

    /**
     * RFC 7489 §6.6.1: the domain of the one From field's address(es), lower case, in A-labels as
     * DNS and d= write it; none when there is no From, more than one, or addresses of different domains.
     */
    static Optional<String> authorDomain(List<String> fields) {
        List<String> from = fields.stream().filter(f -> HeaderFields.name(f).equals("from")).toList();
        if (from.size() != 1) {
            return Optional.empty();
        }
        String value = from.getFirst().substring(from.getFirst().indexOf(':') + 1).replace("\r\n", "");
        String domain = null;
        for (AddressList.Address a : AddressList.parse(value)) {
            if (a.host() == null) {
                continue; // a group's markers
            }
            String d = a.host().toLowerCase(Locale.ROOT);
            if (domain != null && !domain.equals(d)) {
                return Optional.empty();
            }
            domain = d;
        }
        if (domain == null || domain.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
