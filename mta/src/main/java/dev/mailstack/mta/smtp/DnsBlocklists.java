package dev.mailstack.mta.smtp;

import dev.mailstack.mta.dns.DnsLookup;
import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * DNS blocklists (RFC 5782) for the clients of the MX port, as Postfix's reject_rbl_client: the
 * client's address, reversed, under each zone; an A record in 127.0.0.0/8 lists it, or one the
 * zone's answer filter matches ({@link BlocklistZone}). A lookup that
 * fails or times out lists nothing (mail is not refused because a list is down), and neither do
 * Spamhaus's error answers in 127.255.255.0/24, which say the query was refused (a public
 * resolver), not that the client is listed. RFC 5782 §5 keeps 127.0.0.1 out of every list, so a
 * telnet session on this machine is never refused.
 */
public final class DnsBlocklists {
    private static final System.Logger LOG = System.getLogger(DnsBlocklists.class.getName());
    public static final DnsBlocklists NONE = new DnsBlocklists(List.of(), null);
    private static final int MAX_REASON = 200;

    private final List<BlocklistZone> zones;
    private final DnsLookup dns;

    /**
     * {@code zones}: as {@link #parseZones} gives them; {@code dnsServer}: e.g.
     * "dns://127.0.0.1:5353" (tests); null for the system's resolver.
     */
    public DnsBlocklists(List<String> zones, String dnsServer) {
        this.zones = zones.stream().map(BlocklistZone::parse).toList();
        this.dns = new DnsLookup(dnsServer);
    }

    /**
     * The lists of a comma- or space-separated text, each a zone with an optional answer filter
     * ({@link BlocklistZone}), checked when the config is read.
     */
    public static List<String> parseZones(String text) {
        List<String> out = text.isBlank() ? List.of() : List.of(text.strip().toLowerCase(Locale.ROOT).split("[,\\s]+"));
        out.forEach(BlocklistZone::parse);
        return out;
    }

    public boolean isEmpty() {
        return zones.isEmpty();
    }

    /** A zone that lists a client, and the reason its TXT record gives (empty when it has none). */
    public record Listing(String zone, String reason) {
    }

    /**
     * The first zone (in the configured order) that lists {@code client}; empty when none does or
     * none could be asked. The zones are asked at once, each on a virtual thread, and all within
     * {@link #BUDGET}: a slow list costs a connection that long at most, never one wait per zone.
     */
    public Optional<Listing> listing(InetAddress client) {
        if (zones.isEmpty()) {
            return Optional.empty();
        }
        String reversed = reversed(client);
        List<Future<Optional<Listing>>> asked = new ArrayList<>();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (BlocklistZone zone : zones) {
                asked.add(threads.submit(() -> ask(zone, reversed + zone.name())));
            }
            long deadline = System.nanoTime() + BUDGET.toNanos();
            for (int i = 0; i < asked.size(); i++) {
                try {
                    Optional<Listing> found = asked.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (found.isPresent()) {
                        // the A record decided (as Postfix's reject_rbl_client); its TXT text is a
                        // courtesy, asked with what is left of the budget, never a reason to let the client in
                        String name = reversed + found.get().zone();
                        Future<String> reason = threads.submit(() -> reason(name));
                        try {
                            return Optional.of(new Listing(found.get().zone(),
                                    reason.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)));
                        } catch (TimeoutException | ExecutionException e) {
                            return found;
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return found; // listed all the same
                        }
                    }
                } catch (TimeoutException e) {
                    unanswered(zones.get(i).name(), "no answer within " + BUDGET.toSeconds() + " s");
                } catch (ExecutionException e) {
                    unanswered(zones.get(i).name(), e.getCause().toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        } finally {
            threads.shutdownNow(); // lookups past the budget are interrupted, not waited for
        }
        return Optional.empty();
    }

    /** All the lists of one check together; past it the client is let through. */
    static final Duration BUDGET = Duration.ofSeconds(4);
    /** How long a list that did not answer is left out, so that each connection does not wait on it again. */
    static final Duration RESTING = Duration.ofMinutes(1);
    private final Map<String, Long> restingUntil = new ConcurrentHashMap<>();

    private Optional<Listing> ask(BlocklistZone zone, String name) throws DnsLookup.DnsFailure {
        Long until = restingUntil.get(zone.name());
        if (until != null && System.nanoTime() - until < 0) {
            return Optional.empty();
        }
        return listed(name, zone) ? Optional.of(new Listing(zone.name(), "")) : Optional.empty(); // NXDOMAIN: no answers
    }

    /** Left out for a while, and logged then: each connection would otherwise wait on it and log it again. */
    private void unanswered(String zone, String why) {
        restingUntil.put(zone, System.nanoTime() + RESTING.toNanos());
        LOG.log(Level.WARNING, "dnsbl: {0} not asked for {1} s, clients are let through: {2}", zone,
                RESTING.toSeconds(), why);
    }

    private boolean listed(String name, BlocklistZone zone) throws DnsLookup.DnsFailure {
        for (InetAddress a : dns.addresses(name, false)) {
            String answer = a.getHostAddress();
            if (answer.startsWith("127.255.255.")) {
                LOG.log(Level.WARNING, "dnsbl: {0} refused the query ({1}): it does not answer through this resolver;"
                        + " use a resolver of your own (e.g. unbound on 127.0.0.1)", zone.name(), answer);
            } else if (zone.lists(answer)) {
                return true;
            }
        }
        return false;
    }

    /** The TXT record's text, cut and made printable: it goes into our reply line. */
    private String reason(String name) {
        try {
            List<String> txt = dns.txt(name);
            if (txt.isEmpty()) {
                return "";
            }
            String text = txt.getFirst().replaceAll("[^\\x20-\\x7e]", "?").strip();
            return text.length() > MAX_REASON ? text.substring(0, MAX_REASON) : text;
        } catch (DnsLookup.DnsFailure e) {
            return "";
        }
    }

    /** RFC 5782 §2.1 and §2.4: IPv4 octets, or IPv6 nibbles, in reverse order, each followed by a dot. */
    static String reversed(InetAddress address) {
        byte[] b = address.getAddress();
        StringBuilder out = new StringBuilder();
        if (address instanceof Inet4Address) {
            for (int i = b.length - 1; i >= 0; i--) {
                out.append(b[i] & 0xff).append('.');
            }
        } else {
            for (int i = b.length - 1; i >= 0; i--) {
                out.append(Character.forDigit(b[i] & 0xf, 16)).append('.').append(Character.forDigit((b[i] >> 4) & 0xf, 16)).append('.');
            }
        }
        return out.toString();
    }
}
