-- The alert outbox's senders take alerts by lease (review of ADR 0036, finding 15; ADR 0041): a sender
-- claims a due alert in a short transaction of its own (FOR UPDATE SKIP LOCKED, claimed_by and
-- claimed_until set, committed), delivers it outside any transaction, and records the outcome in a
-- transaction of its own, clearing the claim. Another sender skips a claimed alert until its lease
-- runs out: a sender that died between delivery and record leaves only that alert to be sent again,
-- with the same idempotency key.
alter table incident.alert_outbox
    add column claimed_by    uuid,
    add column claimed_until timestamptz;
