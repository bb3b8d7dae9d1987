package dev.mailstack.server;

/** A configuration problem, with where it is (file, line, key) in the message. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
