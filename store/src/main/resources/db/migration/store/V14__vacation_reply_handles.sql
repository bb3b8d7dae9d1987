-- Replies tracked per vacation action (RFC 5230 §4.2 :handle): a Sieve script may hold several,
-- each with its own :days or :seconds, so a row says when it lapses rather than when it was sent
-- (a short interval's pruning must not forget a long one's replies). handle is '' for the
-- administrator's vacation (`mailstack user vacation`). V12's rows are not carried over: they
-- track at most the last week, after which a sender who wrote meanwhile may hear once more.
DROP TABLE vacation_replies;
CREATE TABLE vacation_replies (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender      VARCHAR(320) NOT NULL,
    handle      VARCHAR(64) NOT NULL,
    lapses_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (account_id, sender, handle)
);
