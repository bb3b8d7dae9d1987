-- mailstack inbound checks: a message whose author domain asks for quarantine (DMARC p=quarantine)
-- is delivered to the recipient's Junk mailbox rather than the INBOX.
ALTER TABLE queue_messages ADD COLUMN junk BOOLEAN NOT NULL DEFAULT FALSE;
