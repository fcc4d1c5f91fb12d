-- Namespace schemas are named ns_<id, at most 40 characters>#<number>, the number from this
-- sequence: unique by construction (no id can produce another's name, and a namespace deleted and
-- created again gets a new schema, so a process still holding the old one never reaches the new
-- one's messages).
CREATE SEQUENCE messagedb.namespace_schemas;
