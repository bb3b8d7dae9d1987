-- mailstack queue hold: a held message is never claimed (so neither retried, warned about nor
-- expired) until mailstack queue release, like Postfix's hold queue (postsuper -h / -H).
ALTER TABLE queue_messages ADD COLUMN held BOOLEAN NOT NULL DEFAULT FALSE;
