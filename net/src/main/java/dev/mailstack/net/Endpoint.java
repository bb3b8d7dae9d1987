package dev.mailstack.net;

import java.net.InetSocketAddress;

/** One listening socket: a name for logs ("smtp", "submission", "imaps"...), where, and its TLS mode. */
public record Endpoint(String name, InetSocketAddress address, TlsMode tls) {
}
