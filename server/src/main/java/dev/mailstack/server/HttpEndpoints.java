package dev.mailstack.server;

import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsContext;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueTotals;
import java.io.IOException;
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

/**
 * The small HTTP side: Mozilla autoconfig for Thunderbird's account wizard
 * (/mail/config-v1.1.xml and /.well-known/autoconfig/mail/config-v1.1.xml, for hosted domains only)
 * and Prometheus text metrics at /metrics, served on net's listener by {@link HttpSession}.
 */
final class HttpEndpoints implements AutoCloseable {
    /** Seconds a client has to send a request line, or its header fields (plus the data rate's credit), and may idle between requests. */
    static final int REQUEST_SECONDS = 10;
    static final int MAX_CONNECTIONS = 200;
    /** Both resources answer in milliseconds: a handful at once from one address is plenty, a proxy in front included. */
    static final int MAX_CONNECTIONS_PER_IP = 10;

    private final MailboxStore store;
    private final String hostname;
    private final List<TcpListener> mailListeners;
    /** This side's own listeners (http, and https when configured). */
    private final List<TcpListener> own = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final MailCounters counters;
    private final AuthThrottle throttle;
    /** Who may read /metrics (http.metrics_networks). */
    private final List<Cidr> metricsNetworks;

    /**
     * {@code mailListeners}: the mail endpoints, which autoconfig describes and metrics count beside
     * this side's own; {@code metricsNetworks}: the clients that may read the metrics.
     */
    HttpEndpoints(MailboxStore store, String hostname, List<TcpListener> mailListeners, MailCounters counters,
                  AuthThrottle throttle, List<Cidr> metricsNetworks) {
        this.metricsNetworks = List.copyOf(metricsNetworks);
        this.counters = counters;
        this.throttle = throttle;
        this.store = store;
        this.hostname = hostname;
        this.mailListeners = List.copyOf(mailListeners);
    }

    /**
     * Serves the resources on one more endpoint: "http", or "https" with implicit TLS (Thunderbird
     * asks https://autoconfig.DOMAIN/ first). {@code limits}: {@link #limits(NetLimits)} of the mail
     * ports' (tests pass shorter ones).
     */
    TcpListener listen(Endpoint endpoint, NetLimits limits, TlsContext tls) throws IOException {
        TcpListener listener = TcpListener.start(endpoint, new HttpProtocol(this::respond), limits, tls);
        own.add(listener);
        return listener;
    }

    /**
     * The public endpoint's limits (Thunderbird's wizard asks it before any login): short, as a
     * request is a few hundred bytes and an answer takes milliseconds; the mail ports' pacing and
     * data rate (the default rate where theirs is off).
     */
    static NetLimits limits(NetLimits mail) {
        // the data rate even where the mail ports have none (0): without it, header fields would wait an idle timeout each
        return new NetLimits(8192, Duration.ofSeconds(REQUEST_SECONDS), MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP,
                mail.commandsPerSecond(), mail.minDataRate() == 0 ? NetLimits.DEFAULT_MIN_DATA_RATE : mail.minDataRate());
    }

    private HttpResponse respond(HttpRequest request) {
        return switch (request.path()) {
            case "/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml" -> readOnly(request, this::autoconfig);
            case "/metrics" -> readOnly(request, r -> metricsNetworks.stream().anyMatch(n -> n.contains(r.client())) ? metrics()
                    : HttpResponse.text(403, "Metrics are for the networks of http.metrics_networks.\n"));
            default -> HttpResponse.text(404, "Nothing here; /mail/config-v1.1.xml (autoconfig) and /metrics are.\n");
        };
    }

    /** Both resources are read-only: GET and HEAD; anything else is answered 405 with Allow (RFC 9110 §15.5.6). */
    private static HttpResponse readOnly(HttpRequest request, java.util.function.Function<HttpRequest, HttpResponse> resource) {
        if (request.method().equals("GET") || request.isHead()) {
            return resource.apply(request);
        }
        return HttpResponse.text(405, "GET or HEAD only\n").withHeader("Allow", "GET, HEAD");
    }

    private HttpResponse autoconfig(HttpRequest request) {
        String email = "";
        for (String p : request.rawQuery().orElse("").split("&")) {
            if (p.startsWith("emailaddress=")) {
                try {
                    email = URLDecoder.decode(p.substring(13), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return HttpResponse.text(400, "emailaddress is not URL-encoded\n"); // a stray '%'
                }
            }
        }
        String domain = email.contains("@") ? email.substring(email.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT)
                : request.host().orElse("").replaceFirst(":[0-9]*$", "")
                        .replaceFirst("^autoconfig\\.", "").toLowerCase(Locale.ROOT);
        if (domain.isEmpty() || !store.accounts().isLocalDomain(domain)) {
            return HttpResponse.text(404, "no mail service for this domain here\n");
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
        return HttpResponse.of(200, "text/xml; charset=utf-8", x.toString());
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
        return mailListeners.stream().filter(l -> l.endpoint().name().equals(name)).findFirst();
    }

    private HttpResponse metrics() {
        StringBuilder m = new StringBuilder();
        m.append("# HELP mailstack_connections_active Connections being served now.\n# TYPE mailstack_connections_active gauge\n");
        for (TcpListener l : allListeners()) {
            m.append("mailstack_connections_active{endpoint=\"").append(l.endpoint().name()).append("\"} ")
                    .append(l.activeConnections()).append('\n');
        }
        m.append("# HELP mailstack_connections_total Connections accepted since start.\n# TYPE mailstack_connections_total counter\n");
        for (TcpListener l : allListeners()) {
            m.append("mailstack_connections_total{endpoint=\"").append(l.endpoint().name()).append("\"} ")
                    .append(l.acceptedConnections()).append('\n');
        }
        m.append("# HELP mailstack_auth_total Logins by endpoint and result.\n# TYPE mailstack_auth_total counter\n");
        for (TcpListener l : mailListeners) {
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
        return HttpResponse.of(200, "text/plain; version=0.0.4; charset=utf-8", m.toString());
    }

    private List<TcpListener> allListeners() {
        return java.util.stream.Stream.concat(mailListeners.stream(), own.stream()).toList();
    }

    private static void counter(StringBuilder m, String name, String help, String labels, long value) {
        m.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
        m.append(name).append(labels == null ? "" : "{" + labels + "}").append(' ').append(value).append('\n');
    }

    @Override
    public void close() {
        own.forEach(TcpListener::close);
    }
}
