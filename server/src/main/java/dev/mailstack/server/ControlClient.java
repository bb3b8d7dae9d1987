package dev.mailstack.server;

import dev.mailstack.net.LineReader;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code mailstack import}'s end of the {@link ControlSocket}: each message goes to a temporary
 * file first (its size leads it on the wire, and memory stays bounded), then to the server.
 */
final class ControlClient implements ImportTarget, AutoCloseable {
    private final SocketChannel channel;
    private final LineReader in;
    private final OutputStream out;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new LineReader(Channels.newInputStream(channel), 4096);
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    }

    /** The running server's door for imports into {@code address}; empty when no server runs on the data folder. */
    static Optional<ControlClient> connect(Path dataDir, String address) throws IOException {
        Path path = ControlSocket.path(dataDir);
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
        } catch (ConnectException e) {
            return Optional.empty(); // left behind by a server that was killed: none runs
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
        return new FileDraft(Files.createTempFile("mailstack-import-", ".eml"));
    }

    private void request(String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        awaitReply();
    }

    private void awaitReply() throws IOException {
        out.flush();
        String reply = in.readLine();
        if (reply == null) {
            throw new IOException("the server closed the control connection (stopped?)");
        }
        if (!reply.equals("OK")) {
            throw new CommandFailure("the server refused: " + reply.replaceFirst("^ERR ", ""));
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private final class FileDraft extends Draft {
        private final Path file;
        private final OutputStream data;

        FileDraft(Path file) throws IOException {
            this.file = file;
            this.data = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        }

        @Override
        public void write(int b) throws IOException {
            data.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            data.write(b, off, len);
        }

        @Override
        void store(MailboxName mailbox, Flags flags, Instant internalDate) throws IOException {
            data.close();
            out.write(("MESSAGE " + Files.size(file) + " " + internalDate.toEpochMilli() + " " + MailImport.letters(flags)
                    + " " + mailbox.path() + "\n").getBytes(StandardCharsets.UTF_8));
            Files.copy(file, out);
            awaitReply();
        }

        @Override
        public void close() throws IOException {
            try {
                data.close();
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }
}
