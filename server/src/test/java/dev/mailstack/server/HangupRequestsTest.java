package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HangupRequestsTest {
    @Test
    void aReloadAskedForDuringStartUpRunsOnceTheServerRuns() {
        HangupRequests hangups = new HangupRequests();
        AtomicInteger reloads = new AtomicInteger();
        hangups.requested();
        hangups.requested();
        assertEquals(0, reloads.get());
        hangups.started(reloads::incrementAndGet);
        assertEquals(1, reloads.get(), "two SIGHUPs during start-up make one reload, after it");
        hangups.started(reloads::incrementAndGet);
        assertEquals(1, reloads.get(), "nothing left pending");
        hangups.requested();
        assertEquals(2, reloads.get(), "a running server reloads at once");
    }

    @Test
    void aRequestRacingTheStartIsNeitherLostNorRunTwice() throws Exception {
        for (int round = 0; round < 500; round++) {
            HangupRequests hangups = new HangupRequests();
            AtomicInteger reloads = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            try (var threads = Executors.newFixedThreadPool(2)) {
                threads.execute(() -> {
                    await(go);
                    hangups.requested();
                });
                threads.execute(() -> {
                    await(go);
                    hangups.started(reloads::incrementAndGet);
                });
                go.countDown();
            }
            assertEquals(1, reloads.get(), "round " + round);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
