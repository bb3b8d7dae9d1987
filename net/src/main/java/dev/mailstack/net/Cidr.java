package dev.mailstack.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** A network like 10.0.0.0/8 or 2001:db8::/32 (e.g. SMTP trusted networks). */
public record Cidr(byte[] network, int prefix) {
    public static List<Cidr> parseList(String text) {
        List<Cidr> out = new ArrayList<>();
        for (String part : text.split("[,\\s]+")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        return out;
    }

    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        try {
            byte[] addr = InetAddress.getByName(slash < 0 ? text : text.substring(0, slash)).getAddress();
            int prefix = slash < 0 ? addr.length * 8 : Integer.parseInt(text.substring(slash + 1));
            if (prefix < 0 || prefix > addr.length * 8) {
                throw new IllegalArgumentException("bad prefix length in " + text);
            }
            return new Cidr(addr, prefix);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("not a network (want a.b.c.d/n): " + text);
        }
    }

    /**
     * The network a client stands for when it is counted or penalized: an IPv4 address itself, an
     * IPv6 address's /64. One IPv6 subscriber is given at least a /64 (RFC 6177 §2) and picks
     * addresses in it at will (RFC 8981 temporary addresses), so counting single IPv6 addresses
     * would give one client a fresh, uncounted address per connection. Dovecot's auth penalty
     * groups IPv6 by /48; /64 is what one host or home can be sure to own.
     */
    public static Cidr clientNetwork(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 16) {
            java.util.Arrays.fill(a, 8, 16, (byte) 0);
            return new Cidr(a, 64);
        }
        return new Cidr(a, 32);
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (network[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefix;
    }

    /** As written in configuration, e.g. 2001:db8:1:2:0:0:0:0/64, for logs. */
    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            return java.util.Arrays.toString(network) + "/" + prefix; // not 4 or 16 bytes: never from parse
        }
    }
}
