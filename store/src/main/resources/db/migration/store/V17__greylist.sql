-- Greylisting (smtp.greylist, as postgrey): the triplets of client network, envelope sender and
-- recipient seen on the MX port. triplet_hash is the SHA-256 of the three, hex: a fixed-size key
-- that also keeps addresses out of the table, as postgrey's --privacy. first_seen is the first
-- refused attempt; passed_at is null until a retry came after the delay, then the last pass
-- (renewed at most hourly, so a busy correspondent does not cost a write per message).
-- expires_at is first_seen plus the retry window until the triplet passes, then passed_at plus the
-- maximum age: a row past it counts as never seen, and housekeeping deletes it.
CREATE TABLE greylist_triplets (
    triplet_hash CHAR(64) NOT NULL PRIMARY KEY,
    first_seen   TIMESTAMP WITH TIME ZONE NOT NULL,
    passed_at    TIMESTAMP WITH TIME ZONE,
    expires_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX greylist_triplets_expiry ON greylist_triplets (expires_at);

-- Client networks (IPv4 /24, IPv6 /64) and how many triplets of theirs passed greylisting, at most
-- one counted an hour (postgrey's --auto-whitelist-clients); a network with enough passes is not
-- greylisted until expires_at, the maximum age after its last pass, renewed at most hourly.
CREATE TABLE greylist_clients (
    network     VARCHAR(64) NOT NULL PRIMARY KEY,
    passes      INTEGER NOT NULL,
    last_pass   TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX greylist_clients_expiry ON greylist_clients (expires_at);
