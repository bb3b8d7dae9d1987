package dev.mailstack.mta.inbound;

import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.SpfResult.Kind;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sender Policy Framework (RFC 7208): whether a domain lets the client send mail naming it in
 * MAIL FROM, or, for a null sender, in HELO (§2.3, §2.4). Every DNS failure, and a check that
 * runs out of time, is a temperror; a record that cannot be read as published, or that needs
 * more lookups than §4.6.4 allows, is a permerror. Nothing is thrown for either, and nothing is
 * logged: the caller logs the result. Safe for concurrent checks.
 */
public final class SpfCheck {
    /** §4.6.4: at least 20 s is recommended for one check, beyond which the result is temperror. */
    public static final Duration BUDGET = Duration.ofSeconds(20);

    private final DnsLookup dns;
    private final String receiver;
    private final Duration budget;

    /** A check with the recommended budget, which names no receiving host in explanations. */
    public SpfCheck(DnsLookup dns) {
        this(dns, "unknown", BUDGET);
    }

    /**
     * {@code receiver}: this host's name, for %{r} in explanations (§7.3; "unknown" when not
     * known). {@code budget}: how long one check may take at most.
     */
    public SpfCheck(DnsLookup dns, String receiver, Duration budget) {
        if (budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("an SPF check needs some time: " + budget);
        }
        this.dns = dns;
        this.receiver = receiver;
        this.budget = budget;
    }

    /**
     * check_host() (§4) for a client that said {@code helo} and gave {@code mailFrom} (an
     * address without angle brackets; empty or null for the null sender, §2.4, which checks
     * postmaster@HELO). A sender without a local part is checked as postmaster (§4.3).
     */
    public SpfResult check(InetAddress client, String helo, String mailFrom) {
        InetAddress ip = ipv4IfMapped(client);
        String heloName = withoutDot(helo == null ? "" : helo.strip());
        String from = mailFrom == null ? "" : mailFrom.strip();
        if (from.startsWith("<") && from.endsWith(">")) {
            from = from.substring(1, from.length() - 1);
        }
        String localPart = "postmaster";
        String domain = heloName;
        if (!from.isEmpty()) {
            int at = from.lastIndexOf('@');
            localPart = at <= 0 ? "postmaster" : from.substring(0, at);
            domain = withoutDot(from.substring(at + 1));
        }
        String checked = domain.toLowerCase(Locale.ROOT);
        if (!SpfEvaluation.isDomain(checked)) {
            // §4.3 (and §2.3 for a HELO that is an address literal or a bare word): nothing to check
            return new SpfResult(Kind.NONE, checked, checked + " is not a domain name: no SPF check");
        }
        String outOfTime = "no SPF result within " + (budget.toMillis() % 1000 == 0 ? budget.toSeconds() + " s" : budget.toMillis() + " ms");
        SpfEvaluation evaluation = new SpfEvaluation(dns, ip, System.nanoTime() + budget.toNanos(), outOfTime);
        SpfMacros macros = new SpfMacros(localPart, checked, checked, ip, heloName, receiver,
                Instant.now().getEpochSecond(), evaluation::validatedName);
        // the lookups run on a thread of their own so that the budget holds however slowly DNS answers
        FutureTask<SpfResult> task = new FutureTask<>(() -> result(evaluation, checked, macros, ip));
        Thread thread = Thread.ofVirtual().name("spf-" + checked).start(task);
        try {
            return task.get(budget.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            thread.interrupt(); // a lookup past the budget is not waited for
            return new SpfResult(Kind.TEMPERROR, checked, outOfTime);
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
            return new SpfResult(Kind.TEMPERROR, checked, "SPF check interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException bug) {
                throw bug;
            }
            throw new IllegalStateException("SPF check failed", e.getCause());
        }
    }

    private static SpfResult result(SpfEvaluation evaluation, String domain, SpfMacros macros, InetAddress ip) {
        String client = SpfMacros.readable(ip);
        try {
            SpfEvaluation.Outcome outcome = evaluation.checkHost(domain, macros, true);
            String text = switch (outcome.kind()) {
                case PASS -> domain + " designates " + client + " as permitted sender";
                case FAIL -> outcome.explanation() != null ? outcome.explanation()
                        : domain + " does not designate " + client + " as permitted sender";
                case SOFTFAIL -> domain + " does not designate " + client + " as permitted sender, but does not forbid it";
                case NEUTRAL -> domain + " neither permits nor denies " + client;
                case NONE -> "no SPF record for " + domain;
                case TEMPERROR, PERMERROR -> throw new IllegalStateException("thrown as SpfError, not returned");
            };
            return new SpfResult(outcome.kind(), domain, text);
        } catch (SpfError e) {
            return new SpfResult(e.kind(), domain, e.getMessage());
        }
    }

    /** §5: an IPv4-mapped IPv6 client (::ffff:a.b.c.d) is checked as the IPv4 client it is. */
    private static InetAddress ipv4IfMapped(InetAddress client) {
        byte[] b = client.getAddress();
        if (client instanceof Inet6Address && Arrays.equals(Arrays.copyOf(b, 12), new byte[]{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1})) {
            try {
                return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
            } catch (UnknownHostException e) {
                throw new IllegalStateException("four bytes are an IPv4 address", e);
            }
        }
        return client;
    }

    private static String withoutDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
