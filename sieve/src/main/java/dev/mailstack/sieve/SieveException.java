package dev.mailstack.sieve;

/** A script that cannot run: a syntax error, an unknown command or extension, a bad argument. */
public final class SieveException extends Exception {
    private final int line;

    public SieveException(int line, String message) {
        super("line " + line + ": " + message);
        this.line = line;
    }

    /** The script line the error is on, from 1. */
    public int line() {
        return line;
    }
}
