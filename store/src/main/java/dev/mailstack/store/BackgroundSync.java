package dev.mailstack.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * An fsync run on a virtual thread of its own, so that one message's syncs (its file, its
 * directory) overlap each other and the work between them instead of adding up; whoever commits
 * rows pointing at the message waits for them first ({@link #await}).
 */
final class BackgroundSync {
    interface IoAction {
        void run() throws IOException;
    }

    private BackgroundSync() {
    }

    static CompletableFuture<Void> start(String name, IoAction action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name(name).start(() -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /** Returns once {@code sync} has finished; throws what it threw. */
    static void await(CompletableFuture<Void> sync) throws IOException {
        try {
            sync.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("sync to disk failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while syncing to disk");
        }
    }
}
