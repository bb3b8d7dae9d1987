package dev.mailstack.sieve;

import java.time.Clock;
import java.util.Objects;

/**
 * Where and when a script runs, as only the delivery side knows it: the clock the date extension
 * reads (RFC 5260 §5 currentdate, and the local zone of §4.1 that dates are shown in by default),
 * and the environment items of RFC 5183 §4.1 that depend on the installation and the connection.
 * An empty string is an item the caller does not know: an {@code environment} test on it is false.
 *
 * @param clock      the current instant and the local time zone
 * @param domain     RFC 5183 "domain": the primary DNS domain of this server, e.g. example.org
 * @param host       RFC 5183 "host": this server's fully qualified host name
 * @param remoteHost RFC 5183 "remote-host": the host name of the SMTP client that handed the
 *                   message over, as its address resolved (not its HELO); "" when not known
 * @param remoteIp   RFC 5183 "remote-ip": that client's IP address in text form; "" when not known
 * @param version    RFC 5183 "version": the server's version
 * @param spamTest   where the spamtest test (RFC 5235 §3.1, §3.2) finds the spam scanner's verdict
 * @param virusTest  where the virustest test (RFC 5235 §3.3) finds the virus scanner's verdict
 * @param editHeader the fields the site keeps addheader and deleteheader from (RFC 5293 §6)
 */
public record SieveEnvironment(Clock clock, String domain, String host, String remoteHost, String remoteIp,
        String version, ScannerVerdict spamTest, ScannerVerdict virusTest, EditHeaderRules editHeader) {
    /** RFC 5183 §4.1 "location": scripts run at final delivery, in the mail delivery agent. */
    public static final String LOCATION = "MDA";
    /** RFC 5183 §4.1 "name": the product name of this Sieve interpreter. */
    public static final String NAME = "mailstack";
    /** RFC 5183 §4.1 "phase": scripts run while the message is being delivered. */
    public static final String PHASE = "during";

    public SieveEnvironment {
        Objects.requireNonNull(clock, "clock");
        domain = Objects.requireNonNullElse(domain, "");
        host = Objects.requireNonNullElse(host, "");
        remoteHost = Objects.requireNonNullElse(remoteHost, "");
        remoteIp = Objects.requireNonNullElse(remoteIp, "");
        version = Objects.requireNonNullElse(version, "");
        Objects.requireNonNull(spamTest, "spamTest");
        Objects.requireNonNull(virusTest, "virusTest");
        Objects.requireNonNull(editHeader, "editHeader");
    }

    /** An environment without spam or virus scanners: spamtest and virustest yield "0" (RFC 5235 §3.1). */
    public SieveEnvironment(Clock clock, String domain, String host, String remoteHost, String remoteIp, String version) {
        this(clock, domain, host, remoteHost, remoteIp, version, ScannerVerdict.NONE, ScannerVerdict.NONE, EditHeaderRules.NONE);
    }

    /** This environment with the site's scanners' verdicts read as {@code spam} and {@code virus} say. */
    public SieveEnvironment withScanners(ScannerVerdict spam, ScannerVerdict virus) {
        return new SieveEnvironment(clock, domain, host, remoteHost, remoteIp, version, spam, virus, editHeader);
    }

    /** This environment with the site's editheader rules. */
    public SieveEnvironment withEditHeader(EditHeaderRules rules) {
        return new SieveEnvironment(clock, domain, host, remoteHost, remoteIp, version, spamTest, virusTest, rules);
    }

    /** The system clock and time zone, no other item known: what a run without an environment uses. */
    public static SieveEnvironment local() {
        return new SieveEnvironment(Clock.systemDefaultZone(), "", "", "", "", "");
    }
}
