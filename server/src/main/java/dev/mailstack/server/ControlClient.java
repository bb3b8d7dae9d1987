package dev.mailstack.server;

import dev.mailstack.net.LineReader;
import dev.mailstack.store.Accounts;
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
import java.util.OptionalLong;

/**
 * The command line's end of the {@link ControlSocket} (see {@link ControlSession} for the
 * requests): {@code mailstack import} sends each message in chunks as it is read, so memory stays
 * bounded, and {@code mailstack user} sends its changes to accounts.
 */
final class ControlClient implements ImportTarget, AccountAdmin, AutoCloseable {
    private static final int CHUNK = 64 * 1024;

    private final SocketChannel channel;
    private final LineReader in;
    private final OutputStream out;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new LineReader(Channels.newInputStream(channel), ControlSession.MAX_LINE);
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), CHUNK + 128);
    }

    /** Connects to the server that owns the data folder; empty when none answers. */
    static Optional<ControlClient> connect(Path dataDir) throws IOException {
        Path path = ControlSocket.path(dataDir);
        try {
            return Optional.of(new ControlClient(SocketChannel.open(UnixDomainSocketAddress.of(path))));
        } catch (SocketException | IllegalArgumentException e) {
            return Optional.empty(); // no socket file, or one left by a server that was killed
        }
    }

    /** The account the imported messages go to; a {@link CommandFailure} when the server has no such user. */
    void importInto(String address) throws IOException {
        request("IMPORT " + address);
    }

    // --- AccountAdmin: the address goes last, where a space in it cannot shift the other fields

    @Override
    public String addUser(String address, String passwordHash, OptionalLong quotaBytes) throws IOException {
        change("USER ADD " + passwordHash + " " + ControlSession.quotaField(quotaBytes) + " " + address);
        return Accounts.normalize(address);
    }

    @Override
    public void changePassword(String address, String passwordHash) throws IOException {
        change("USER PASSWD " + passwordHash + " " + address);
    }

    @Override
    public void setQuota(String address, OptionalLong quotaBytes) throws IOException {
        change("USER QUOTA " + ControlSession.quotaField(quotaBytes) + " " + address);
    }

    @Override
    public void removeUser(String address) throws IOException {
        change("USER DEL " + address);
    }

    @Override
    public void setDisabled(String address, boolean disabled) throws IOException {
        change((disabled ? "USER DISABLE " : "USER ENABLE ") + address);
    }

    /** A change to an account: the server's refusal is the command's failure, worded as the store words it. */
    private void change(String request) throws IOException {
        line(request, "the change was not made");
        Optional<String> refused = answer("the change was not made", "the change may or may not have been made");
        if (refused.isPresent()) {
            throw new CommandFailure(refused.get());
        }
    }

    // --- ImportTarget

    @Override
    public void ensure(MailboxName mailbox) throws IOException {
        request("MAILBOX " + mailbox.path());
    }

    @Override
    public Draft draft() throws IOException {
        line("MESSAGE", NOT_STORED);
        return new ChunkedDraft();
    }

    private void request(String request) throws IOException {
        line(request, NOT_STORED);
        Optional<String> refused = answer(NOT_STORED, "the last message may or may not have been stored");
        if (refused.isPresent()) {
            throw new CommandFailure("the server refused: " + refused.get());
        }
    }

    private static final String NOT_STORED = "the message being sent was not stored";

    private void line(String line, String lost) throws IOException {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            // one request per line: a name with a line break would be read as two requests
            throw new CommandFailure("a name with a line break in it cannot be sent to the server");
        }
        sending(() -> out.write((line + "\n").getBytes(StandardCharsets.UTF_8)), lost);
    }

    private interface Write {
        void run() throws IOException;
    }

    /** A write the server did not take means it went away; what it was sending did not arrive. */
    private static void sending(Write write, String lost) throws IOException {
        try {
            write.run();
        } catch (IOException e) {
            throw new IOException("the connection to the server broke while sending (" + e.getMessage() + "): " + lost
                    + "; the server's log says why", e);
        }
    }

    /** Sends what is buffered and reads the answer: empty for OK, else the text of the ERR. */
    private Optional<String> answer(String lost, String unsure) throws IOException {
        sending(out::flush, lost);
        String reply = in.readLine();
        if (reply == null) {
            throw new IOException("the server closed the control connection without an answer (stopping?): " + unsure
                    + "; the server's log says more");
        }
        return reply.equals("OK") ? Optional.empty() : Optional.of(reply.replaceFirst("^ERR ", ""));
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
                line("DATA " + used, NOT_STORED);
                sending(() -> out.write(chunk, 0, used), NOT_STORED);
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
