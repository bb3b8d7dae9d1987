package dev.mailstack.server;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One HTTP/1.x request as the endpoint reads it (RFC 9112 §3): the client's address, its method,
 * the authority (when the target is in absolute form), path and query of its target, and its header
 * fields by lower-case name. Request content is never kept: both resources are read-only.
 */
record HttpRequest(InetAddress client, String method, Optional<String> authority, String path, Optional<String> rawQuery,
                   Map<String, List<String>> headers) {
    HttpRequest {
        headers = Map.copyOf(headers);
    }

    /** The first value of a header field, by name in any case. */
    Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** The host the request is for: an absolute-form target's authority, else the Host field (RFC 9112 §3.2.2). */
    Optional<String> host() {
        return authority.or(() -> header("Host"));
    }

    boolean isHead() {
        return method.equals("HEAD");
    }
}
