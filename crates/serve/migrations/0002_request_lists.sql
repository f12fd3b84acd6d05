-- The administrators' search and the reports read requests by workflow, status and date.
CREATE INDEX requests_by_workflow ON requests (workflow, status, created_ms);
CREATE INDEX requests_by_creator ON requests (creator, created_ms);
CREATE INDEX steps_by_time ON steps (at_ms);
