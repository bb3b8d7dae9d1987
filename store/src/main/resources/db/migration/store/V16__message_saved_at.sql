-- When each message was put into its mailbox (delivered, appended, copied or moved there): the
-- "save date" of RFC 8514 that Dovecot's autoexpunge counts from, so mail moved to Trash today is
-- kept its full period however old it is. Rows from before this version count as saved now, the
-- day of the upgrade, so turning on autoexpunge never removes old mail at once.
-- H2 adds a column by copying the table (minutes on a store of millions of messages; the systemd
-- unit's start timeout allows for it). IF NOT EXISTS: a server killed after the copy but before
-- Flyway recorded the version runs this again at its next start (PostgreSQL 9.6+ knows it too).
ALTER TABLE messages ADD COLUMN IF NOT EXISTS saved_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL;
