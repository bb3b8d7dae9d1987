package dev.mailstack.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Builds spooled messages and matching facts for store tests (and for other modules' tests). */
public final class TestMessages {
    private TestMessages() {
    }

    public static MessageSpool.Spooled spool(MailboxStore store, String text) throws IOException {
        return spool(store, text.getBytes(StandardCharsets.UTF_8));
    }

    public static MessageSpool.Spooled spool(MailboxStore store, byte[] octets) throws IOException {
        try (MessageSpool spool = store.spool()) {
            spool.write(octets);
            return spool.finish();
        }
    }

    /** Facts with a plausible header size; the summary is opaque to the store, so any bytes do. */
    public static MessageFacts facts(MessageSource source) {
        return new MessageFacts(source.size(), Math.min(source.size(), 10), 1, new byte[]{1, 2, 3});
    }

    public static Uid append(StoreSession session, MailboxId mailbox, String text) throws IOException {
        return append(session, mailbox, text.getBytes(StandardCharsets.UTF_8));
    }

    public static Uid append(StoreSession session, MailboxId mailbox, byte[] octets) throws IOException {
        MessageSpool.Spooled s = spool(session.store(), octets);
        try (Transaction t = session.begin()) {
            Uid uid = t.append(mailbox, s, facts(s), Flags.NONE, java.time.Instant.now(), java.util.Optional.empty())
                    .orElseThrow();
            t.commit();
            return uid;
        } finally {
            s.discard();
        }
    }

    public static void writeRepeated(OutputStream out, byte[] chunk, long total) throws IOException {
        for (long written = 0; written < total; written += chunk.length) {
            out.write(chunk, 0, (int) Math.min(chunk.length, total - written));
        }
    }
}
