package dev.mailstack.mta.inbound;

import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.DmarcResult.Kind;
import dev.mailstack.mta.inbound.DmarcResult.Policy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * DMARC for one message: the author domain's policy, found by RFC 9989's DNS tree walk (§4.10)
 * rather than a public suffix list, and whether an SPF or DKIM pass is aligned with the author
 * domain (RFC 7489 §3.1): the same domain (strict), or the same organizational domain (relaxed,
 * the default), the organizational domain also found by the tree walk (RFC 9989 §4.10.2).
 */
public final class DmarcCheck {
    /** RFC 9989 §4.10.1: at most eight names are asked about per walk. */
    private static final int MAX_WALK = 8;

    private final DnsLookup dns;

    public DmarcCheck(DnsLookup dns) {
        this.dns = dns;
    }

    /** A valid DMARC record's tags (RFC 7489 §6.3), names lower case. */
    private record Record(String domain, Map<String, String> tags) {
        String tag(String name, String otherwise) {
            return tags.getOrDefault(name, otherwise).toLowerCase(Locale.ROOT);
        }

        int labels() {
            return domain.split("\\.").length;
        }
    }

    /**
     * @param fromDomain    the author domain, lower case (the caller reads From: and refuses what has not exactly one)
     * @param spfPassDomain the domain SPF passed for (MAIL FROM's, or HELO's for the null sender), if it passed
     * @param dkimPassDomains the d= of every signature that passed
     */
    public DmarcResult evaluate(String fromDomain, Optional<String> spfPassDomain, List<String> dkimPassDomains) {
        Map<String, Optional<Record>> asked = new HashMap<>(); // one walk's answers serve the next
        try {
            List<Record> walk = walk(fromDomain, asked);
            if (walk.isEmpty()) {
                return new DmarcResult(Kind.NONE, fromDomain, Policy.NONE, "no DMARC record for " + fromDomain);
            }
            Record found = walk.getFirst();
            boolean strictSpf = found.tag("aspf", "r").equals("s");
            boolean strictDkim = found.tag("adkim", "r").equals("s");
            String fromOrg = organizational(fromDomain, walk);
            boolean spfAligned = spfPassDomain.isPresent() && aligned(spfPassDomain.get(), fromDomain, fromOrg, strictSpf, asked);
            boolean dkimAligned = false;
            for (String d : dkimPassDomains) {
                dkimAligned |= aligned(d, fromDomain, fromOrg, strictDkim, asked);
            }
            if (spfAligned || dkimAligned) {
                return new DmarcResult(Kind.PASS, fromDomain, Policy.NONE, "");
            }
            String requested = requested(found, fromDomain);
            return new DmarcResult(Kind.FAIL, fromDomain, policy(requested, found), "no aligned SPF or DKIM pass for "
                    + fromDomain + ", p=" + requested);
        } catch (DnsLookup.DnsFailure e) {
            return new DmarcResult(Kind.TEMPERROR, fromDomain, Policy.NONE, e.getMessage());
        }
    }

    /**
     * The policy the author domain asks for mail that fails, whatever this message's SPF and DKIM
     * say: for when those could not be learnt in time, and the mail must not get in for that.
     */
    public Policy policy(String fromDomain) throws DnsLookup.DnsFailure {
        List<Record> walk = walk(fromDomain, new HashMap<>());
        return walk.isEmpty() ? Policy.NONE : policy(requested(walk.getFirst(), fromDomain), walk.getFirst());
    }

    /**
     * The author domain's own record says p=; a parent's says sp= for its subdomains (RFC 7489
     * §6.6.3), and np= for those that do not exist at all (RFC 9989 §4.7), as forgers invent them.
     */
    private String requested(Record found, String fromDomain) throws DnsLookup.DnsFailure {
        if (found.domain().equals(fromDomain)) {
            return found.tag("p", "none");
        }
        if (found.tags().containsKey("np") && !exists(fromDomain)) {
            return found.tag("np", "none");
        }
        return found.tag("sp", found.tag("p", "none"));
    }

    private static Policy policy(String requested, Record found) {
        Policy policy = switch (requested) {
            case "reject" -> Policy.REJECT;
            case "quarantine" -> Policy.QUARANTINE;
            default -> Policy.NONE; // none, or not a policy: RFC 9989 §4.7 reads it as none
        };
        if (found.tag("t", "n").equals("y") || found.tag("pct", "100").equals("0")) {
            policy = policy.milder(); // testing (RFC 9989's t=y; RFC 7489's pct=0 meant the same in practice)
        }
        return policy;
    }

