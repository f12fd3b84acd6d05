-- Request ids on SQLite stay drawn from the `counters` row inside the create's transaction (one
-- writer at a time: nothing queues on it). PostgreSQL's version of this migration
-- (0004_request_ids.postgres.sql) moves them to a sequence.
SELECT 1;
