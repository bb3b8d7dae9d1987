package dev.mailstack.mta.dkim;

import java.util.Locale;

/**
 * What one DKIM-Signature field came to (RFC 6376 §6.1; the result names of RFC 8601 §2.7.1).
 *
 * @param domain   the signing domain (d=), lower case; empty when the field was too broken to name one
 * @param selector the selector (s=), empty likewise
 * @param bPrefix  the first characters of b=, which tell several signatures of one domain apart (RFC 6008)
 * @param reason   for anything but a pass, what went wrong, in words fit for a header comment
 */
public record DkimResult(Kind kind, String domain, String selector, String bPrefix, String reason) {
    public enum Kind {
        PASS, FAIL, NEUTRAL, POLICY, TEMPERROR, PERMERROR;

        /** As Authentication-Results writes it. */
        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean passed() {
        return kind == Kind.PASS;
    }
}
