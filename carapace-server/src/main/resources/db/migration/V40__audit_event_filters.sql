-- The audit explorer's action and outcome filters on indexes, not scans (issue 20). Without them
-- a filter walked the trail backwards from its newest event until it had a page: 25,000 rows read
-- for "denied" or "failure" behind a morning of successful reads (5-16 ms of PostgreSQL a page at
-- 1,000,000 events), and without bound on a trail where the filtered kind is rare.
--
-- CONCURRENTLY (this script runs outside a transaction: V40__audit_event_filters.sql.conf): the
-- trail takes every PHI access's event, and a plain CREATE INDEX would hold off those writes (and
-- so every read of a record: no audit, no PHI) for as long as the build takes on a large trail. If
-- a build is interrupted, PostgreSQL leaves the index INVALID; drop it and start the server again.
-- Ending in id, the index is in the explorer's exact order (recorded_at desc, id desc, read backwards):
-- with (action, recorded_at) alone PostgreSQL preferred event_recorded, expecting a common action to
-- turn up every few rows, and read 25,000 newer events of other kinds first.
create index concurrently if not exists event_action on audit.event (action, recorded_at, id);
-- Refusals and failures are few in a healthy trail: a partial index keeps every other insert free of it.
create index concurrently if not exists event_failure on audit.event (recorded_at, id) where outcome = 'failure';
