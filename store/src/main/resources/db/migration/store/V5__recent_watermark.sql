-- RFC 3501 §2.3.2 \Recent: a message is recent to the first session that sees it. recent_uid is the
-- highest UID some session has already taken as recent; what is above it is still recent to the
-- next session that selects the mailbox. Mail stored before this version counts as seen.
ALTER TABLE mailboxes ADD COLUMN recent_uid BIGINT NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uid_next - 1;
