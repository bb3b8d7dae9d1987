package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "queue", mixinStandardHelpOptions = true, description = "Inspect the mail queue.",
        subcommands = {QueueCommand.ListQueue.class, QueueCommand.Flush.class})
final class QueueCommand {
    @Command(name = "flush", mixinStandardHelpOptions = true,
            description = "Retry deferred mail now instead of at its next attempt (all, or the IDs given).")
    static final class Flush implements Runnable {
        @Mixin
        StoreOptions options;
        @picocli.CommandLine.Parameters(paramLabel = "ID", arity = "0..*", description = "Queue ids as listed, e.g. Q1A")
        java.util.List<String> ids = new java.util.ArrayList<>();

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                java.util.List<dev.mailstack.store.QueueId> targets = new java.util.ArrayList<>();
                if (ids.isEmpty()) {
                    store.queue().list().forEach(e -> targets.add(e.id()));
                } else {
                    for (String id : ids) {
                        try {
                            targets.add(dev.mailstack.store.QueueId.parse(id));
                        } catch (IllegalArgumentException e) {
                            throw new CommandFailure("not a queue id: " + id + " (see mailstack queue list)");
                        }
                    }
                }
                targets.forEach(store.queue()::release);
                System.out.println("released " + targets.size() + " message(s); the running server retries them within a second");
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List queued messages, oldest first.")
    static final class ListQueue implements Runnable {
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                for (QueueEntry e : store.queue().list()) {
                    System.out.printf("%s from=<%s> size=%d received=%s next=%s pending=%d last=%s%n", e.id(), e.returnPath(),
                            e.size(), e.receivedAt(), e.nextAttempt(), e.pendingRecipients(),
                            e.lastReply() == null ? "-" : e.lastReply());
                }
            }
        }
    }
}
