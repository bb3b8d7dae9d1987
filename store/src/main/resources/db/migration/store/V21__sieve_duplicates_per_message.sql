-- The Sieve duplicate test's memory (RFC 7352) gets a row per message that looked at an ID, with
-- the answer its test gave (was_duplicate), in place of one row per ID that a :last moved from
-- message to message. With one row, a message whose first attempt filed it and tracked its ID but
-- could not queue what its script did next (a redirect) lost it for good when a later copy's :last
-- took the row: its retry then found the ID "seen by another message". Now a message asked again
-- gets the answer it got the first time, and another message asks whether any other row is
-- unexpired; :last only gives the later copy's own row a later expiry. Rows are written in the
-- transaction that files the message (LocalDelivery), so they exist exactly when its copy does.
-- A new table copied and renamed, as dropping a primary key is said differently by H2 and
-- PostgreSQL; rows from before count as answers of "not a duplicate", which is what a first
-- delivery's answer was, or did not matter once delivered.
CREATE TABLE sieve_duplicates_v21 (
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id_hash        CHAR(64) NOT NULL,
    queue_id       BIGINT NOT NULL,
    expires_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    was_duplicate  BOOLEAN NOT NULL,
    PRIMARY KEY (account_id, id_hash, queue_id)
);
INSERT INTO sieve_duplicates_v21 (account_id, id_hash, queue_id, expires_at, was_duplicate)
    SELECT account_id, id_hash, queue_id, expires_at, FALSE FROM sieve_duplicates;
DROP TABLE sieve_duplicates;
ALTER TABLE sieve_duplicates_v21 RENAME TO sieve_duplicates;
