package dev.mailstack.store;

/**
 * A session's watch on its account ({@link Accounts#watch}). Closing it only unsubscribes a
 * listener, so it never fails: a session's clean-up must not lose its own exception to it.
 */
public interface AccountWatch extends AutoCloseable {
    AccountWatch NONE = () -> { };

    @Override
    void close();
}
