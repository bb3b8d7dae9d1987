package dev.mailstack.mta.inbound;

import java.util.Locale;

/**
 * What DMARC (RFC 7489, RFC 9989) says of one message.
 *
 * @param fromDomain the author domain (RFC5322.From), lower case; empty when there is none to check
 * @param policy     what the domain owner asks for failing mail, after t=y/pct=0 made it milder; NONE unless kind is FAIL
 * @param reason     for anything but a pass, in words fit for a header comment and a reply line
 */
public record DmarcResult(Kind kind, String fromDomain, Policy policy, String reason) {
    public enum Kind {
        NONE, PASS, FAIL, TEMPERROR, PERMERROR;

        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The p= (or sp=) values, mildest first. */
    public enum Policy {
        NONE, QUARANTINE, REJECT;

        /** One step milder: what t=y asks for (RFC 9989 §4.7). */
        Policy milder() {
            return this == REJECT ? QUARANTINE : NONE;
        }
    }
}
