package dev.mailstack.store;

import java.nio.file.Path;

/** Runs in a child JVM for {@link DurabilityTest}: commits messages and prints each commit, until killed. */
public final class DurabilityChild {
    private DurabilityChild() {
    }

    public static void main(String[] args) throws Exception {
        StoreFixture f = StoreFixture.create(Path.of(args[0]));
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        // every other message past the memory limit: kept in a file of its own, not in the database
        String large = "x".repeat(76).concat("\r\n").repeat(MessageSpool.IN_MEMORY_MAX / 78 + 1);
        for (int i = 0; ; i++) {
            Uid uid = TestMessages.append(s, inbox, "Subject: durable\r\n\r\nnumber " + i + "\r\n" + (i % 2 == 1 ? large : ""));
            System.out.println("committed " + uid.value());
            System.out.flush();
        }
    }
}
