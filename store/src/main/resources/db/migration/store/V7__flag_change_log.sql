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

-- messages again, with its primary key as its only index: no index on modseq (the log above
-- replaces it) and no foreign key to contents (the content sweep finds unused contents by
-- reading every message's content_id once, which needs no index).
CREATE TABLE messages_v7 (
    mailbox_id     BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid            BIGINT NOT NULL,
    content_id     BIGINT NOT NULL,
    modseq         BIGINT NOT NULL,
    internal_date  TIMESTAMP WITH TIME ZONE NOT NULL,
    flags          INTEGER NOT NULL,
    keywords       VARCHAR(4000) NOT NULL DEFAULT '',
    PRIMARY KEY (mailbox_id, uid)
);
INSERT INTO messages_v7 (mailbox_id, uid, content_id, modseq, internal_date, flags, keywords)
    SELECT mailbox_id, uid, content_id, modseq, internal_date, flags, keywords FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v7 RENAME TO messages;
