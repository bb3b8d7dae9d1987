package dev.mailstack.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import dev.mailstack.mta.delivery.QuotaWarnings;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.delivery.Router;
import dev.mailstack.mta.milter.MilterAddress;
import dev.mailstack.mta.milter.MilterSettings;
import dev.mailstack.mta.delivery.TlsPolicy;
import dev.mailstack.mta.smtp.DnsBlocklists;
import dev.mailstack.net.Cidr;
import dev.mailstack.sieve.EditHeaderRules;
import dev.mailstack.sieve.ScannerVerdict;

/**
 * The effective configuration: defaults, then the file ({@code key = value} lines, {@code #}
 * comments), then MAILSTACK_* environment variables, then command-line flags. Every value is
 * checked as it is read; an error names the file, line and key.
 */
public final class Config {
    /** Where a value came from, for {@code mailstack config check}. */
    public record Value(String text, String origin) {
    }

    private static final System.Logger LOG = System.getLogger(Config.class.getName());

    private final Map<ConfigKey, Value> values = new EnumMap<>(ConfigKey.class);

    private Config() {
        for (ConfigKey k : ConfigKey.values()) {
            values.put(k, new Value(k.defaultValue(), "default"));
        }
    }

    public static Config load(Optional<Path> file, Map<String, String> environment) {
        Config c = new Config();
        if (file.isPresent()) {
            c.readFile(file.get());
        }
        for (ConfigKey k : ConfigKey.values()) {
            String env = environment.get(k.environmentName());
            if (env != null) {
                c.set(k, env, "environment " + k.environmentName());
            }
        }
        return c;
    }

    public static Config defaults() {
        return load(Optional.empty(), Map.of());
    }

    /**
     * No configuration comes near this (every key set is about 10 KB); a larger file, or /dev/zero,
     * is the wrong file, and reading it whole would only run out of memory.
     */
    static final int MAX_FILE_BYTES = 1024 * 1024;

