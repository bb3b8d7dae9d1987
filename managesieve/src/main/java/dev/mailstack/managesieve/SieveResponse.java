package dev.mailstack.managesieve;

import java.util.Objects;
import java.util.Optional;

/**
 * A ManageSieve status response (RFC 5804 §1.2): OK, NO or BYE, an optional response code in
 * parentheses (§1.3) and an optional human-readable string.
 */
record SieveResponse(Status status, Optional<Code> code, Optional<String> codeArgument, String text) {
    enum Status { OK, NO, BYE }

    /** The response codes of RFC 5804 §1.3 that this server sends. */
    enum Code {
        /** §1.3: the site's policy forbids the mechanism for this identity. Not sent: PLAIN and LOGIN are equal here. */
        AUTH_TOO_WEAK("AUTH-TOO-WEAK"),
        /** §1.3: a password login needs TLS first (auth.plaintext). */
        ENCRYPT_NEEDED("ENCRYPT-NEEDED"),
        /** §1.3: the script count limit. */
        QUOTA_MAXSCRIPTS("QUOTA/MAXSCRIPTS"),
        /** §1.3: the script size limit. */
        QUOTA_MAXSIZE("QUOTA/MAXSIZE"),
        /** §1.3: no script of that name. */
        NONEXISTENT("NONEXISTENT"),
        /** §1.3, §2.10: the active script cannot be deleted. */
        ACTIVE("ACTIVE"),
        /** §1.3, §2.11.1: RENAMESCRIPT to a name taken. */
        ALREADYEXISTS("ALREADYEXISTS"),
        /** §1.3: a temporary failure; the same command may work later. */
        TRYLATER("TRYLATER"),
        /** §1.3: the script was stored but has warnings (sent with OK). Not sent: SieveScript.parse reports no warnings yet. */
        WARNINGS("WARNINGS"),
        /** §1.3, §2.11.2: NOOP's tag echoed back; its argument is the tag. */
        TAG("TAG");

        private final String wire;

        Code(String wire) {
            this.wire = wire;
        }

        String wire() {
            return wire;
        }
    }

    SieveResponse {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(codeArgument, "codeArgument");
        Objects.requireNonNull(text, "text");
    }

    static SieveResponse ok(String text) {
        return new SieveResponse(Status.OK, Optional.empty(), Optional.empty(), text);
    }

    static SieveResponse no(String text) {
        return new SieveResponse(Status.NO, Optional.empty(), Optional.empty(), text);
    }

    static SieveResponse no(Code code, String text) {
        return new SieveResponse(Status.NO, Optional.of(code), Optional.empty(), text);
    }

    static SieveResponse bye(String text) {
        return new SieveResponse(Status.BYE, Optional.empty(), Optional.empty(), text);
    }

    static SieveResponse bye(Code code, String text) {
        return new SieveResponse(Status.BYE, Optional.of(code), Optional.empty(), text);
    }

    SieveResponse withText(String other) {
        return new SieveResponse(status, code, codeArgument, other);
    }

    /** The line as sent, without CRLF: {@code NO (QUOTA/MAXSIZE) "text"}. */
    String line() {
        StringBuilder sb = new StringBuilder(status.name());
        code.ifPresent(c -> {
            sb.append(" (").append(c.wire());
            codeArgument.ifPresent(a -> sb.append(' ').append(SieveStrings.quoted(a)));
            sb.append(')');
        });
        if (!text.isEmpty()) {
            sb.append(' ').append(SieveStrings.quoted(text));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return line();
    }
}
