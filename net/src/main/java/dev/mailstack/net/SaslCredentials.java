package dev.mailstack.net;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/** What a client sent to log in with SASL PLAIN or LOGIN, decoded the same way for SMTP, POP3 and IMAP. */
public record SaslCredentials(String user, String password) {
    /** RFC 4616: [authzid] NUL authcid NUL passwd; an authzid other than the user is refused (no proxy logins). */
    public static Optional<SaslCredentials> plain(String base64) {
        return text(base64).flatMap(text -> {
            String[] parts = text.split("\u0000", -1);
            if (parts.length != 3 || parts[1].isEmpty() || (!parts[0].isEmpty() && !parts[0].equalsIgnoreCase(parts[1]))) {
                return Optional.empty();
            }
            return Optional.of(new SaslCredentials(parts[1], parts[2]));
        });
    }

    /** The LOGIN mechanism's two base64 answers. */
    public static Optional<SaslCredentials> login(String user64, String password64) {
        return text(user64).flatMap(u -> text(password64).map(p -> new SaslCredentials(u, p)));
    }

    /** Base64 text as UTF-8; empty when it is not base64. "=" is the empty string (RFC 4954 §4). */
    public static Optional<String> text(String base64) {
        if (base64.equals("=")) {
            return Optional.of("");
        }
        try {
            return Optional.of(new String(Base64.getDecoder().decode(base64.strip()), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "SaslCredentials[user=" + user + ", password=***]"; // never log a password
    }
}
