package dev.mailstack.server;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineReader;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.store.Account;
import dev.mailstack.store.Accounts;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * One connection to the {@link ControlSocket}. One request per line, UTF-8, LF:
 * <pre>
 * IMPORT address                    OK | ERR text   the account the next requests write to
 * MAILBOX name                      OK | ERR text   created unless it exists
 * MESSAGE                           (no reply)      a message begins; then, repeated:
 * DATA n                            (no reply)      followed by n octets of it
 * END epoch-millis flags mailbox    OK | ERR text   stores it; flags are Maildir letters or "-"
 * DROP                              OK              forgets it
 * USER ADD hash quota address       OK | ERR text   mailstack user add: a $6$ hash, bytes or "-"
 * USER PASSWD hash address          OK | ERR text   mailstack user passwd; open sessions go on
 * USER QUOTA quota address          OK | ERR text   mailstack user quota: bytes or "-" for none
 * USER DEL address                  OK | ERR text   mailstack user del; ends its sessions
 * USER DISABLE address              OK | ERR text   mailstack user disable; ends its sessions
 * USER ENABLE address               OK | ERR text   mailstack user enable
 * </pre>
 * A message arrives in chunks so that neither side needs it whole, in memory or in a file of its
 * own. Every chunk is read whatever happens to the message, so an ERR leaves the stream in step;
 * a line that breaks the framing ends the connection. The USER requests are applied here as the
 * command line applies them with no server ({@link StoreAccountAdmin}), but by the server's own
 * store: in turn with its writers of the account, and a deletion reaches the account's sessions.
 * The address comes last, so that nothing in it can be read as another field.
 */
final class ControlSession {
    private static final Logger LOG = System.getLogger(ControlSession.class.getName());
    static final int MAX_LINE = 4096;
    /** Far above any real message; keeps one request from filling the disk with spool. */
    static final long MAX_MESSAGE = 1L << 30;

    private final MailboxStore store;
    private final StoreAccountAdmin accounts;
    private final MimeLimits limits;
    private final String id;
    private final OutputStream out;
    private final LineReader in;
    /** Marks {@link #waitingSince} while the server works on a request, which is never silence. */
    private static final long WORKING = Long.MIN_VALUE;
    /** When this session began to wait on the other side (to read from it or write to it); WORKING meanwhile. */
    private volatile long waitingSince = System.nanoTime();
    private StoreImport target;
    private String address;
    private int imported;

    /** Thrown when the other side breaks the framing; the connection ends after the reply. */
    private static final class OutOfStep extends Exception {
        OutOfStep(String message) {
            super(message);
        }
    }

    ControlSession(MailboxStore store, MimeLimits limits, String id, InputStream in, OutputStream out) {
        this.store = store;
        this.accounts = new StoreAccountAdmin(store);
        this.limits = limits;
        this.id = id;
        this.out = out;
        this.in = new LineReader(in, MAX_LINE);
    }

    /**
     * How long this session has waited on the other side, for the idle watchdog; 0 while it works
     * on a request. A deletion of an account with very many messages, or the store of a large one,
     * takes as long as it takes and is not the client's silence; a client that sends nothing, or
     * takes no reply, is still cut after the watchdog's limit, however long the work before.
     */
    long idleNanos(long now) {
        long since = waitingSince;
        return since == WORKING ? 0 : now - since;
    }

    String id() {
        return id;
    }

    void run() throws IOException {
        try {
            for (String line; (line = readLine()) != null; ) {
                String reply;
                try {
                    reply = request(line);
                } catch (OutOfStep e) {
                    reply(e.getMessage() + "; connection closed");
                    return;
                }
                if (reply != null) {
                    reply(reply);
                }
            }
        } catch (LineTooLongException e) {
            reply("ERR request line over " + MAX_LINE + " bytes; connection closed");
        } finally {
            if (address != null) {
                LOG.log(Level.INFO, "control: import conn={0} user={1} messages={2}", id, address, imported);
            }
        }
    }

