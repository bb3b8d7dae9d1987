-- The octets of small messages, kept with their content row instead of in a file of their own
-- (MessageSpool.IN_MEMORY_MAX); a content with a row here has no file under contents/.
CREATE TABLE content_octets (
    content_id BIGINT NOT NULL PRIMARY KEY REFERENCES contents (id) ON DELETE CASCADE,
    octets     VARBINARY(1048576) NOT NULL
);
