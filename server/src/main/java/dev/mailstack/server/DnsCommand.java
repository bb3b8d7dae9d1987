package dev.mailstack.server;

import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.net.HostName;
import dev.mailstack.server.DnsRecordsCheck.Finding;
import dev.mailstack.server.DnsRecordsCheck.Status;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "dns", mixinStandardHelpOptions = true, description = "Check the DNS records other mail servers look up for your domains.",
        subcommands = {DnsCommand.Check.class})
final class DnsCommand {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    /** Texts longer than this are not padded: the status follows them after two spaces. */
    private static final int MAX_ALIGNED = 64;

    @Command(name = "check", mixinStandardHelpOptions = true, description = {
        "Check the DNS records other mail servers look up for DOMAIN.",
        "MX, this server's A/AAAA and reverse DNS (PTR), SPF, the DKIM key (against the local one) and"
                + " DMARC: one line per record with ok, warn or FAIL, and what to publish when not ok.",
        "Exit status 1 when something is FAIL; warnings alone exit 0. Only DNS is asked."})
    static final class Check implements Callable<Integer> {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DOMAIN", description = "A domain this server takes mail for and sends from.")
        String domain;
        @Option(names = "--ip", paramLabel = "ADDRESS",
                description = "This server's sending address (repeatable; default: the addresses of hostname).")
        List<String> ips = new ArrayList<>();
        /** Tests ask their own DNS server on loopback, e.g. dns://127.0.0.1:5353. */
        @Option(names = "--dns-server", paramLabel = "URL", hidden = true)
        String dnsServer;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            String d = domain();
            List<InetAddress> addresses = addresses();
            Config config = options.config();
            DnsRecordsCheck check = new DnsRecordsCheck(new DnsLookup(dnsServer), config.hostname(),
                    DkimCommand.keys(config.dataDir()), config.string(ConfigKey.DKIM_SELECTOR));
            List<Finding> findings = check.check(d, addresses);
            print(findings);
            return findings.stream().anyMatch(f -> f.status() == Status.FAIL) ? 1 : 0;
        }

        /** Lower case, without the root's dot, and a host name: it becomes DNS questions and a folder name. */
        private String domain() {
            String d = domain.toLowerCase(Locale.ROOT);
            d = d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
            if (!HostName.isValid(d)) {
                throw new ParameterException(spec.commandLine(), "not a domain name: " + domain);
            }
            return d;
        }

        /** Address literals only: a name here would be looked up by the system's resolver. */
        private List<InetAddress> addresses() {
            List<InetAddress> out = new ArrayList<>();
            for (String ip : ips) {
                InetAddress a = null;
                if (IPV4.matcher(ip).matches() || IPV6.matcher(ip).matches()) {
                    try {
                        a = InetAddress.getByName(ip); // a literal: no lookup (with a ':' the JDK never asks DNS)
                    } catch (UnknownHostException e) {
                        a = null;
                    }
                }
                if (a == null) {
                    throw new ParameterException(spec.commandLine(), "--ip: not an IPv4 or IPv6 address: " + ip);
                }
                if (!out.contains(a)) {
                    out.add(a);
                }
            }
            return out;
        }
    }

    /** One line per finding, statuses aligned; a hint on its own indented line below. */
    static void print(List<Finding> findings) {
        int width = findings.stream().mapToInt(f -> f.text().length()).filter(n -> n <= MAX_ALIGNED).max().orElse(0);
        for (Finding f : findings) {
            System.out.println(pad(f.check(), 7) + pad(f.text(), width) + "  " + f.status().label());
            if (!f.hint().isEmpty()) {
                System.out.println(" ".repeat(7) + f.hint());
            }
        }
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }
}