    /** The reply to one request line; null for the ones that have none. */
    private String request(String line) throws IOException, OutOfStep {
        String[] words = line.split(" ", 2);
        String arg = words.length > 1 ? words[1] : "";
        try {
            switch (words[0]) {
                case "IMPORT" -> {
                    target = null;
                    address = null;
                    Account account = store.accounts().find(arg).orElseThrow(() -> new IllegalArgumentException(
                            "no user " + arg + ": create it first (mailstack user add)"));
                    target = new StoreImport(store, store.open(account.id()), limits);
                    address = account.address();
                    return "OK";
                }
                case "MAILBOX" -> {
                    user().ensure(new MailboxName(arg));
                    return "OK";
                }
                case "MESSAGE" -> {
                    return message();
                }
                case "USER" -> {
                    return user(arg);
                }
                case "DATA", "END", "DROP" -> throw new OutOfStep("ERR " + words[0] + " outside a MESSAGE");
                default -> {
                    return "ERR unknown request " + words[0] + " (IMPORT, MAILBOX, MESSAGE, USER)";
                }
            }
        } catch (IllegalArgumentException | StoreException e) {
            return "ERR " + e.getMessage();
        }
    }

    /** USER ADD, PASSWD, QUOTA, DEL, DISABLE and ENABLE: {@code mailstack user}'s changes, logged (without the hash) for the record. */
    private String user(String arg) {
        String[] words = arg.split(" ", 2);
        String rest = words.length > 1 ? words[1] : "";
        switch (words[0]) {
            case "ADD" -> {
                String[] f = rest.split(" ", 3);
                if (f.length < 3) {
                    return "ERR USER ADD hash quota address";
                }
                String added = accounts.addUser(f[2], PasswordScheme.fromImport(f[0]), quota(f[1]));
                LOG.log(Level.INFO, "control: user added conn={0} user={1} quota={2}", id, added, f[1]);
            }
            case "PASSWD" -> {
                String[] f = rest.split(" ", 2);
                if (f.length < 2) {
                    return "ERR USER PASSWD hash address";
                }
                accounts.changePassword(f[1], PasswordScheme.fromImport(f[0]));
                LOG.log(Level.INFO, "control: password changed conn={0} user={1}", id, Accounts.normalize(f[1]));
            }
            case "QUOTA" -> {
                String[] f = rest.split(" ", 2);
                if (f.length < 2) {
                    return "ERR USER QUOTA quota address";
                }
                accounts.setQuota(f[1], quota(f[0]));
                LOG.log(Level.INFO, "control: quota set conn={0} user={1} quota={2}", id, Accounts.normalize(f[1]), f[0]);
            }
            case "DEL" -> {
                accounts.removeUser(rest);
                LOG.log(Level.INFO, "control: user deleted conn={0} user={1}", id, Accounts.normalize(rest));
            }
            case "DISABLE", "ENABLE" -> {
                accounts.setDisabled(rest, words[0].equals("DISABLE"));
                LOG.log(Level.INFO, "control: user {0} conn={1} user={2}", words[0].equals("DISABLE") ? "disabled" : "enabled",
                        id, Accounts.normalize(rest));
            }
            default -> {
                return "ERR unknown request USER " + words[0]
                        + " (USER ADD, USER PASSWD, USER QUOTA, USER DEL, USER DISABLE, USER ENABLE)";
            }
        }
        return "OK";
    }

    /** A quota as USER ADD and USER QUOTA carry it: bytes, or "-" for none. */
    static String quotaField(OptionalLong quotaBytes) {
        return quotaBytes.isPresent() ? Long.toString(quotaBytes.getAsLong()) : "-";
    }

