-- Expunged UIDs with the modseq of their removal, so a session view learns what vanished since it
-- last looked (and CONDSTORE/QRESYNC can answer VANISHED later).
CREATE TABLE expunged (
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid         BIGINT NOT NULL,
    modseq      BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

-- Each (mailbox, queue id + recipient) delivered once: a retry after a crash becomes a no-op.
CREATE TABLE deliveries (
    mailbox_id    BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    delivery_key  VARCHAR(400) NOT NULL,
    uid           BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, delivery_key)
);
