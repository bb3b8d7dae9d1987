package dev.mailstack.net;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A tiny protocol to exercise the listener: echoes commands, STARTTLS, WORK (blocks on a latch),
 * FLOOD (writes until the connection fails), PAYLOAD n (reads n bytes as a payload), QUIT.
 */
final class EchoProtocol implements Protocol {
    final CountDownLatch workStarted = new CountDownLatch(1);
    final CountDownLatch finishWork = new CountDownLatch(1);
    final CountDownLatch floodStarted = new CountDownLatch(1);
    final CountDownLatch floodEnded = new CountDownLatch(1);
    /** Every connection served, in the order their greetings went out. */
    final List<Connection> connections = new CopyOnWriteArrayList<>();

    @Override
    public void serve(Connection c) throws IOException {
        connections.add(c);
        c.reply("+OK echo ready");
        while (true) {
            String line;
            try {
                line = c.readCommand();
            } catch (LineTooLongException e) {
                c.reply("-ERR line too long");
                continue;
            }
            if (line == null || line.equals("QUIT")) {
                c.reply("+OK bye");
                return;
            }
            switch (line) {
                case "STARTTLS" -> {
                    c.reply("+OK go ahead");
                    int dropped = c.startTls();
                    c.reply("+OK tls dropped=" + dropped);
                }
                case "WORK" -> {
                    workStarted.countDown();
                    try {
                        finishWork.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    c.reply("+OK work done");
                }
                case "SECURE" -> c.reply("+OK secure=" + c.isSecure());
                case "ASK" -> { // a command that goes on in a line of its own, as an AUTH response
                    c.reply("+ go on");
                    c.reply("+OK answered " + c.readContinuation());
                }
                case String p when p.startsWith("PAYLOAD ") -> {
                    long size = Long.parseLong(p.substring("PAYLOAD ".length()));
                    c.reply("+OK send " + size);
                    try (Connection.Payload payload = c.payload()) {
                        payload.reader().skip(size);
                    }
                    c.reply("+OK payload " + size);
                }
                case "FLOOD" -> {
                    floodStarted.countDown();
                    try {
                        byte[] chunk = new byte[64 * 1024];
                        while (true) {
                            c.write(chunk);
                            c.flush();
                        }
                    } finally {
                        floodEnded.countDown();
                    }
                }
                default -> c.reply("+OK " + line);
            }
        }
    }

    @Override
    public String tooManyConnectionsReply() {
        return "-ERR too many connections";
    }

    @Override
    public String idleTimeoutReply() {
        return "-ERR idle timeout";
    }

    @Override
    public String shutdownReply() {
        return "-ERR shutting down";
    }
}
