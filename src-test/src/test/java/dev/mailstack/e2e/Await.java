package dev.mailstack.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition seen from outside (a mailbox count over IMAP, a received message) with a deadline. */
final class Await {
    private Await() {
    }

    static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 5;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(pause); // polling another process's state: there is no event to wait on
            pause = Math.min(200, pause * 2);
        }
    }
}
