package dev.mailstack.server;

import dev.mailstack.store.MailQueue;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueDetails;
import dev.mailstack.store.QueueEntry;
import dev.mailstack.store.QueueId;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Postfix's queue tools in one command (mailq, postqueue -f/-i, postsuper -h/-H/-d, postcat -q),
 * usable while the server runs: it sees every change within a second (its queue runner polls).
 */
@Command(name = "queue", mixinStandardHelpOptions = true,
        description = "Inspect and manage mail waiting for another server; works while the server runs.",
        subcommands = {QueueCommand.ListQueue.class, QueueCommand.Show.class, QueueCommand.Flush.class,
                QueueCommand.Retry.class, QueueCommand.Hold.class, QueueCommand.Release.class, QueueCommand.Delete.class})
final class QueueCommand {
    private static final String SEE_LIST = "see mailstack queue list";

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List queued messages, oldest first.")
    static final class ListQueue implements Runnable {
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                List<QueueEntry> entries = store.queue().list();
                if (entries.isEmpty()) {
                    System.out.println("the queue is empty");
                }
                for (QueueEntry e : entries) {
                    System.out.printf("%s from=<%s> size=%d received=%s next=%s pending=%d last=%s%n", e.id(), e.returnPath(),
                            e.size(), e.receivedAt(), e.held() ? "held" : e.nextAttempt(), e.pendingRecipients(),
                            e.lastReply() == null ? "-" : e.lastReply());
                }
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show a queued message: its envelope, each recipient's state and last reply, and its header.")
    static final class Show implements Runnable {
        /** A header longer than this is cut in the listing (the message itself is untouched). */
        private static final int MAX_HEADER = 256 * 1024;

        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ID", description = "A queue id as listed, e.g. Q1A")
        String id;
        @Option(names = "--body", description = "Print the whole message, not only its header.")
        boolean body;

        @Override
        public void run() {
            QueueId queueId = parse(id);
            try (MailboxStore store = options.openStore()) {
                QueueDetails d = store.queue().details(queueId)
                        .orElseThrow(() -> new CommandFailure(missing(queueId)));
                PrintStream out = System.out;
                QueueEntry e = d.entry();
                out.println("id:        " + e.id());
                out.println("from:      <" + e.returnPath() + ">");
                out.println("received:  " + e.receivedAt());
                out.println("size:      " + e.size());
                out.println("next try:  " + (e.held() ? "held (mailstack queue release " + e.id() + ")" : e.nextAttempt())
                        + (d.beingDelivered() ? ", being delivered now" : ""));
                d.envId().ifPresent(v -> out.println("envid:     " + v));
                d.ret().ifPresent(v -> out.println("ret:       " + v));
                for (QueueDetails.Recipient r : d.recipients()) {
                    out.println("to:        <" + r.address() + "> " + r.state() + ", " + r.attempts()
                            + (r.attempts() == 1 ? " attempt" : " attempts")
                            + (r.lastReply() == null ? "" : ", last reply: " + r.lastReply()));
                }
                out.println();
                try (InputStream in = store.openContent(d.contentKey(), 0)) {
                    if (body) {
                        in.transferTo(out);
                    } else {
                        printHeader(in, out);
                    }
                } catch (IOException x) {
                    throw new CommandFailure("cannot read the message of " + e.id() + ": " + x.getMessage());
                }
                out.flush();
            }
        }

        /** The octets up to the blank line that ends the header (RFC 5322 §2.1), CRLF or bare LF. */
        private static void printHeader(InputStream in, PrintStream out) throws IOException {
            InputStream buffered = new java.io.BufferedInputStream(in);
            int previous = -1;
            int beforePrevious = -1;
            int n = 0;
            for (int b; n < MAX_HEADER && (b = buffered.read()) >= 0; n++) {
                out.write(b);
                if (b == '\n' && (previous == '\n' || (previous == '\r' && beforePrevious == '\n'))) {
                    return;
                }
                beforePrevious = previous;
                previous = b;
            }
            if (n < MAX_HEADER) {
                return; // the whole message is header
            }
            out.println();
            out.println("(header cut at " + MAX_HEADER + " octets; --body prints the whole message)");
        }
    }

    /**
     * One change to each entry named, or to every entry it applies to when the argument is ALL.
     * An entry it cannot change is reported on standard error and makes the exit code 1, after the
     * others are done.
     */
    abstract static class Change implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ID", arity = "0..*", description = "Queue ids as listed (e.g. Q1A), or ALL.")
        List<String> ids = new ArrayList<>();

        /** True when it changed the entry. */
        abstract boolean apply(MailQueue queue, QueueId id);

        /** Whether ALL includes this entry. */
        abstract boolean appliesTo(QueueEntry entry);

        /** What became of a changed entry, for the report: "held". */
        abstract String done();

