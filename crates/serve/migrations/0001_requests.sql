-- flowc serve: the first schema. Portable SQL (SQLite and PostgreSQL alike).

-- Each version of the program a request was created on, with the files it was built from.
CREATE TABLE versions (
    hash TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    files TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per request: its saved state (the runtime's state JSON) and a version number that
-- every write increments (optimistic concurrency).
CREATE TABLE requests (
    id BIGINT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version_hash TEXT NOT NULL REFERENCES versions (hash),
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    node TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    row_version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- Who may see a request and why: creator, pending (replaced at every write), operator (of
-- any node it reached), handled (acted on it), forwarded, cc.
CREATE TABLE participants (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    person TEXT NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (request_id, person, relation)
);
CREATE INDEX participants_by_person ON participants (person, relation);

-- Every step (0: the creation), with the step JSON that answered it.
CREATE TABLE steps (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    number BIGINT NOT NULL,
    person TEXT NOT NULL,
    action TEXT NOT NULL,
    node TEXT NOT NULL,
    at TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    waited_ms BIGINT NOT NULL,
    step TEXT NOT NULL,
    PRIMARY KEY (request_id, number)
);

-- The answer given to an action that carried an Idempotency-Key, per person.
CREATE TABLE idempotency (
    person TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_id BIGINT NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (person, idempotency_key)
);

-- Bearer tokens, by the SHA-256 of the token (the token itself is never stored).
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Counters: request ids, and each workflow's serial numbers (流程编号).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
