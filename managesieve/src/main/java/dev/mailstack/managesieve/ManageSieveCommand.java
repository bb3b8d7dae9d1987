package dev.mailstack.managesieve;

import java.util.Optional;

/** A parsed ManageSieve command (RFC 5804 §2); names are as the client sent them, the store checks them. */
sealed interface ManageSieveCommand {
    record Capability() implements ManageSieveCommand {
    }

    record StartTls() implements ManageSieveCommand {
    }

    /** §2.1: the mechanism (upper-cased) and the optional initial response, still in base64. */
    record Authenticate(String mechanism, Optional<String> initialResponse) implements ManageSieveCommand {
        @Override
        public String toString() {
            return "Authenticate[" + mechanism + (initialResponse.isPresent() ? " ***" : "") + "]";
        }
    }

    record Logout() implements ManageSieveCommand {
    }

    /** §2.13: an optional tag, echoed in the TAG response code. */
    record Noop(Optional<String> tag) implements ManageSieveCommand {
    }

    record Unauthenticate() implements ManageSieveCommand {
    }

    record HaveSpace(String name, long octets) implements ManageSieveCommand {
    }

    record PutScript(String name, String content) implements ManageSieveCommand {
    }

    record ListScripts() implements ManageSieveCommand {
    }

    /** §2.8: the empty name deactivates. */
    record SetActive(String name) implements ManageSieveCommand {
    }

    record GetScript(String name) implements ManageSieveCommand {
    }

    record DeleteScript(String name) implements ManageSieveCommand {
    }

    record RenameScript(String from, String to) implements ManageSieveCommand {
    }

    record CheckScript(String content) implements ManageSieveCommand {
    }
}
