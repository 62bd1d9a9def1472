-- Incident alerts through a durable outbox (issue 15 M7, issue 21 item 3; docs/INCIDENTS.md "Alerts",
-- ADR 0036). An alert is written here in the transaction that has something to say (an incident
-- opened, escalated, a clock overdue) and delivered afterwards by one sender at a time, retried with
-- back-off until delivered or, after give-up-after, dead. References and codes only: the alert's
-- words are made from the incident when it is sent; nothing here names a patient or a person.
create table incident.alert_outbox (
    id              uuid        primary key,
    queue           text        not null,   -- 'alerts' (tests run queues of their own beside it)
    incident_id     uuid        not null references incident.incident (id),
    kind            text        not null,   -- opened, escalated, overdue:<clock>
    channel         text        not null check (channel in ('email', 'webhook')),
    contact         text        not null check (contact in ('primary', 'escalation')),
    created_at      timestamptz not null,
    next_attempt_at timestamptz not null,
    attempts        integer     not null default 0,
    delivered_at    timestamptz,
    dead_at         timestamptz
);
create index alert_outbox_due on incident.alert_outbox (queue, next_attempt_at)
    where delivered_at is null and dead_at is null;
create index alert_outbox_dead on incident.alert_outbox (incident_id) where dead_at is not null;

-- Every delivery attempt: when, how it ended and why, as a code (an HTTP status, an exception's
-- class name), never a message that might quote a server's answer.
create table incident.alert_attempt (
    id       bigint      generated always as identity primary key,
    alert_id uuid        not null references incident.alert_outbox (id),
    at       timestamptz not null,
    outcome  text        not null check (outcome in ('delivered', 'failed', 'dead')),
    detail   text
);
create index alert_attempt_alert on incident.alert_attempt (alert_id, id);

-- The overdue clocks already raised, one row per incident and clock: an overdue clock is alerted
-- once, by one node, and a restart does not raise it again. alerted is false for a deadline that had
-- passed longer than the catch-up window before anyone saw it (recorded, shown, not mailed).
create table incident.clock_alert (
    incident_id uuid        not null references incident.incident (id),
    clock       text        not null,
    due_at      timestamptz not null,
    raised_at   timestamptz not null,
    alerted     boolean     not null,
    primary key (incident_id, clock)
);

grant select, insert, update on incident.alert_outbox to ${phi_role};
grant select, insert on incident.alert_attempt, incident.clock_alert to ${phi_role};
