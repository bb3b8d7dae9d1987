package dev.mailstack.net;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A hostile client's pace (slowloris): one byte, then a pause, again and again, from a thread of its
 * own until closed or the server hangs up, while the test reads what the server says.
 */
public final class Trickle implements AutoCloseable {
    /** Sends text to the server, as {@link LineClient#sendRaw}. */
    @FunctionalInterface
    public interface Sender {
        void send(String text) throws IOException;
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;

    private Trickle(Sender sender, String unit, Duration pause) {
        this.thread = Thread.ofVirtual().name("trickle").start(() -> {
            try {
                while (!stop.get()) {
                    sender.send(unit);
                    Thread.sleep(pause.toMillis()); // the pace is what the tests are about
                }
            } catch (IOException | InterruptedException e) {
                // the server closed the connection: the trickle is over
            }
        });
    }

    /** Sends {@code unit} (one byte, usually) every {@code pause}. */
    public static Trickle start(Sender sender, String unit, Duration pause) {
        return new Trickle(sender, unit, pause);
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
    }
}
