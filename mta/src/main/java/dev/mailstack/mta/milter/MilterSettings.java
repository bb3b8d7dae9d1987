package dev.mailstack.mta.milter;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The milters an SMTP endpoint consults, in order, and how long each may take (Postfix's
 * smtpd_milters, milter_default_action and milter_*_timeout, with their defaults).
 *
 * @param defaultAction  what a milter that cannot be reached, is too slow or breaks the protocol amounts to
 * @param connectTimeout connecting and negotiating (milter_connect_timeout: 30 s)
 * @param commandTimeout each step before the message content (milter_command_timeout: 30 s)
 * @param contentTimeout each step of the message content: header fields, body, end of message (milter_content_timeout: 300 s)
 * @param submission     whether the submission ports consult them too, as Postfix's smtpd_milters serve every smtpd
 */
public record MilterSettings(List<MilterAddress> milters, DefaultAction defaultAction, Duration connectTimeout,
                             Duration commandTimeout, Duration contentTimeout, boolean submission) {
    public MilterSettings {
        milters = List.copyOf(milters);
    }

    /** Postfix's milter_default_action; quarantine is not offered. */
    public enum DefaultAction {
        /** 451 4.3.5 to the command under way and to each MAIL after it (Postfix's default). */
        TEMPFAIL,
        /** As if the milter were not configured, for the rest of the session. */
        ACCEPT,
        /** 550 5.5.0 to the command under way and to each MAIL after it. */
        REJECT;

        public static DefaultAction parse(String text) {
            return switch (text.strip().toLowerCase(Locale.ROOT)) {
                case "tempfail" -> TEMPFAIL;
                case "accept" -> ACCEPT;
                case "reject" -> REJECT;
                default -> throw new IllegalArgumentException("must be tempfail, accept or reject");
            };
        }
    }

    public static final MilterSettings OFF = new MilterSettings(List.of(), DefaultAction.TEMPFAIL, Duration.ofSeconds(30),
            Duration.ofSeconds(30), Duration.ofSeconds(300), true);

    /** From configuration text: {@code inet:host:port} and {@code unix:/path} items, comma- or space-separated. */
    public static MilterSettings of(String milters, String defaultAction, int connectSeconds, int commandSeconds,
                                    int contentSeconds, boolean submission) {
        return new MilterSettings(MilterAddress.parseList(milters), DefaultAction.parse(defaultAction),
                Duration.ofSeconds(connectSeconds), Duration.ofSeconds(commandSeconds), Duration.ofSeconds(contentSeconds),
                submission);
    }

    public boolean on() {
        return !milters.isEmpty();
    }

    /** For the submission ports: the same, or none. */
    public MilterSettings forSubmission() {
        return submission ? this : new MilterSettings(List.of(), defaultAction, connectTimeout, commandTimeout,
                contentTimeout, submission);
    }
}
