package dev.mailstack.mta.smtp;

import dev.mailstack.store.Greylist;
import java.time.Clock;

/**
 * smtp.greylist: whether the MX port greylists, as Postfix with postgrey's {@code
 * check_policy_service}, by which policy, and by which clock (a test's, to move by hand). Only
 * clients that neither log in nor relay from the trusted networks, only recipients delivered here,
 * never postmaster, never submission or LMTP.
 */
public record Greylisting(boolean on, Greylist.Policy policy, Clock clock) {
    public static final Greylisting OFF = new Greylisting(false, Greylist.Policy.POSTGREY, Clock.systemUTC());

    public static Greylisting of(Greylist.Policy policy, Clock clock) {
        return new Greylisting(true, policy, clock);
    }
}
