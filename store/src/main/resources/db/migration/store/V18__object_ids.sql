-- RFC 8474 OBJECTID. A mailbox's MAILBOXID: made at random when the mailbox is created, kept across
-- RENAME (the row stays, only its name changes) and never given to another mailbox (§4). Mailboxes
-- from before this version get one from their row id and UIDVALIDITY, unique and stable as the rows
-- are; random ids for them would need SQL that H2 and PostgreSQL do not share. IF NOT EXISTS: as in
-- V16, a server killed before Flyway recorded the version runs this again at its next start.
ALTER TABLE mailboxes ADD COLUMN IF NOT EXISTS object_id VARCHAR(255);
UPDATE mailboxes SET object_id = 'F' || CAST(id AS VARCHAR(20)) || '-' || CAST(uid_validity AS VARCHAR(20))
    WHERE object_id IS NULL;
ALTER TABLE mailboxes ALTER COLUMN object_id SET NOT NULL;

-- Keys the server makes for itself once, at random, and keeps with the data (a backup carries them):
-- 'emailid' keys the MAC that turns a content's SHA-256 into its EMAILID (MailboxStore.emailId).
CREATE TABLE IF NOT EXISTS server_keys (
    name   VARCHAR(64) NOT NULL PRIMARY KEY,
    secret VARBINARY(64) NOT NULL
);
