package dev.mailstack.net;

import java.io.IOException;
import java.util.Optional;

/**
 * The PLAIN (RFC 4616) and LOGIN exchanges as SMTP, POP3, IMAP and ManageSieve all run them: an
 * initial response when the client sent one (RFC 4954 §4, RFC 5034, RFC 4959, RFC 5804 §2.1),
 * else challenges; only how a challenge goes on the wire, and how each outcome is answered,
 * belongs to the protocol.
 */
public final class SaslExchange {
    private SaslExchange() {
    }

    /** Sends a challenge (base64) and reads the client's answer; empty when the client cancels ("*"). */
    @FunctionalInterface
    public interface Challenge {
        Optional<String> ask(String base64) throws IOException;
    }

    /** How an exchange ended. */
    public sealed interface Outcome {
        /** Decoded credentials, still to be checked. */
        record Credentials(SaslCredentials credentials) implements Outcome {
        }

        /** The client cancelled a challenge. */
        record Cancelled() implements Outcome {
        }

        /** What the client sent is not base64, or not what the mechanism carries: a failed login. */
        record Malformed() implements Outcome {
        }

        /** Neither PLAIN nor LOGIN. */
        record UnknownMechanism() implements Outcome {
        }
    }

    /** Runs {@code mechanism} (upper case) with the initial response, if any, and as many challenges as it needs. */
    public static Outcome run(String mechanism, Optional<String> initialResponse, Challenge challenge) throws IOException {
        Optional<SaslCredentials> credentials;
        switch (mechanism) {
            case "PLAIN" -> {
                Optional<String> response = initialResponse.isPresent() ? initialResponse : challenge.ask("");
                if (response.isEmpty()) {
                    return new Outcome.Cancelled();
                }
                credentials = SaslCredentials.plain(response.get());
            }
            case "LOGIN" -> {
                Optional<String> user = initialResponse.isPresent() ? initialResponse
                        : challenge.ask("VXNlcm5hbWU6"); // "Username:"
                if (user.isEmpty()) {
                    return new Outcome.Cancelled();
                }
                Optional<String> password = challenge.ask("UGFzc3dvcmQ6"); // "Password:"
                if (password.isEmpty()) {
                    return new Outcome.Cancelled();
                }
                credentials = SaslCredentials.login(user.get(), password.get());
            }
            default -> {
                return new Outcome.UnknownMechanism();
            }
        }
        return credentials.<Outcome>map(Outcome.Credentials::new).orElseGet(Outcome.Malformed::new);
    }
}
