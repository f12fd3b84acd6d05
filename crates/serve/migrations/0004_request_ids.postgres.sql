-- Request ids on PostgreSQL come from a sequence: `nextval` takes no row lock and needs no
-- commit of its own, so concurrent creates (on one server or several) no longer queue on the
-- `counters` row, each holding it for the length of a commit's flush. It starts after every id
-- drawn so far (the counter's and the stored rows'), so an upgraded database keeps its ids
-- unique; the counter's row goes, so that nothing reads a stale one. A create rolled back
-- leaves a gap: ids are unique and increasing, not dense.
CREATE SEQUENCE request_ids AS BIGINT;
SELECT setval(
    'request_ids',
    GREATEST((SELECT MAX(value) FROM counters WHERE name = 'request'), (SELECT MAX(id) FROM requests), 0) + 1,
    false
);
DELETE FROM counters WHERE name = 'request';
