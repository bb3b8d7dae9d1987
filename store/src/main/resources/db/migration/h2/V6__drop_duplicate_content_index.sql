-- H2 only. H2 gives each REFERENCES its own index, so messages_content (V1) duplicated the index of
-- the content_id foreign key, and H2 maintains every index of a row on each UPDATE: STORE on 10,000
-- messages paid for it row by row. PostgreSQL creates no index for a foreign key; there
-- messages_content is the only one and stays.
DROP INDEX IF EXISTS messages_content;
