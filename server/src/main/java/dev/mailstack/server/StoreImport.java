package dev.mailstack.server;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxId;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.NewMessage;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Imported messages into one user's mailboxes: spooled, parsed once, appended in a transaction each. */
final class StoreImport implements ImportTarget {
    private final MailboxStore store;
    private final StoreSession user;
    /** The configured mime.* limits, as SMTP intake and IMAP APPEND parse with (STYLE.md R6). */
    private final MimeLimits limits;
    /** The folders this import has subscribed already. */
    private final Set<MailboxName> subscribed = new HashSet<>();

    StoreImport(MailboxStore store, StoreSession user, MimeLimits limits) {
        this.store = store;
        this.user = user;
        this.limits = limits;
    }

    @Override
    public void ensure(MailboxName mailbox) {
        if (user.find(mailbox).isEmpty()) {
            user.create(mailbox, Optional.empty());
        }
    }

    /**
     * A folder the import puts mail in is subscribed, as Dovecot's autosubscribe does: Thunderbird
     * shows only subscribed folders, and imported mail must not land in one it hides (a parent an
     * earlier import made for its child, say). One it leaves empty is left as it was.
     */
    private void subscribeOnce(MailboxName mailbox) {
        if (subscribed.add(mailbox)) {
            user.subscribe(mailbox, true);
        }
    }

    @Override
    public Draft draft() throws IOException {
        return new SpoolDraft(store.spool());
    }

    private final class SpoolDraft extends Draft {
        private final MessageSpool spool;

        SpoolDraft(MessageSpool spool) {
            this.spool = spool;
        }

        @Override
        public void write(int b) throws IOException {
            spool.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            spool.write(b, off, len);
        }

        @Override
        void store(MailboxName mailbox, Flags flags, Instant internalDate) throws IOException {
            MessageSpool.Spooled m = spool.finish();
            try {
                MessageFacts facts;
                try (InputStream in = m.open()) {
                    MessageSummary.ParsedMessage p = MessageSummary.parse(in, limits);
                    facts = new MessageFacts(p.size(), p.headerSize(), p.bodyLines(), p.summary().encode());
                }
                MailboxId target = user.require(mailbox).id(); // before the transaction takes its connection
                // content synced before the mailbox is locked: an import beside a running server
                // does not hold up the user's mail program or deliveries for each file's sync
                user.append(target, List.of(new NewMessage(m, facts, flags, internalDate)));
                subscribeOnce(mailbox);
            } finally {
                m.discard();
            }
        }

        @Override
        public void close() throws IOException {
            spool.close();
        }
    }
}
