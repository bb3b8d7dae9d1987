package dev.mailstack.mta.delivery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A domain's MTA-STS policy (RFC 8461 §3.2): how strictly to apply it, which MX hosts are its
 * own, and how long to keep it.
 */
public record StsPolicy(Mode mode, List<String> mxPatterns, Duration maxAge) {
    /** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
    static final long MAX_AGE_LIMIT = 31_557_600;

    public enum Mode {
        /** Only matching MX hosts, each with a verified certificate (RFC 8461 §5). */
        ENFORCE,
        /** Deliver as without a policy, reporting what enforce would have refused. */
        TESTING,
        /** The domain withdraws its policy (RFC 8461 §8.3). */
        NONE
    }

    public StsPolicy {
        mxPatterns = List.copyOf(mxPatterns);
        if (mode != Mode.NONE && mxPatterns.isEmpty()) {
            throw new IllegalArgumentException("a policy in mode " + mode + " names no mx");
        }
    }

    // RFC 8461 §3.2: sts-policy-field-name, sts-policy-value: printable ASCII and spaces
    // (sts-policy-ext-name: a letter or digit, then up to 31 of letters, digits, '_', '-' and '.')
    private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}");
    private static final Pattern MX_PATTERN = Pattern.compile("(\\*\\.)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.?");
    private static final Pattern STS_VERSION = Pattern.compile("v=STSv1([ \\t]*;|[ \\t]*$)");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");

    /**
     * Parses the policy body (RFC 8461 §3.2): "key: value" lines ended by LF or CRLF; unknown keys
     * are ignored, a repeated key other than mx counts once (its first value). A body that is no
     * valid policy throws: the domain then has none (RFC 8461 §3.3).
     */
    public static StsPolicy parse(String body) {
        String version = null;
        String mode = null;
        String maxAge = null;
        List<String> mx = new ArrayList<>();
        for (String raw : body.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !FIELD_NAME.matcher(line.substring(0, colon)).matches()) {
                throw new IllegalArgumentException("not a key: value line: " + line);
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "version" -> version = version == null ? value : version;
                case "mode" -> mode = mode == null ? value : mode;
                case "max_age" -> maxAge = maxAge == null ? value : maxAge;
                case "mx" -> {
                    if (!MX_PATTERN.matcher(value).matches()) {
                        throw new IllegalArgumentException("mx is no host name or *.domain pattern: " + value);
                    }
                    mx.add(withoutDot(value.toLowerCase(Locale.ROOT)));
                }
                default -> {
                    // RFC 8461 §3.2: fields not defined here are ignored (extensions)
                }
            }
        }
        if (!"STSv1".equals(version)) {
            throw new IllegalArgumentException("version is " + version + ", not STSv1");
        }
        Mode m = switch (mode == null ? "" : mode) {
            case "enforce" -> Mode.ENFORCE;
            case "testing" -> Mode.TESTING;
            case "none" -> Mode.NONE;
            default -> throw new IllegalArgumentException("mode must be enforce, testing or none, not " + mode);
        };
        if (maxAge == null || !DIGITS.matcher(maxAge).matches()) {
            throw new IllegalArgumentException("max_age must be 1 to 10 digits, not " + maxAge);
        }
        // Beyond the limit is taken as the limit: a year is already longer than any sender keeps it.
        long seconds = Math.min(Long.parseLong(maxAge), MAX_AGE_LIMIT);
        return new StsPolicy(m, mx, Duration.ofSeconds(seconds));
    }

    /**
     * Whether {@code mxHost} is one of the policy's (RFC 8461 §4.1): the same name, or for
     * "*.example.net" a name with exactly one more label on the left, so neither example.net nor
     * a.b.example.net.
     */
    public boolean matches(String mxHost) {
        String host = withoutDot(mxHost.toLowerCase(Locale.ROOT));
        for (String pattern : mxPatterns) {
            if (pattern.startsWith("*.")) {
                int dot = host.indexOf('.');
                if (dot > 0 && host.substring(dot + 1).equals(pattern.substring(2))) {
                    return true;
                }
            } else if (host.equals(pattern)) {
                return true;
            }
        }
        return false;
    }

    private static String withoutDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /**
     * The policy id in a domain's _mta-sts TXT records (RFC 8461 §3.1): records not starting with
     * "v=STSv1" are not ours; anything but exactly one that is, or one without a valid id, means
     * the domain has no policy.
     */
    public static Optional<String> recordId(List<String> txtRecords) {
        // sts-field-delim = *WSP ";" *WSP
        List<String> ours = txtRecords.stream().filter(r -> STS_VERSION.matcher(r).lookingAt()).toList();
        if (ours.size() != 1) {
            return Optional.empty();
        }
        String id = null;
        for (String field : ours.getFirst().split(";")) {
            String f = field.strip();
            if (f.startsWith("id=") && id == null) {
                id = f.substring(3);
            }
        }
        // RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT)
        return id != null && id.matches("[A-Za-z0-9]{1,32}") ? Optional.of(id) : Optional.empty();
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase(Locale.ROOT) + " mx=" + String.join(",", mxPatterns) + " max_age=" + maxAge.toSeconds();
    }
}
