package dev.mailstack.mta.milter;

import java.util.function.Predicate;

/**
 * What the SMTP session allows of the envelope changes milters ask for: addresses it would take
 * at MAIL and RCPT (RFC 5321 §4.1.2 syntax, UTF-8 only in an SMTPUTF8 transaction), and at most
 * as many recipients added and removed, by all milters together, as RCPT may give. A change that
 * breaks them is a protocol error of its milter.
 */
public record EnvelopeRules(Predicate<String> validAddress, int maxRecipientChanges) {
}
