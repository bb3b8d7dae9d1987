package dev.mailstack.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueTotals;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * The small HTTP side: Mozilla autoconfig for Thunderbird's account wizard
 * (/mail/config-v1.1.xml and /.well-known/autoconfig/mail/config-v1.1.xml, for hosted domains only)
 * and Prometheus text metrics at /metrics.
 */
final class HttpEndpoints implements AutoCloseable {
    private final HttpServer http;
    private final MailboxStore store;
    private final String hostname;
    private final List<TcpListener> listeners;
    private final MailCounters counters;
    private final AuthThrottle throttle;

    HttpEndpoints(InetSocketAddress address, MailboxStore store, String hostname, List<TcpListener> listeners,
                  MailCounters counters, AuthThrottle throttle) throws IOException {
        this.counters = counters;
        this.throttle = throttle;
        this.store = store;
        this.hostname = hostname;
        this.listeners = listeners;
        limitClients();
        this.http = HttpServer.create(address, 64);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/mail/config-v1.1.xml", this::autoconfig);
        http.createContext("/.well-known/autoconfig/mail/config-v1.1.xml", this::autoconfig);
        http.createContext("/metrics", this::metrics);
        http.start();
        System.getLogger(HttpEndpoints.class.getName()).log(System.Logger.Level.INFO,
                "listening endpoint=http address={0}:{1,number,#}", address.getAddress().getHostAddress(), port());
    }

    int port() {
        return http.getAddress().getPort();
    }

    /** Seconds a client has to send its request (line, headers, body) before the connection is closed. */
    static final int REQUEST_SECONDS = 10;
    static final int MAX_CONNECTIONS = 200;

