-- A subscription is a name, not a mailbox (RFC 3501 §6.3.6, RFC 9051 §6.3.7): the server must not
-- drop it when the mailbox goes, and LIST (SUBSCRIBED) shows it \NonExistent until a mailbox of
-- that name is made again. Names as mailboxes.name keeps them (INBOX in capitals, NFC).
CREATE TABLE subscriptions (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        VARCHAR(1024) NOT NULL,
    PRIMARY KEY (account_id, name)
);

INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed;

ALTER TABLE mailboxes DROP COLUMN subscribed;
