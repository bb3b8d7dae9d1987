package dev.mailstack.mta.milter;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where a milter listens, in Postfix's smtpd_milters syntax: {@code inet:host:port} or {@code unix:/path}. */
public sealed interface MilterAddress {
    SocketAddress socketAddress();

    record Inet(String host, int port) implements MilterAddress {
        public Inet {
            if (host.isBlank() || port < 1 || port > 65535) {
                throw new IllegalArgumentException("a milter address is inet:host:port, port 1 to 65535");
            }
        }

        @Override
        public SocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }

        @Override
        public String toString() {
            return "inet:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    record Unix(Path path) implements MilterAddress {
        @Override
        public SocketAddress socketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /** {@code inet:127.0.0.1:11332}, {@code inet:[::1]:11332}, {@code unix:/run/clamav/clamav-milter.ctl}. */
    static MilterAddress parse(String text) {
        String s = text.strip();
        if (s.startsWith("unix:") && s.length() > 5) {
            return new Unix(Path.of(s.substring(5)));
        }
        if (s.startsWith("inet:")) {
            String rest = s.substring(5);
            int colon = rest.lastIndexOf(':');
            if (colon > 0) {
                String host = rest.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                try {
                    return new Inet(host, Integer.parseInt(rest.substring(colon + 1)));
                } catch (NumberFormatException e) {
                    // falls through to the error below
                }
            }
        }
        throw new IllegalArgumentException("not a milter address: '" + s + "' (inet:host:port or unix:/path)");
    }

    /** A list separated by commas or white space, as Postfix's; empty text is no milter. */
    static List<MilterAddress> parseList(String text) {
        List<MilterAddress> out = new ArrayList<>();
        for (String item : text.split("[,\\s]+")) {
            if (!item.isBlank()) {
                out.add(parse(item));
            }
        }
        return List.copyOf(out);
    }
}
