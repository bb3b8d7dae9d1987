-- mailstack queue retry/release during a delivery attempt: the attempt, when it records its
-- outcome, leaves the entry due instead of setting its own retry time. A flag rather than a
-- comparison of times, so a clock stepped back by NTP cannot lose the administrator's retry.
ALTER TABLE queue_messages ADD COLUMN retry_asked BOOLEAN NOT NULL DEFAULT FALSE;
