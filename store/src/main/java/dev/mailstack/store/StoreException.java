package dev.mailstack.store;

/** A store operation that could not be done, with the reason in the store's vocabulary. */
public final class StoreException extends RuntimeException {
    private final StoreFailure failure;

    public StoreException(StoreFailure failure, String message) {
        super(message);
        this.failure = failure;
    }

    public StoreException(StoreFailure failure, String message, Throwable cause) {
        super(message, cause);
        this.failure = failure;
    }

    public StoreFailure failure() {
        return failure;
    }
}