    /**
     * The JDK's server by default waits for ever for a request and takes any number of connections,
     * so a client sending half a request line held a thread and a file descriptor for good (the
     * endpoint is public: Thunderbird's wizard asks it). Its limits are process-wide properties,
     * read when the first server is made; an administrator's own -D settings win.
     */
    private static void limitClients() {
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS)); // seconds
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "60");
        System.getProperties().putIfAbsent("jdk.httpserver.maxConnections", Integer.toString(MAX_CONNECTIONS));
    }

    private void autoconfig(HttpExchange ex) throws IOException {
        if (!readOnly(ex)) {
            return;
        }
        String query = Optional.ofNullable(ex.getRequestURI().getRawQuery()).orElse("");
        String email = "";
        for (String p : query.split("&")) {
            if (p.startsWith("emailaddress=")) {
                email = URLDecoder.decode(p.substring(13), StandardCharsets.UTF_8);
            }
        }
        String domain = email.contains("@") ? email.substring(email.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT)
                : Optional.ofNullable(ex.getRequestHeaders().getFirst("Host")).orElse("").replaceFirst(":.*", "")
                        .replaceFirst("^autoconfig\\.", "").toLowerCase(Locale.ROOT);
        if (domain.isEmpty() || !store.accounts().isLocalDomain(domain)) {
            send(ex, 404, "text/plain", "no mail service for this domain here\n");
            return;
        }
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n");
        x.append("  <emailProvider id=\"").append(domain).append("\">\n");
        x.append("    <domain>").append(domain).append("</domain>\n");
        x.append("    <displayName>").append(domain).append(" mail</displayName>\n");
        x.append("    <displayShortName>").append(domain).append("</displayShortName>\n");
        server(x, "incomingServer", "imap", "imaps", "imap");
        server(x, "incomingServer", "pop3", "pop3s", "pop3");
        server(x, "outgoingServer", "smtp", "submissions", "submission");
        x.append("  </emailProvider>\n</clientConfig>\n");
        send(ex, 200, "text/xml; charset=utf-8", x.toString());
    }

    /** Prefers the implicit-TLS endpoint, then STARTTLS, then plain (loopback set-ups). */
    private void server(StringBuilder x, String element, String type, String tlsName, String plainName) {
        Optional<TcpListener> tls = find(tlsName);
        Optional<TcpListener> plain = find(plainName);
        TcpListener l = tls.or(() -> plain).orElse(null);
        if (l == null) {
            return;
        }
        String socketType = l.endpoint().tls() == TlsMode.IMPLICIT ? "SSL" : l.endpoint().tls() == TlsMode.STARTTLS ? "STARTTLS" : "plain";
        x.append("    <").append(element).append(" type=\"").append(type).append("\">\n");
        x.append("      <hostname>").append(hostname).append("</hostname>\n");
        x.append("      <port>").append(l.port()).append("</port>\n");
        x.append("      <socketType>").append(socketType).append("</socketType>\n");
        x.append("      <authentication>password-cleartext</authentication>\n");
        x.append("      <username>%EMAILADDRESS%</username>\n");
        x.append("    </").append(element).append(">\n");
    }

    private Optional<TcpListener> find(String name) {
        return listeners.stream().filter(l -> l.endpoint().name().equals(name)).findFirst();
    }

    private void metrics(HttpExchange ex) throws IOException {
        if (!readOnly(ex)) {
            return;
        }
        StringBuilder m = new StringBuilder();
        m.append("# HELP mailstack_connections_active Connections being served now.\n# TYPE mailstack_connections_active gauge\n");
        for (TcpListener l : listeners) {
            m.append("mailstack_connections_active{endpoint=\"").append(l.endpoint().name()).append("\"} ")
                    .append(l.activeConnections()).append('\n');
        }
        m.append("# HELP mailstack_connections_total Connections accepted since start.\n# TYPE mailstack_connections_total counter\n");
        for (TcpListener l : listeners) {
            m.append("mailstack_connections_total{endpoint=\"").append(l.endpoint().name()).append("\"} ")
                    .append(l.acceptedConnections()).append('\n');
        }
        m.append("# HELP mailstack_auth_total Logins by endpoint and result.\n# TYPE mailstack_auth_total counter\n");
        for (TcpListener l : listeners) {
            String endpoint = l.endpoint().name();
            m.append("mailstack_auth_total{endpoint=\"").append(endpoint).append("\",result=\"ok\"} ")
                    .append(throttle.succeeded(endpoint)).append('\n');
            m.append("mailstack_auth_total{endpoint=\"").append(endpoint).append("\",result=\"failed\"} ")
                    .append(throttle.failed(endpoint)).append('\n');
        }
        counter(m, "mailstack_messages_received_total", "Messages committed to the queue.", null, counters.received());
        counter(m, "mailstack_recipients_delivered_total", "Recipients delivered locally or to the next server.", null,
                counters.delivered());
        counter(m, "mailstack_recipients_deferred_total", "Delivery attempts put off for a retry.", null, counters.deferred());
        counter(m, "mailstack_recipients_bounced_total", "Recipients given up on (5xx or expired).", null, counters.failed());
        counter(m, "mailstack_reports_sent_total", "Delivery status notifications sent.", null, counters.reports());
        m.append("# HELP mailstack_smtp_refused_total Mail refused at SMTP, by reason (rate_limit: a logged-in account past its hourly recipients; greylist: a recipient deferred by greylisting).\n"
                + "# TYPE mailstack_smtp_refused_total counter\n");
        for (MailCounters.Refusal r : MailCounters.Refusal.values()) {
            m.append("mailstack_smtp_refused_total{reason=\"").append(r.label()).append("\"} ").append(counters.refusals(r)).append('\n');
        }
        m.append("# HELP mailstack_greylist_whitelisted_total Recipients greylisting let through at once by smtp.greylist_whitelist_clients or smtp.greylist_whitelist_recipients, by list.\n"
                + "# TYPE mailstack_greylist_whitelisted_total counter\n");
        for (MailCounters.Whitelist w : MailCounters.Whitelist.values()) {
            m.append("mailstack_greylist_whitelisted_total{list=\"").append(w.label()).append("\"} ")
                    .append(counters.whitelistings(w)).append('\n');
        }
        counter(m, "mailstack_messages_quarantined_total", "Messages accepted for the Junk mailbox (DMARC p=quarantine).", null,
                counters.quarantines());
        // counted by the database: the endpoint is public, and a scrape must not cost in proportion
        // to the queue or the accounts (listing 20,000 queued messages took 0.3 s a request)
        QueueTotals queue = store.queue().totals();
        long oldest = queue.oldestReceivedAt().map(t -> Duration.between(t, Instant.now()).toSeconds()).orElse(0L);
        m.append("# HELP mailstack_queue_messages Messages waiting in the queue.\n# TYPE mailstack_queue_messages gauge\n");
        m.append("mailstack_queue_messages ").append(queue.messages()).append('\n');
        m.append("# HELP mailstack_queue_held_messages Queued messages on hold (mailstack queue hold).\n# TYPE mailstack_queue_held_messages gauge\n");
        m.append("mailstack_queue_held_messages ").append(queue.held()).append('\n');
        m.append("# HELP mailstack_queue_oldest_age_seconds Age of the oldest queued message.\n# TYPE mailstack_queue_oldest_age_seconds gauge\n");
        m.append("mailstack_queue_oldest_age_seconds ").append(oldest).append('\n');
        long stored = store.accounts().usedBytesTotal();
        m.append("# HELP mailstack_store_bytes Bytes of mail in all mailboxes.\n# TYPE mailstack_store_bytes gauge\n");
        m.append("mailstack_store_bytes ").append(stored).append('\n');
        long free = store.diskSpace().usable();
        m.append("# HELP mailstack_store_free_bytes Bytes free where message files are written; below store.min_free_bytes"
                + " new mail is refused.\n# TYPE mailstack_store_free_bytes gauge\n");
        m.append("mailstack_store_free_bytes ").append(free == Long.MAX_VALUE ? "NaN" : String.valueOf(free)).append('\n');
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        m.append("# HELP mailstack_jvm_nonheap_used_bytes JVM memory outside the heap in use (code, metaspace).\n"
                + "# TYPE mailstack_jvm_nonheap_used_bytes gauge\n");
        m.append("mailstack_jvm_nonheap_used_bytes ").append(nonHeap.getUsed()).append('\n');
        m.append("# HELP mailstack_jvm_heap_used_bytes JVM heap in use.\n# TYPE mailstack_jvm_heap_used_bytes gauge\n");
        m.append("mailstack_jvm_heap_used_bytes ").append(heap.getUsed()).append('\n');
        send(ex, 200, "text/plain; version=0.0.4", m.toString());
    }

    private static void counter(StringBuilder m, String name, String help, String labels, long value) {
        m.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
        m.append(name).append(labels == null ? "" : "{" + labels + "}").append(' ').append(value).append('\n');
    }

    /** Both resources are read-only: GET and HEAD; anything else is answered 405 (RFC 9110 §15.5.6) and false. */
    private static boolean readOnly(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        if (method.equals("GET") || method.equals("HEAD")) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, "text/plain", "GET or HEAD only\n");
        return false;
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        // RFC 9110 §9.3.2: HEAD gets GET's header without content. Given a length for it, the JDK
        // server logs a WARNING per request (any client could fill the log) and refuses the body.
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : b.length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!head) {
                out.write(b);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
