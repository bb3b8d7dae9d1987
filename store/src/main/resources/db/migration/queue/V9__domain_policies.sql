-- Policies destination domains publish for the mail sent to them (MTA-STS, RFC 8461), kept across
-- restarts. A sender caches them until their max_age (RFC 8461 §5.1); one that forgot an enforce
-- policy when it restarted would be downgraded by whoever blocks its discovery just then (§10.2).
-- The store keeps the text as fetched and never parses it; one row per domain, the latest fetch.
CREATE TABLE domain_policies (
    domain      VARCHAR(255) NOT NULL PRIMARY KEY,
    policy_id   VARCHAR(64) NOT NULL,
    policy      VARCHAR(65536) NOT NULL,
    fetched_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
