package dev.mailstack.store;

/** What changed in a mailbox since a view last looked; the view applies these at safe points. */
public sealed interface MailboxChange {
    Uid uid();

    record Added(MessageRef message) implements MailboxChange {
        @Override
        public Uid uid() {
            return message.uid();
        }
    }

    record FlagsChanged(MessageRef message) implements MailboxChange {
        @Override
        public Uid uid() {
            return message.uid();
        }
    }

    record Expunged(Uid uid, long modSeq) implements MailboxChange {
    }
}
