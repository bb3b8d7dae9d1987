package dev.mailstack.managesieve;

/** A command that cannot be parsed; carries the NO to send (the session goes on). */
final class ManageSieveSyntaxException extends Exception {
    private final SieveResponse response;

    ManageSieveSyntaxException(SieveResponse response) {
        super(response.text(), null, false, false);
        this.response = response;
    }

    SieveResponse response() {
        return response;
    }
}