    /** RFC 9989 §3.2.10: a domain exists for mail when it has an A, AAAA or MX record. */
    private boolean exists(String domain) throws DnsLookup.DnsFailure {
        return DnsLookup.queryable(domain) && (!dns.addresses(domain, false).isEmpty()
                || !dns.addresses(domain, true).isEmpty() || !dns.mx(domain).isEmpty());
    }

    /** RFC 7489 §3.1.1/§3.1.2: strict is the same name; relaxed, the same organizational domain. */
    private boolean aligned(String domain, String fromDomain, String fromOrg, boolean strict,
                            Map<String, Optional<Record>> asked) throws DnsLookup.DnsFailure {
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.equals(fromDomain)) {
            return true;
        }
        if (strict || !(d.equals(fromOrg) || d.endsWith("." + fromOrg))) {
            return false; // not under the author's organizational domain: no walk can align it
        }
        return organizational(d, walk(d, asked)).equals(fromOrg);
    }

    /**
     * RFC 9989 §4.10.2, from the longest name to the shortest: a record with psd=n is the
     * organizational domain; one with psd=y (not the start) makes it the name one label below; else
     * the name with the fewest labels that has a record; with no records, the domain itself.
     */
    private static String organizational(String domain, List<Record> walk) {
        for (Record r : walk) {
            if (r.tag("psd", "u").equals("n")) {
                return r.domain();
            }
            if (r.tag("psd", "u").equals("y") && !r.domain().equals(domain)) {
                String[] labels = domain.split("\\.");
                return String.join(".", Arrays.copyOfRange(labels, labels.length - r.labels() - 1, labels.length));
            }
        }
        return walk.isEmpty() ? domain : walk.getLast().domain();
    }

    /**
     * The records found walking up from {@code domain} (RFC 9989 §4.10.1): the name itself, then,
     * past eight labels, straight to its last seven, then one label less each time, the top-level
     * domain included. Longest first.
     */
    private List<Record> walk(String domain, Map<String, Optional<Record>> asked) throws DnsLookup.DnsFailure {
        String[] labels = domain.split("\\.");
        List<String> names = new ArrayList<>();
        names.add(domain);
        for (int n = Math.min(labels.length - 1, MAX_WALK - 1); n >= 1 && names.size() < MAX_WALK; n--) {
            names.add(String.join(".", Arrays.copyOfRange(labels, labels.length - n, labels.length)));
        }
        List<Record> found = new ArrayList<>();
        for (String name : names) {
            Optional<Record> r = asked.get(name);
            if (r == null) {
                r = record(name);
                asked.put(name, r);
            }
            r.ifPresent(found::add);
        }
        return found;
    }

    /** The one DMARC record at _dmarc.{@code domain}; none when there is none or more than one (RFC 7489 §6.6.3). */
    private Optional<Record> record(String domain) throws DnsLookup.DnsFailure {
        if (!DnsLookup.queryable("_dmarc." + domain)) {
            // a name DNS cannot hold has no record: the walk goes on up to the domain's policy, or a
            // From with a long enough subdomain would turn its p=reject into a temporary error
            return Optional.empty();
        }
        List<Record> records = new ArrayList<>();
        for (String txt : dns.txt("_dmarc." + domain)) {
            Optional<Map<String, String>> tags = tags(txt);
            tags.ifPresent(t -> records.add(new Record(domain, t)));
        }
        return records.size() == 1 ? Optional.of(records.getFirst()) : Optional.empty();
    }

    /**
     * A record's tags when it is a DMARC record: v=DMARC1 first (RFC 7489 §6.4), before any other
     * tag, empty entries or not; unknown tags ignored.
     */
    static Optional<Map<String, String>> tags(String txt) {
        Map<String, String> tags = new HashMap<>();
        String[] entries = txt.split(";");
        for (int i = 0; i < entries.length; i++) {
            int eq = entries[i].indexOf('=');
            if (eq < 0) {
                if (entries[i].isBlank()) {
                    continue;
                }
                return Optional.empty();
            }
            String name = entries[i].substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = entries[i].substring(eq + 1).strip();
            if (tags.isEmpty() && !(name.equals("v") && value.equals("DMARC1"))) {
                return Optional.empty();
            }
            tags.putIfAbsent(name, value);
        }
        return tags.isEmpty() ? Optional.empty() : Optional.of(tags);
    }
}
