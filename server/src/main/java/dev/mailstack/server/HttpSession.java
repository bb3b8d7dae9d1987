package dev.mailstack.server;

import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP/1.1 connection (RFC 9112) on the shared listener, so the endpoint has the limits the
 * mail ports have: connections per client address, a request line that must arrive whole within
 * the idle timeout, header fields read at the minimum data rate, a response the client must read.
 * Requests are answered one after another on a persistent connection (§9.3); anything this
 * endpoint does not need (request content beyond a small discarded one, transfer codings, other
 * versions) gets its status and the connection closed, so framing can never go out of step.
 */
final class HttpSession {
    private static final Logger LOG = System.getLogger(HttpSession.class.getName());
    /** Header fields per request; Postfix-sized, far above what Thunderbird or Prometheus send. */
    static final int MAX_FIELDS = 100;
    /** Bytes of header section per request (field lines with their CRLF). */
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /** Request content read and dropped to keep a connection; more closes it. */
    static final int MAX_DISCARDED_CONTENT = 64 * 1024;
    /** How long, and how much, of what a client sends after the last response is read and dropped before closing (RFC 9112 §9.6). */
    private static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);
    private static final long MAX_LINGER_BYTES = 256 * 1024;
    /** RFC 9112 §2.2: empty lines before a request line are ignored, but not without end. */
    private static final int MAX_EMPTY_LINES = 4;
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern VERSION = Pattern.compile("HTTP/([0-9])\\.([0-9])");
    /** RFC 9110 §5.6.7's IMF-fixdate. */
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH);

    private final Connection connection;
    private final Function<HttpRequest, HttpResponse> resources;
    /** The method of the request being read, once its line parsed: a refusal of HEAD has no content either. */
    private String method = "";

    HttpSession(Connection connection, Function<HttpRequest, HttpResponse> resources) {
        this.connection = connection;
        this.resources = resources;
    }

    /** What became of one request: the connection goes on, or is to close. */
    private enum Next { KEEP, CLOSE }

    void run() throws IOException {
        int empty = 0;
        while (!connection.shuttingDown()) {
            String line;
            try {
                line = connection.readCommand(); // between requests an idle client is closed without a word (§9.5)
            } catch (LineTooLongException e) {
                send(null, HttpResponse.text(414, "The request line is too long.\n"), Next.CLOSE);
                connection.closeLingering(LINGER, MAX_LINGER_BYTES);
                return;
            }
            if (line == null) {
                return;
            }
            if (line.isEmpty()) {
                if (++empty > MAX_EMPTY_LINES) {
                    send(null, HttpResponse.text(400, "Expected a request line, got empty lines.\n"), Next.CLOSE);
                    connection.closeLingering(LINGER, MAX_LINGER_BYTES);
                    return;
                }
                continue;
            }
            empty = 0;
            method = "";
            if (serve(line) == Next.CLOSE) {
                connection.closeLingering(LINGER, MAX_LINGER_BYTES); // what the client still sends must not reset the answer away
                return;
            }
        }
    }

    /** Reads the rest of the request that {@code requestLine} began and answers it. */
    private Next serve(String requestLine) throws IOException {
        // RFC 9112 §3: method SP request-target SP HTTP-version, nothing else
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3 || !TOKEN.matcher(parts[0]).matches()) {
            return refuse(400, "Not an HTTP request line.\n");
        }
        method = parts[0];
        Matcher version = VERSION.matcher(parts[2]);
        if (!version.matches()) {
            return refuse(400, "Not an HTTP request line.\n");
        }
        if (!version.group(1).equals("1")) {
            return refuse(505, "HTTP/1.1 only.\n");
        }
        boolean http11 = !version.group(2).equals("0");
        Optional<Target> target = Target.parse(parts[1]);
        if (target.isEmpty()) {
            return refuse(400, "The request target is not a path.\n");
        }
        Map<String, List<String>> fields = new LinkedHashMap<>();
        Next next = http11 ? Next.KEEP : Next.CLOSE; // §9.3: 1.0 has persistence only by an extension we do not offer
        try (Connection.Payload payload = connection.payload()) {
            int count = 0;
            int bytes = 0;
            for (String field = payload.reader().readLine(); ; field = payload.reader().readLine()) {
                if (field == null) {
                    return Next.CLOSE; // the client went away mid-request
                }
                if (field.isEmpty()) {
                    break;
                }
                bytes += field.length() + 2;
                if (++count > MAX_FIELDS || bytes > MAX_HEADER_BYTES) {
                    return refuse(431, "Too many or too long header fields.\n");
                }
                int colon = field.indexOf(':');
                // §5.1: no whitespace before the colon; §5.2: obsolete line folding may be refused with
                // 400; RFC 9110 §5.5: a value with CR or NUL is refused, not passed on
                if (colon <= 0 || !TOKEN.matcher(field.substring(0, colon)).matches()
                        || field.indexOf('\r') >= 0 || field.indexOf('\0') >= 0) {
                    return refuse(400, "Malformed header field.\n");
                }
                fields.computeIfAbsent(field.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(trimOws(field.substring(colon + 1)));
            }
            // §3.2: a 1.1 request has exactly one Host
            List<String> host = fields.getOrDefault("host", List.of());
            if (host.size() > 1 || (http11 && host.isEmpty()) || (host.size() == 1 && !HOST.matcher(host.getFirst()).matches())) {
                return refuse(400, "A request needs one Host header field, a host name and maybe a port.\n");
            }
            if (tokens(fields, "connection").contains("close")) {
                next = Next.CLOSE;
            }
            // RFC 9110 §10.1.1: a client waiting for 100 Continue gets the final status at once instead,
            // its content unread (no resource here takes any), and the connection closes
            boolean expectsContinue = tokens(fields, "expect").contains("100-continue");
            // §6.3: the content's length decides where the next request starts
            if (expectsContinue && (fields.containsKey("transfer-encoding") || fields.containsKey("content-length"))) {
                next = Next.CLOSE;
            } else if (fields.containsKey("transfer-encoding")) {
                if (!http11) {
                    return refuse(400, "Transfer-Encoding in an HTTP/1.0 request.\n");
                }
                next = Next.CLOSE; // no resource here takes content: answer, then close instead of decoding it
            } else if (fields.containsKey("content-length")) {
                List<String> lengths = fields.get("content-length").stream()
                        .flatMap(v -> java.util.Arrays.stream(v.split(",", -1))).map(HttpSession::trimOws).distinct().toList();
                if (lengths.size() != 1 || !lengths.getFirst().matches("[0-9]{1,18}")) {
                    return refuse(400, "Invalid Content-Length.\n");
                }
                long length = Long.parseLong(lengths.getFirst());
                if (length > MAX_DISCARDED_CONTENT) {
                    return refuse(413, "No resource here takes request content.\n");
                }
                payload.reader().skip(length);
            }
        } catch (LineTooLongException e) {
            return refuse(431, "A header field is too long.\n");
        } catch (SocketTimeoutException e) {
            return refuse(408, "The request did not arrive in time.\n");
        }
        HttpRequest request = new HttpRequest(connection.clientAddress(), parts[0], target.get().authority(),
                target.get().path(), target.get().query(), fields);
        HttpResponse response;
        try {
            response = resources.apply(request);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "http request failed conn=" + connection.id() + " path=" + request.path(), e);
            response = HttpResponse.text(500, "The server failed to answer; the log has why.\n");
        }
        send(request, response, connection.shuttingDown() ? Next.CLOSE : next);
        return next;
    }

    /** RFC 9110 §7.2: Host is uri-host [ ":" port ]: a name or address (RFC 3986 §3.2.2), no spaces, no path. */
    private static final Pattern HOST = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9._~%!$&'()*+,;=-]*)(:[0-9]*)?");

    /**
     * §3.2's request target reduced to what the resources look at: origin-form ({@code /path?query})
     * or, as a server must accept it, absolute-form ({@code http://host/path}, whose authority then
     * stands instead of the Host field, §3.2.2); anything else is not ours.
     */
    private record Target(Optional<String> authority, String path, Optional<String> query) {
        static Optional<Target> parse(String target) {
            String t = target;
            Optional<String> authority = Optional.empty();
            String lower = t.toLowerCase(Locale.ROOT);
            for (String scheme : List.of("http://", "https://")) {
                if (lower.startsWith(scheme)) {
                    int end = scheme.length();
                    while (end < t.length() && "/?#".indexOf(t.charAt(end)) < 0) {
                        end++;
                    }
                    String host = t.substring(scheme.length(), end);
                    if (host.isEmpty() || host.indexOf('@') >= 0 || !HOST.matcher(host).matches()) {
                        return Optional.empty(); // §3.2.2: no userinfo
                    }
                    authority = Optional.of(host);
                    t = end < t.length() && t.charAt(end) == '/' ? t.substring(end) : "/" + t.substring(end);
                }
            }
            if (!t.startsWith("/") || t.indexOf('#') >= 0) {
                return Optional.empty();
            }
            int query = t.indexOf('?');
            return Optional.of(new Target(authority, query < 0 ? t : t.substring(0, query),
                    query < 0 ? Optional.empty() : Optional.of(t.substring(query + 1))));
        }
    }

    /** RFC 9110 §5.5: a field value without the spaces and tabs around it (OWS), and only those. */
    private static String trimOws(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
            end--;
        }
        return value.substring(start, end);
    }

    /** The comma-separated tokens of a header field, lower-case (the Connection field's options, §9.6). */
    private static List<String> tokens(Map<String, List<String>> fields, String name) {
        return fields.getOrDefault(name, List.of()).stream().flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .map(v -> trimOws(v).toLowerCase(Locale.ROOT)).toList();
    }

    private Next refuse(int status, String text) throws IOException {
        send(null, HttpResponse.text(status, text), Next.CLOSE);
        return Next.CLOSE;
    }

    /** The response, its content left out for HEAD (RFC 9110 §9.3.2), with Date (§6.6.1) and, if closing, Connection: close. */
    private void send(HttpRequest request, HttpResponse response, Next next) throws IOException {
        StringBuilder head = new StringBuilder(256);
        head.append("HTTP/1.1 ").append(response.status()).append(' ').append(response.reason()).append("\r\n");
        head.append("Date: ").append(IMF_FIXDATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
        head.append("Content-Type: ").append(response.contentType()).append("\r\n");
        head.append("Content-Length: ").append(response.body().length).append("\r\n");
        response.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        if (next == Next.CLOSE) {
            head.append("Connection: close\r\n");
        }
        head.append("\r\n");
        boolean withContent = !(request == null ? method : request.method()).equals("HEAD"); // RFC 9110 §9.3.2
        connection.lockOutput();
        try {
            connection.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (withContent) {
                connection.write(response.body());
            }
            connection.flush();
        } finally {
            connection.unlockOutput();
        }
        LOG.log(request == null || response.status() >= 500 ? Level.INFO : Level.DEBUG,
                "http conn={0} method={1} path={2} status={3,number,#} bytes={4,number,#}", connection.id(),
                request == null ? "-" : request.method(), request == null ? "-" : request.path(), response.status(),
                withContent ? response.body().length : 0);
    }
}