        /** Why {@link #apply} changed nothing in an entry that exists. */
        abstract String unchanged(QueueEntry entry);

        /** What the command does with no argument (flush: everything); by default it asks for one. */
        List<String> withoutArguments() {
            throw new CommandFailure("name the queue ids to change (" + SEE_LIST + "), or ALL");
        }

        /** Said after a change when the running server acts on it. */
        String then() {
            return "";
        }

        @Override
        public void run() {
            List<String> args = ids.isEmpty() ? withoutArguments() : ids;
            boolean all = args.stream().anyMatch(a -> a.equalsIgnoreCase("ALL"));
            if (all && args.size() > 1) {
                throw new CommandFailure("ALL stands alone: either ALL or queue ids");
            }
            List<QueueId> named = all ? List.of() : args.stream().map(QueueCommand::parse).toList();
            try (MailboxStore store = options.openStore()) {
                MailQueue queue = store.queue();
                List<QueueId> targets = all
                        ? queue.list().stream().filter(this::appliesTo).map(QueueEntry::id).toList() : named;
                int changed = 0;
                int refused = 0;
                for (QueueId id : targets) {
                    if (apply(queue, id)) {
                        changed++;
                        System.out.println(id + " " + done());
                    } else {
                        Optional<QueueEntry> entry = queue.details(id).map(QueueDetails::entry);
                        if (all && entry.isEmpty()) {
                            continue; // delivered or bounced since the list was read: nothing left to do
                        }
                        refused++;
                        System.err.println(entry.isPresent() ? unchanged(entry.get()) : missing(id));
                    }
                }
                System.out.println(changed + " message(s) " + done() + (changed > 0 ? then() : ""));
                if (refused > 0) {
                    throw new CommandFailure(refused + " of the " + targets.size() + " message(s) named: not " + done());
                }
            }
        }
    }

    @Command(name = "flush", mixinStandardHelpOptions = true,
            description = "Retry deferred mail now instead of at its next attempt (all, or the ids given); held mail stays held.")
    static final class Flush extends Retry {
        @Override
        List<String> withoutArguments() {
            return List.of("ALL");
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Retry the messages named now instead of at their next attempt (Postfix: postqueue -i).")
    static class Retry extends Change {
        @Override
        boolean apply(MailQueue queue, QueueId id) {
            return queue.retryNow(id);
        }

        @Override
        boolean appliesTo(QueueEntry entry) {
            return !entry.held();
        }

        @Override
        String done() {
            return "due now";
        }

        @Override
        String unchanged(QueueEntry entry) {
            return entry.id() + " is held: mailstack queue release " + entry.id() + " ends the hold and retries it";
        }

        @Override
        String then() {
            return "; the running server retries them within a second";
        }
    }

    @Command(name = "hold", mixinStandardHelpOptions = true, description = {
        "Keep the messages named (or ALL) in the queue, undelivered, until released (Postfix: postsuper -h).",
        "While held a message is neither retried nor expired nor warned about."})
    static final class Hold extends Change {
        @Override
        boolean apply(MailQueue queue, QueueId id) {
            return queue.hold(id);
        }

        @Override
        boolean appliesTo(QueueEntry entry) {
            return !entry.held();
        }

        @Override
        String done() {
            return "held";
        }

        @Override
        String unchanged(QueueEntry entry) {
            return entry.id() + " is already held";
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true, description = {
        "End the hold on the messages named (or ALL) and retry them now (Postfix: postsuper -H).",
        "One older than queue.max_lifetime_hours bounces if this attempt fails too."})
    static final class Release extends Change {
        @Override
        boolean apply(MailQueue queue, QueueId id) {
            return queue.release(id);
        }

        @Override
        boolean appliesTo(QueueEntry entry) {
            return entry.held();
        }

        @Override
        String done() {
            return "released";
        }

        @Override
        String unchanged(QueueEntry entry) {
            return entry.id() + " is not held (mailstack queue retry " + entry.id() + " retries it now)";
        }

        @Override
        String then() {
            return "; the running server retries them within a second";
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = {
        "Remove the messages named (or ALL) from the queue, without a bounce (Postfix: postsuper -d).",
        "A message being delivered at that moment goes to no further domain and gets no report."})
    static final class Delete extends Change {
        @Override
        boolean apply(MailQueue queue, QueueId id) {
            return queue.delete(id);
        }

        @Override
        boolean appliesTo(QueueEntry entry) {
            return true;
        }

        @Override
        String done() {
            return "deleted";
        }

        @Override
        String unchanged(QueueEntry entry) {
            return missing(entry.id());
        }
    }

    private static QueueId parse(String id) {
        try {
            return QueueId.parse(id);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("not a queue id: " + id + " (" + SEE_LIST + ")");
        }
    }

    private static String missing(QueueId id) {
        return "no queued message " + id + ": delivered, bounced or deleted already? (" + SEE_LIST + ")";
    }
}
