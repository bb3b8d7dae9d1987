-- Message IDs the Sieve duplicate test (RFC 7352) has seen, per account. id_hash is the SHA-256 of
-- the test's :handle and unique ID (a Message-ID, a header's value or :uniqueid), hex: IDs of any
-- length in a fixed-size key. A row counts until expires_at and is pruned after it. Rows are written
-- only once the message was delivered (RFC 7352 §3), never during the script's run. queue_id is the
-- queued message whose delivery wrote (or, with :last, renewed) the row: when that message is tried
-- again (a forward of it could not be queued, the process died before its outcome was recorded) it
-- is not a duplicate of itself.
CREATE TABLE sieve_duplicates (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id_hash     CHAR(64) NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    queue_id    BIGINT NOT NULL,
    PRIMARY KEY (account_id, id_hash)
);
