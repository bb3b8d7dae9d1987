package dev.mailstack.mta.inbound;

import java.util.Locale;

/**
 * The outcome of an SPF check (RFC 7208 §2.6). {@code domain} is the domain whose policy was
 * asked: the MAIL FROM's, or the HELO's for a null sender (§2.4), whatever include or redirect
 * was followed on the way. {@code explanation} is printable ASCII of at most
 * {@link #MAX_EXPLANATION} characters, fit for an SMTP reply line and an Authentication-Results
 * comment: for fail the domain's own explanation (§6.2) or a default one, for temperror and
 * permerror the reason, otherwise a short sentence saying what the result means.
 */
public record SpfResult(Kind kind, String domain, String explanation) {
    public static final int MAX_EXPLANATION = 200;

    /** The results of RFC 7208 §2.6; {@link #keyword()} is how RFC 8601 writes them. */
    public enum Kind {
        NONE, NEUTRAL, PASS, FAIL, SOFTFAIL, TEMPERROR, PERMERROR;

        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SpfResult {
        if (kind == null || domain == null || explanation == null) {
            throw new IllegalArgumentException("an SPF result needs a kind, a domain and an explanation");
        }
        explanation = printable(explanation);
    }

    /** Anything but printable ASCII becomes '?', and the text is cut to {@link #MAX_EXPLANATION}. */
    static String printable(String text) {
        String out = text.replaceAll("[^\\x20-\\x7e]", "?").strip();
        return out.length() > MAX_EXPLANATION ? out.substring(0, MAX_EXPLANATION) : out;
    }
}
