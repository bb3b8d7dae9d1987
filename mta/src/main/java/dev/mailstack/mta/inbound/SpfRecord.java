package dev.mailstack.mta.inbound;

import dev.mailstack.mta.inbound.SpfResult.Kind;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SPF record read as RFC 7208 §4.6 and §12 write it: its mechanisms in order, each with the
 * result its qualifier gives on a match, and the redirect and exp modifiers. Parsing reads the
 * whole record first, so that a syntax error anywhere is a permerror even when an earlier
 * mechanism would have matched (§4.6).
 */
record SpfRecord(List<Mechanism> mechanisms, Optional<String> redirect, Optional<String> explanation) {
    /** §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "=" straight after it. */
    private static final Pattern MODIFIER = Pattern.compile("([A-Za-z][A-Za-z0-9._-]*)=(.*)", Pattern.DOTALL);
    /** §12: dual-cidr-length at the end of an "a" or "mx" term. */
    private static final Pattern DUAL_CIDR = Pattern.compile("(.*?)(?:/([0-9]+))?(?://([0-9]+))?");
    private static final Pattern IP4 = Pattern.compile("((?:0|[1-9][0-9]{0,2})(?:\\.(?:0|[1-9][0-9]{0,2})){3})(?:/([0-9]+))?");
    private static final Pattern IP6 = Pattern.compile("([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:/([0-9]+))?");
    /** An IPv6 address in text is at most 45 characters (RFC 4291 §2.2 with an IPv4 tail), and "/128". */
    private static final int MAX_IP6 = 45 + 4;

    /** A mechanism (§5) and the result it gives when it matches. */
    sealed interface Mechanism permits All, Include, A, Mx, Ptr, Ip, Exists {
        Kind qualifier();
    }

    record All(Kind qualifier) implements Mechanism {
    }

    record Include(Kind qualifier, String domainSpec) implements Mechanism {
    }

    /** {@code domainSpec} null: the current domain. */
    record A(Kind qualifier, String domainSpec, int cidr4, int cidr6) implements Mechanism {
    }

    record Mx(Kind qualifier, String domainSpec, int cidr4, int cidr6) implements Mechanism {
    }

    record Ptr(Kind qualifier, String domainSpec) implements Mechanism {
    }

    /** ip4 or ip6: a network and its prefix length; {@code ipv6} tells which, as ::ffff:a.b.c.d reads as IPv4 in Java. */
    record Ip(Kind qualifier, InetAddress network, int prefix, boolean ipv6) implements Mechanism {
    }

    record Exists(Kind qualifier, String domainSpec) implements Mechanism {
    }

    /** §4.5: "v=spf1" (in any case) then a space or the end. */
    static boolean isSpf(String txt) {
        return txt.regionMatches(true, 0, "v=spf1", 0, 6) && (txt.length() == 6 || txt.charAt(6) == ' ');
    }

    static SpfRecord parse(String text) throws SpfError {
        for (char c : text.toCharArray()) {
            if (c < 0x20 || c > 0x7e) {
                // §3.1 and §4.6.1: the record is ASCII, and its terms are separated by spaces only
                throw SpfError.permanent("character " + (int) c + " in the SPF record");
            }
        }
        List<Mechanism> mechanisms = new ArrayList<>();
        String redirect = null;
        String explanation = null;
        for (String term : text.substring(6).split(" +")) {
            if (term.isEmpty()) {
                continue;
            }
            Matcher modifier = MODIFIER.matcher(term);
            if (modifier.matches()) {
                String name = modifier.group(1).toLowerCase(Locale.ROOT);
                String value = modifier.group(2);
                if (name.equals("redirect") || name.equals("exp")) {
                    // §6: each at most once
                    if ((name.equals("redirect") ? redirect : explanation) != null) {
                        throw SpfError.permanent(name + "= given twice");
                    }
                    domainSpec(value, term);
                    if (name.equals("redirect")) {
                        redirect = value;
                    } else {
                        explanation = value;
                    }
                } else {
                    SpfMacros.checkSyntax(value, false); // §6: unknown modifiers are ignored, but must parse
                }
                continue;
            }
            mechanisms.add(mechanism(term));
        }
        return new SpfRecord(List.copyOf(mechanisms), Optional.ofNullable(redirect), Optional.ofNullable(explanation));
    }

