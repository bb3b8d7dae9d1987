package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "queue", mixinStandardHelpOptions = true, description = "Inspect the mail queue.",
        subcommands = {QueueCommand.ListQueue.class})
final class QueueCommand {
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
