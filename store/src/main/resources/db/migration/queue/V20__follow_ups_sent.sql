-- What the deliveries of a queue entry have sent on for an account once and must not send again:
-- a Sieve redirect (RFC 5228 §4.2), notification (RFC 5435) or vacation reply (RFC 5230). A
-- message reaches an account through several addresses (alice@, alice+tag@, an alias of hers),
-- each a recipient of its own with its own attempts, and each runs the account's script; the
-- first attempt that records one of them delivered writes this row in the transaction that
-- queues the follow-up, and a later attempt, for another of them, finds it and queues none.
-- action_hash is the SHA-256 (hex) of what was sent, e.g. "redirect" and its targets: a fixed-
-- size key for a target or a notify method of any length. The rows go with the entry (ON DELETE
-- CASCADE): an entry once deleted is never tried again, and queue ids are never handed out twice.
CREATE TABLE follow_ups_sent (
    queue_id     BIGINT NOT NULL REFERENCES queue_messages (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action_hash  CHAR(64) NOT NULL,
    PRIMARY KEY (queue_id, account_id, action_hash)
);
