package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DestinationLimitsTest {
    @Test
    void aDestinationTakesSoManyDeliveriesAtOnceAndOthersAreNotHeldUp() {
        DestinationLimits limits = new DestinationLimits(2);
        assertTrue(limits.acquire("example.net", Duration.ZERO));
        assertTrue(limits.acquire("example.net", Duration.ZERO));
        assertFalse(limits.acquire("example.net", Duration.ofMillis(50)), "a third waits, then gives up");
        assertTrue(limits.acquire("other.example", Duration.ZERO), "another destination has its own turns");
        limits.release("example.net");
        assertTrue(limits.acquire("example.net", Duration.ZERO), "a released turn is taken again");
        limits.release("example.net");
        limits.release("example.net");
        limits.release("other.example");
        assertEquals(0, limits.busy(), "destinations leave with their last delivery");
    }
}
