-- Per-mailbox counts kept by every transaction that adds, removes or re-flags messages, so STATUS
-- (which Thunderbird sends for every folder it polls) reads one row instead of scanning the mailbox.
-- Portable SQL: MOD instead of a bitwise AND (flags bit 1 is \Seen, bit 8 is \Deleted).
ALTER TABLE mailboxes ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN unseen_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN deleted_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN total_size BIGINT NOT NULL DEFAULT 0;

UPDATE mailboxes SET
    message_count = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
    unseen_count = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND MOD(m.flags, 2) = 0),
    deleted_count = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND MOD(m.flags / 8, 2) = 1),
    total_size = (SELECT COALESCE(SUM(c.size), 0) FROM messages m JOIN contents c ON c.id = m.content_id
                  WHERE m.mailbox_id = mailboxes.id);