    private void readFile(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new ConfigException(file + ": larger than " + MAX_FILE_BYTES / 1024 + " KiB: not a configuration file?");
        }
        List<String> lines = text(file, bytes).lines().toList();
        Map<ConfigKey, Integer> earlierLine = new EnumMap<>(ConfigKey.class);
        // every line is checked before any error is reported: a file with three mistakes is fixed in one go
        List<String> errors = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            String where = file + ":" + (i + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                errors.add(where + ": expected 'key = value', got: " + line);
                continue;
            }
            String key = line.substring(0, eq).strip();
            Optional<ConfigKey> k = ConfigKey.byKey(key);
            if (k.isEmpty()) {
                errors.add(where + ": unknown key '" + key + "'" + ConfigKey.closestTo(key).map(c -> ": did you mean " + c + "?")
                        .orElse("") + " (see docs/configuration.md)");
                continue;
            }
            // Postfix's rule: the last line wins, with a warning (an administrator who appends a line
            // to override one above means it), where before the earlier line was silently dropped
            Integer earlier = earlierLine.put(k.get(), i + 1);
            if (earlier != null) {
                LOG.log(System.Logger.Level.WARNING, "{0}: {1} is set again; this line wins over line {2,number,#}",
                        where, k.get().key(), earlier);
            }
            try {
                set(k.get(), line.substring(eq + 1).strip(), where);
            } catch (ConfigException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new ConfigException(errors.size() == 1 ? errors.get(0) : String.join("\n", errors));
        }
    }

    /**
     * The file as UTF-8, without the byte order mark Windows editors put first (it would be part of
     * the first key, an "unknown key" whose difference does not show); bytes that are not UTF-8
     * (a Latin-1 comment) are named by line, where Files.readAllLines only said "Input length = 1".
     */
    private static String text(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new ConfigException(file + ":" + line + ": not UTF-8 text: save the file as UTF-8");
        }
        String text = out.flip().toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** Sets a value after checking it; {@code origin} ends up in error messages and config check. */
    public void set(ConfigKey key, String value, String origin) {
        String problem = check(key, value);
        if (problem != null) {
            throw new ConfigException(origin + ": " + key.key() + " = " + value + ": " + problem);
        }
        values.put(key, new Value(value, origin));
    }

    private static String check(ConfigKey key, String v) {
        try {
            switch (key.type()) {
                case STRING, PATH -> {
                    return null;
                }
                case HOSTNAME -> { // in every greeting and Received: line, where a blank or a control would break the syntax
                    return v.chars().anyMatch(c -> c <= ' ' || c == 0x7f)
                            ? "a host name is one word, without blanks or control characters" : null;
                }
                case ZONES -> {
                    DnsBlocklists.parseZones(v);
                    return null;
                }
                case SELECTOR -> { // RFC 6376 §3.1: sub-domain labels, dot-separated
                    return v.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
                            ? null : "a selector is letters, digits and hyphens, in dot-separated labels (e.g. mail2026)";
                }
                case INT -> {
                    int min = key.minimum();
                    int n = Integer.parseInt(v);
                    if (n > key.maximum()) {
                        return "must be at most " + key.maximum();
                    }
                    return n >= min ? null : min == 0 ? "must not be negative" : "must be at least " + min;
                }
                case LONG -> {
                    return Long.parseLong(v) < 0 ? "must not be negative" : null;
                }
                case PORT -> {
                    if (v.equals("auto") || v.equals("off")) {
                        return null;
                    }
                    int p = Integer.parseInt(v);
                    return p < 0 || p > 65535 ? "a port is 0 to 65535, auto or off" : null;
                }
                case ADDRESS -> {
                    InetAddress.getByName(v);
                    return v.isBlank() ? "an IP address is needed" : null;
                }
                case PLAINTEXT -> {
                    return List.of("never", "loopback", "always").contains(v) ? null : "must be never, loopback or always";
                }
                case BARE_LF -> {
                    return List.of("normalize", "reject").contains(v) ? null : "must be normalize or reject";
                }
                case BOOL -> {
                    return List.of("true", "false").contains(v) ? null : "must be true or false";
                }
                case CIDRS -> {
                    Cidr.parseList(v);
                    return null;
                }
                case ROUTES -> {
                    Router.parseStaticRoutes(v);
                    return null;
                }
                case HOST_PORT -> {
                    if (!v.isBlank()) {
                        Route.parse(v);
                    }
                    return null;
                }
                case TLS_POLICY -> {
                    TlsPolicy.parse(v);
                    return null;
                }
                case TLS_POLICIES -> {
                    Router.parseTlsPolicies(v);
                    return null;
                }
                case MILTERS -> {
                    MilterAddress.parseList(v);
                    return null;
                }
                case MILTER_ACTION -> {
                    MilterSettings.DefaultAction.parse(v);
                    return null;
                }
                case SCANNER_FIELD -> {
                    if (!v.isBlank()) {
                        ScannerVerdict.FieldPattern.parse(v);
                    }
                    return null;
                }
                case SCANNER_TYPE -> {
                    ScannerVerdict.Type.named(v);
                    return null;
                }
                case SCANNER_TEXTS -> {
                    // RFC 5235 §3.1, §3.3: spamtest goes to 10, virustest to 5
                    ScannerVerdict.textValues(v, key == ConfigKey.SIEVE_VIRUSTEST_TEXT_VALUES ? 5 : 10);
                    return null;
                }
                case PERCENTS -> {
                    QuotaWarnings.parse(v);
                    return null;
                }
                case FIELD_NAMES -> {
                    EditHeaderRules.names(v);
                    return null;
                }
                case DECIMAL -> {
                    if (v.isBlank()) {
                        return null;
                    }
                    double d = Double.parseDouble(v);
                    return d > 0 && Double.isFinite(d) ? null : "must be a number above 0";
                }
            }
        } catch (NumberFormatException e) {
            return "not a number";
        } catch (UnknownHostException | IllegalArgumentException e) {
            return e.getMessage();
        }
        return null;
    }

    public String string(ConfigKey key) {
        return values.get(key).text();
    }

    public boolean flag(ConfigKey key) {
        return string(key).equals("true");
    }

    public int integer(ConfigKey key) {
        return Integer.parseInt(string(key));
    }

    public long number(ConfigKey key) {
        return Long.parseLong(string(key));
    }

    public Optional<String> optional(ConfigKey key) {
        String v = string(key);
        return v.isBlank() ? Optional.empty() : Optional.of(v);
    }

    public Path dataDir() {
        return Path.of(string(ConfigKey.DATA_DIR));
    }

    public String hostname() {
        return optional(ConfigKey.HOSTNAME).orElseGet(Config::machineName);
    }

    /**
     * This machine's name for an unset hostname: the canonical name, else the local host name
     * (hostname(1)), leaving out localhost and bare addresses, which are no name for other servers
     * (a VM's /etc/hosts often maps its address to localhost first); "localhost" when that is all.
     */
    static String machineName() {
        List<String> names = new java.util.ArrayList<>();
        try {
            InetAddress local = InetAddress.getLocalHost();
            names.add(local.getCanonicalHostName());
            names.add(local.getHostName());
        } catch (UnknownHostException e) {
            // no name resolves for this machine: only "localhost" is left
        }
        return machineName(names);
    }

    /** The first of {@code names} that is a name of this machine to others. */
    static String machineName(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).filter(n -> !isLocalOnly(n)).findFirst()
                .orElse("localhost");
    }

    /** A loopback name (localhost, localhost.localdomain, Debian's ip6-localhost, localhost6...), or an address. */
    private static boolean isLocalOnly(String name) {
        return name.isBlank() || name.matches("(localhost6?|ip6-localhost|ip6-loopback)(\\.localdomain6?)?")
                || name.contains(":") || name.matches("[0-9.]+");
    }

    /** Whether a server name is one other servers can look up: a dotted name, not localhost or an address. */
    static boolean isFullName(String hostname) {
        return !isLocalOnly(hostname) && hostname.contains(".") && !hostname.endsWith(".localdomain");
    }

    public InetAddress bind() {
        try {
            return InetAddress.getByName(string(ConfigKey.BIND));
        } catch (UnknownHostException e) {
            throw new ConfigException("bind: " + e.getMessage());
        }
    }

    /** The port for a listener, or empty when it is off; {@code auto} picks by privilege. */
    public Optional<Integer> port(ConfigKey key, int standard, int unprivileged) {
        String v = string(key);
        if (v.equals("off")) {
            return Optional.empty();
        }
        if (v.equals("auto")) {
            return Optional.of(PrivilegedPorts.canBind(standard) ? standard : unprivileged);
        }
        return Optional.of(Integer.parseInt(v));
    }

    /** The MIME parse limits (mime.max_*). */
    public dev.mailstack.mime.MimeLimits mimeLimits() {
        return new dev.mailstack.mime.MimeLimits(integer(ConfigKey.MIME_MAX_DEPTH), integer(ConfigKey.MIME_MAX_PARTS),
                integer(ConfigKey.MIME_MAX_HEADER_BYTES), integer(ConfigKey.MIME_MAX_PARAMS));
    }

    /** The Sieve script limits (sieve.max_*), for ManageSieve and the CLI alike. */
    public dev.mailstack.store.SieveLimits sieveLimits() {
        return new dev.mailstack.store.SieveLimits(integer(ConfigKey.SIEVE_MAX_SCRIPTS), integer(ConfigKey.SIEVE_MAX_SCRIPT_BYTES));
    }

    public Map<ConfigKey, Value> effective() {
        return Map.copyOf(values);
    }
}
