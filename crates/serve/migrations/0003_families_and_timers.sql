-- Sub-workflows and deadlines (docs/serve.md): the request that started a request (`start`),
-- and when a request's next deadline timer falls, so the timer task finds the due ones cheaply.
ALTER TABLE requests ADD COLUMN parent_id BIGINT;
ALTER TABLE requests ADD COLUMN next_due_ms BIGINT;
CREATE INDEX requests_by_due ON requests (next_due_ms);
CREATE INDEX requests_by_parent ON requests (parent_id);

-- Every reminder a step put in a request's outbox (deadlines' `remind`, `supervise`), for a
-- host to deliver: the request's state keeps them too, this table lists them across requests.
CREATE TABLE outbox (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    step_number BIGINT NOT NULL,
    position BIGINT NOT NULL,
    at TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    channel TEXT NOT NULL,
    recipients TEXT NOT NULL,
    text TEXT NOT NULL,
    node TEXT NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (request_id, step_number, position)
);
CREATE INDEX outbox_by_time ON outbox (at_ms);