    private static OptionalLong quota(String field) {
        if (field.equals("-")) {
            return OptionalLong.empty();
        }
        try {
            long bytes = Long.parseLong(field);
            if (bytes >= 0) {
                return OptionalLong.of(bytes);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("not a quota in bytes (or - for none): " + field);
    }

    private StoreImport user() {
        if (target == null) {
            throw new IllegalArgumentException("IMPORT address first");
        }
        return target;
    }

    /** Reads a message's chunks to its END or DROP; stores it at END when nothing went wrong before. */
    private String message() throws IOException, OutOfStep {
        String refused = target == null ? "ERR IMPORT address first" : null;
        Spooling spooling = null;
        long octets = 0;
        try {
            if (refused == null) {
                spooling = new Spooling(target);
            }
            while (true) {
                String line = readLine();
                if (line == null) {
                    throw new EOFException("connection closed inside a message");
                }
                String[] words = line.split(" ", 2);
                String arg = words.length > 1 ? words[1] : "";
                switch (words[0]) {
                    case "DATA" -> {
                        long n = count(arg);
                        octets += n;
                        if (refused == null && octets > MAX_MESSAGE) {
                            refused = "ERR message over " + MAX_MESSAGE + " octets";
                        }
                        OutputStream to = refused == null ? spooling : OutputStream.nullOutputStream();
                        waitingOnClient(() -> in.readExactly(n, to));
                    }
                    case "DROP" -> {
                        return "OK";
                    }
                    case "END" -> {
                        if (refused == null && spooling.failure != null) {
                            LOG.log(Level.WARNING, "control: cannot spool an imported message conn=" + id + " user="
                                    + address, spooling.failure);
                            refused = "ERR cannot spool the message (" + spooling.failure.getMessage() + "); see the server's log";
                        }
                        return refused != null ? refused : store(spooling.draft, arg);
                    }
                    default -> throw new OutOfStep("ERR " + words[0] + " inside a MESSAGE (DATA, END or DROP)");
                }
            }
        } finally {
            if (spooling != null) {
                spooling.close();
            }
        }
    }

    /**
     * The draft of a message, whose first write failure (a full disk) is kept for END's reply
     * while the rest of the chunks are still read, so the connection stays in step.
     */
    private static final class Spooling extends OutputStream {
        private ImportTarget.Draft draft;
        private IOException failure;

        Spooling(StoreImport target) {
            try {
                draft = target.draft();
            } catch (IOException e) {
                failure = e;
            }
        }

        @Override
        public void write(int b) {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (failure == null) {
                try {
                    draft.write(b, off, len);
                } catch (IOException e) {
                    failure = e;
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (draft != null) {
                draft.close();
            }
        }
    }

    private static long count(String arg) throws OutOfStep {
        try {
            long n = Long.parseLong(arg);
            if (n >= 0 && n <= MAX_MESSAGE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new OutOfStep("ERR DATA needs an octet count from 0 to " + MAX_MESSAGE);
    }

    /** Every octet has been read here: whatever fails now is this message's ERR, not the connection's end. */
    private String store(ImportTarget.Draft draft, String arg) {
        String[] f = arg.split(" ", 3);
        if (f.length < 3) {
            return "ERR END epoch-millis flags mailbox";
        }
        try {
            Instant date = Instant.ofEpochMilli(Long.parseLong(f[0]));
            draft.store(new MailboxName(f[2]), MailImport.flags(":2," + f[1]), date);
            imported++;
            return "OK";
        } catch (NumberFormatException e) {
            return "ERR not a time in milliseconds: " + f[0];
        } catch (IllegalArgumentException | StoreException e) {
            return "ERR " + e.getMessage();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "control: cannot store an imported message conn=" + id + " user=" + address, e);
            return "ERR cannot store the message (" + e.getMessage() + "); see the server's log";
        }
    }

    private String readLine() throws IOException {
        String[] line = new String[1];
        waitingOnClient(() -> line[0] = in.readLine());
        return line[0];
    }

    private interface ClientIo {
        void run() throws IOException;
    }

    /** Reading from or writing to the other side: the only time that counts for the idle watchdog. */
    private void waitingOnClient(ClientIo io) throws IOException {
        waitingSince = System.nanoTime();
        try {
            io.run();
        } finally {
            waitingSince = WORKING;
        }
    }

    /** One line whatever the text (an H2 message has line breaks), short enough for the client's reader. */
    private void reply(String line) throws IOException {
        String one = line.replaceAll("[\r\n]+", " ");
        if (one.length() > 1000) {
            one = one.substring(0, 1000) + "...";
        }
        byte[] bytes = (one + "\n").getBytes(StandardCharsets.UTF_8);
        waitingOnClient(() -> {
            out.write(bytes);
            out.flush();
        });
    }
}
