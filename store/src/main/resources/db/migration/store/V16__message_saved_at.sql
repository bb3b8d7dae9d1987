-- When each message was put into its mailbox (delivered, appended, copied or moved there): the
-- "save date" of RFC 8514 that Dovecot's autoexpunge counts from, so mail moved to Trash today is
-- kept its full period however old it is. Rows from before this version count as saved now, the
-- day of the upgrade, so turning on autoexpunge never removes old mail at once.
ALTER TABLE messages ADD COLUMN saved_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL;
