-- Global positions stop at 2^53 - 1 (rules::MAX_GLOBAL_POSITION, the largest integer JavaScript
-- represents exactly): a write past it fails with sequence_generator_limit_exceeded, which
-- messagedb answers as "no global positions left", instead of taking positions JS clients cannot
-- read. A schema already past the limit (an adopted Message DB database) keeps its sequence.
DO $$
DECLARE
    _seq text := pg_get_serial_sequence('messages', 'global_position');
    _last bigint;
BEGIN
    IF _seq IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT last_value FROM %s', _seq) INTO _last;
    IF _last < 9007199254740991 THEN
        EXECUTE format('ALTER SEQUENCE %s MAXVALUE 9007199254740991', _seq);
    END IF;
END;
$$;
