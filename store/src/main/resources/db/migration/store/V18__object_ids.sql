-- RFC 8474 OBJECTID. A mailbox's MAILBOXID: made at random when the mailbox is created, kept across
-- RENAME (the row stays, only its name changes) and never given to another mailbox (§4). Mailboxes
-- from before this version get random ones too, from the same generator, in version 18.1
-- (RandomMailboxIds, a Java migration: SQL that makes random ids is not shared by H2 and
-- PostgreSQL), which then makes the column NOT NULL. IF NOT EXISTS: as in V16, a server killed
-- before Flyway recorded the version runs this again at its next start.
ALTER TABLE mailboxes ADD COLUMN IF NOT EXISTS object_id VARCHAR(255);

-- Keys the server makes for itself once, at random, and keeps with the data (a backup carries them):
-- 'emailid' keys the MAC that turns a content's SHA-256 into its EMAILID (MailboxStore.emailId).
CREATE TABLE IF NOT EXISTS server_keys (
    name   VARCHAR(64) NOT NULL PRIMARY KEY,
    secret VARBINARY(64) NOT NULL
);
