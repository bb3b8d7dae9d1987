package dev.mailstack.server;

/** A command that could not do what was asked; its message is printed for the user, exit code 1. */
final class CommandFailure extends RuntimeException {
    CommandFailure(String message) {
        super(message);
    }
}
