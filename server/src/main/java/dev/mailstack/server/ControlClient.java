package dev.mailstack.server;

import dev.mailstack.net.LineReader;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code mailstack import}'s end of the {@link ControlSocket}: each message goes to the server in
 * chunks as it is read (see {@link ControlSession} for the requests), so memory stays bounded.
 */
final class ControlClient implements ImportTarget, AutoCloseable {
    private static final int CHUNK = 64 * 1024;

    private final SocketChannel channel;
    private final LineReader in;
    private final OutputStream out;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new LineReader(Channels.newInputStream(channel), ControlSession.MAX_LINE);
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), CHUNK + 128);
    }

    /** Connects to the server that owns the data folder, for imports into {@code address}; empty when none answers. */
    static Optional<ControlClient> connect(Path dataDir, String address) throws IOException {
        Path path = ControlSocket.path(dataDir);
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
        } catch (SocketException | IllegalArgumentException e) {
            return Optional.empty(); // no socket file, or one left by a server that was killed
        }
        ControlClient client = new ControlClient(channel);
        try {
            client.request("IMPORT " + address);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return Optional.of(client);
    }

    @Override
    public void ensure(MailboxName mailbox) throws IOException {
        request("MAILBOX " + mailbox.path());
    }

    @Override
    public Draft draft() throws IOException {
        line("MESSAGE");
        return new ChunkedDraft();
    }

    private void request(String request) throws IOException {
        line(request);
        awaitReply();
    }

    private void line(String line) throws IOException {
        sending(() -> out.write((line + "\n").getBytes(StandardCharsets.UTF_8)));
    }

    private interface Write {
        void run() throws IOException;
    }

    /** A write the server did not take means it went away; what it was sending was not stored. */
    private static void sending(Write write) throws IOException {
        try {
            write.run();
        } catch (IOException e) {
            throw new IOException("the connection to the server broke while sending (" + e.getMessage() + "): the message"
                    + " being sent was not stored; the server's log says why", e);
        }
    }

    private void awaitReply() throws IOException {
        sending(out::flush);
        String reply = in.readLine();
        if (reply == null) {
            throw new IOException("the server closed the control connection without an answer (stopping?): the last"
                    + " message may or may not have been stored; the server's log says more");
        }
        if (!reply.equals("OK")) {
            throw new CommandFailure("the server refused: " + reply.replaceFirst("^ERR ", ""));
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private final class ChunkedDraft extends Draft {
        private final byte[] chunk = new byte[CHUNK];
        private int used;
        private boolean ended;

        @Override
        public void write(int b) throws IOException {
            if (used == chunk.length) {
                sendChunk();
            }
            chunk[used++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (used == chunk.length) {
                    sendChunk();
                }
                int n = Math.min(len, chunk.length - used);
                System.arraycopy(b, off, chunk, used, n);
                used += n;
                off += n;
                len -= n;
            }
        }

        private void sendChunk() throws IOException {
            if (used > 0) {
                line("DATA " + used);
                sending(() -> out.write(chunk, 0, used));
                used = 0;
            }
        }

        @Override
        void store(MailboxName mailbox, Flags flags, Instant internalDate) throws IOException {
            sendChunk();
            ended = true;
            request("END " + internalDate.toEpochMilli() + " " + MailImport.letters(flags) + " " + mailbox.path());
        }

        @Override
        public void close() throws IOException {
            if (!ended && channel.isOpen()) {
                ended = true;
                request("DROP");
            }
        }
    }
}