    private static Mechanism mechanism(String term) throws SpfError {
        Kind qualifier = switch (term.charAt(0)) {
            case '+' -> Kind.PASS;
            case '-' -> Kind.FAIL;
            case '~' -> Kind.SOFTFAIL;
            case '?' -> Kind.NEUTRAL;
            default -> null;
        };
        String rest = qualifier == null ? term : term.substring(1);
        if (qualifier == null) {
            qualifier = Kind.PASS; // §4.6.2: the default qualifier is "+"
        }
        int end = 0;
        while (end < rest.length() && rest.charAt(end) != ':' && rest.charAt(end) != '/') {
            end++;
        }
        String name = rest.substring(0, end).toLowerCase(Locale.ROOT);
        String argument = rest.substring(end);
        return switch (name) {
            case "all" -> {
                if (!argument.isEmpty()) {
                    throw SpfError.permanent("all takes no argument: " + term);
                }
                yield new All(qualifier);
            }
            case "include" -> new Include(qualifier, requiredDomain(argument, term));
            case "exists" -> new Exists(qualifier, requiredDomain(argument, term));
            case "ptr" -> new Ptr(qualifier, argument.isEmpty() ? null : requiredDomain(argument, term));
            case "a", "mx" -> {
                Matcher m = DUAL_CIDR.matcher(argument);
                if (!m.matches()) {
                    throw new IllegalStateException("the dual-cidr pattern matches anything");
                }
                String spec = m.group(1);
                if (!spec.isEmpty() && !spec.startsWith(":")) {
                    throw SpfError.permanent("bad " + name + " mechanism: " + term);
                }
                String domainSpec = spec.isEmpty() ? null : requiredDomain(spec, term);
                int cidr4 = m.group(2) == null ? 32 : cidr(m.group(2), 32, term);
                int cidr6 = m.group(3) == null ? 128 : cidr(m.group(3), 128, term);
                yield name.equals("a") ? new A(qualifier, domainSpec, cidr4, cidr6) : new Mx(qualifier, domainSpec, cidr4, cidr6);
            }
            case "ip4", "ip6" -> ip(qualifier, name.equals("ip6"), argument, term);
            default -> throw SpfError.permanent("unknown mechanism: " + term);
        };
    }

    /** ":" domain-spec, as include, exists and a given ptr must have it (§5.2, §5.7, §5.5). */
    private static String requiredDomain(String argument, String term) throws SpfError {
        if (!argument.startsWith(":")) {
            throw SpfError.permanent("missing domain: " + term);
        }
        String spec = argument.substring(1);
        domainSpec(spec, term);
        return spec;
    }

    /** §7.1: a macro-string that ends in a top label (not all digits) or a macro. */
    private static void domainSpec(String spec, String term) throws SpfError {
        if (spec.isEmpty() || !endsAsDomain(spec)) {
            throw SpfError.permanent("not a domain: " + term);
        }
        SpfMacros.checkSyntax(spec, false);
    }

    /**
     * §7.1: domain-end = ( "." toplabel [ "." ] ) / macro-expand, at the end of the spec. Read from
     * the end instead of with {@code .*\\.(toplabel)\\.?|.*(macro)}, which backtracked without
     * bound: a record (the sender's own, from DNS) with a long label made parsing take seconds.
     */
    static boolean endsAsDomain(String spec) {
        if (spec.endsWith("%%") || spec.endsWith("%_") || spec.endsWith("%-")) {
            return true;
        }
        if (spec.endsWith("}") && spec.indexOf("%{", spec.lastIndexOf('}', spec.length() - 2) + 1) >= 0) {
            return true; // "%{" ... "}" with no "}" inside
        }
        String domain = spec.endsWith(".") ? spec.substring(0, spec.length() - 1) : spec;
        int dot = domain.lastIndexOf('.');
        return dot >= 0 && isTopLabel(domain.substring(dot + 1));
    }

    /** §7.1: toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ). */
    private static boolean isTopLabel(String label) {
        boolean letter = false;
        boolean hyphen = false;
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            letter |= c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
            hyphen |= c == '-';
            if (!isAlphanum(c) && c != '-') {
                return false;
            }
        }
        if (!hyphen) {
            return letter;
        }
        return isAlphanum(label.charAt(0)) && isAlphanum(label.charAt(label.length() - 1));
    }

    private static boolean isAlphanum(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
    }

    private static Ip ip(Kind qualifier, boolean ipv6, String argument, String term) throws SpfError {
        if (argument.length() > 1 + MAX_IP6) {
            throw SpfError.permanent("not a network: " + term); // and IP6's two runs of ':' need not backtrack
        }
        Matcher m = (ipv6 ? IP6 : IP4).matcher(argument.startsWith(":") ? argument.substring(1) : "");
        if (!m.matches()) {
            throw SpfError.permanent("not a network: " + term);
        }
        InetAddress network;
        try {
            if (ipv6) {
                network = InetAddress.getByName("[" + m.group(1) + "]"); // bracketed: a literal or an error, never a lookup
            } else {
                byte[] octets = new byte[4];
                String[] parts = m.group(1).split("\\.");
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(parts[i]);
                    if (octet > 255) {
                        throw SpfError.permanent("not a network: " + term);
                    }
                    octets[i] = (byte) octet;
                }
                network = InetAddress.getByAddress(octets);
            }
        } catch (UnknownHostException e) {
            throw SpfError.permanent("not a network: " + term);
        }
        int max = ipv6 ? 128 : 32;
        return new Ip(qualifier, network, m.group(2) == null ? max : cidr(m.group(2), max, term), ipv6);
    }

    /** §5.6: a prefix length within the address's bits, without leading zeros (as ip4-network has none). */
    private static int cidr(String digits, int max, String term) throws SpfError {
        if ((digits.length() > 1 && digits.charAt(0) == '0') || digits.length() > 3 || Integer.parseInt(digits) > max) {
            throw SpfError.permanent("bad prefix length: " + term);
        }
        return Integer.parseInt(digits);
    }
}
