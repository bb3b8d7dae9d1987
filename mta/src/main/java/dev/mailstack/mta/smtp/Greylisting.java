package dev.mailstack.mta.smtp;

import dev.mailstack.net.Cidr;
import dev.mailstack.store.Greylist;
import java.net.InetAddress;
import java.time.Clock;
import java.util.List;

/**
 * smtp.greylist: whether the MX port greylists, as Postfix with postgrey's {@code
 * check_policy_service}, by which policy, and by which clock (a test's, to move by hand). Only
 * clients that neither log in nor relay from the trusted networks, only recipients delivered here,
 * never postmaster, never submission or LMTP, and never the clients of {@code skip} (the server
 * takes smtp.sender_checks_skip's: this machine by default, whose cron jobs and web apps on
 * localhost:25 seldom retry). Nor the administrator's whitelists, postgrey's: {@code clients}
 * (by address, or by the verified name {@code names} finds) and {@code recipients}.
 */
public record Greylisting(boolean on, Greylist.Policy policy, Clock clock, List<Cidr> skip, ClientWhitelist clients,
                          RecipientWhitelist recipients, ClientNames names) {
    public static final Greylisting OFF = new Greylisting(false, Greylist.Policy.POSTGREY, Clock.systemUTC(), List.of());

    public Greylisting {
        skip = List.copyOf(skip);
    }

    /** Without whitelists. */
    public Greylisting(boolean on, Greylist.Policy policy, Clock clock, List<Cidr> skip) {
        this(on, policy, clock, skip, ClientWhitelist.NONE, RecipientWhitelist.NONE, ClientNames.NONE);
    }

    /** Every client of the MX port that neither logs in nor relays (tests, whose clients are on loopback). */
    public static Greylisting of(Greylist.Policy policy, Clock clock) {
        return new Greylisting(true, policy, clock, List.of());
    }

    public Greylisting withWhitelists(ClientWhitelist clientList, RecipientWhitelist recipientList, ClientNames finder) {
        return new Greylisting(on, policy, clock, skip, clientList, recipientList, finder);
    }

    public boolean skips(InetAddress client) {
        return skip.stream().anyMatch(c -> c.contains(client));
    }
}
