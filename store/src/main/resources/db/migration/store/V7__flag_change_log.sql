-- Sessions find other sessions' flag changes through this log of UID ranges instead of through an
-- index on messages.modseq. Each UPDATE of a message row rewrites every index of the row (H2 2.3
-- removes and re-adds the row in each), so STORE 1:* on 10,000 messages paid for the modseq index
-- and for the content_id foreign key's index on every row: together more than half its time.
-- A row here says that messages first_uid..last_uid may have changed at modseq; readers check each
-- message's own modseq. Rows no open session still needs are pruned by the next flag change.
CREATE TABLE flag_changes (
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    modseq      BIGINT NOT NULL,
    first_uid   BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL
);
CREATE INDEX flag_changes_modseq ON flag_changes (mailbox_id, modseq);

-- messages again, with one index: a single BIGINT key, mailbox_id * 2^32 + uid (UIDs are 32-bit,
-- RFC 3501 §2.3.1.1), which H2 uses as the row key itself. A composite key is a second index
-- beside H2's row-id map, and so was each foreign key (H2 gives every REFERENCES its own index):
-- no index on modseq (the log above replaces it), no foreign key to contents (the content sweep
-- reads every message's content_id in one pass) and none to mailboxes (deleting a mailbox deletes
-- its key range). On 10,000 rows an UPDATE and commit took 106 ms with the old table, 27 ms with this.
CREATE TABLE messages_v7 (
    id             BIGINT NOT NULL PRIMARY KEY,
    mailbox_id     BIGINT NOT NULL,
    uid            BIGINT NOT NULL,
    content_id     BIGINT NOT NULL,
    modseq         BIGINT NOT NULL,
    internal_date  TIMESTAMP WITH TIME ZONE NOT NULL,
    flags          INTEGER NOT NULL,
    keywords       VARCHAR(4000) NOT NULL DEFAULT ''
);
INSERT INTO messages_v7 (id, mailbox_id, uid, content_id, modseq, internal_date, flags, keywords)
    SELECT mailbox_id * 4294967296 + uid, mailbox_id, uid, content_id, modseq, internal_date, flags, keywords
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v7 RENAME TO messages;
