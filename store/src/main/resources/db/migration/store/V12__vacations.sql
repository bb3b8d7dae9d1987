-- Out-of-office replies (RFC 5230 vacation, RFC 3834 automatic responses), set by the administrator.
-- One row per account with a vacation; none means no replies. ends_at NULL: until cleared; a row
-- past its ends_at counts as none. VARCHAR with a bound rather than TEXT or CLOB: the one type H2
-- and PostgreSQL both take, and a bound the store checks (Vacation.MAX_BODY_CHARS).
CREATE TABLE vacations (
    account_id  BIGINT NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    subject     VARCHAR(998) NOT NULL,
    body        VARCHAR(65536) NOT NULL,
    ends_at     TIMESTAMP WITH TIME ZONE
);

-- Who was answered when: one reply per sender per interval (RFC 5230 §4.6 :days, RFC 3834 §2).
-- sender is the envelope sender in lower case. Rows older than the interval are pruned when the
-- account next replies, and all of them go when the vacation is set again or cleared.
CREATE TABLE vacation_replies (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender      VARCHAR(320) NOT NULL,
    replied_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (account_id, sender)
);
