-- Breach-response drills (issue 15, docs/INCIDENTS.md "Drills"): one row per drill played against
-- the live server. References and durations only: the synthetic principals are drill-* clients,
-- the incident is labelled drill (kept out of breach counts and clocks).
create table incident.drill (
    id                     uuid        primary key,
    scenario               text        not null,
    started_at             timestamptz not null,
    finished_at            timestamptz not null,
    run_by                 text        not null,
    outcome                text        not null,
    incident_id            uuid,
    detect_ms              bigint,
    acknowledge_ms         bigint,
    contain_ms             bigint,
    acknowledged_by_person boolean     not null
);
create index drill_started on incident.drill (started_at);

grant select, insert on incident.drill to ${phi_role};

-- Containment: roles suspended for everyone who holds them (issue 15), read with the blocks and
-- the lockdown on every request (the same announcement and counter as V19_1). A row per
-- suspension, kept when lifted: the history of who suspended what, for which incident.
create table incident.suspended_role (
    id           uuid        primary key,
    role         text        not null,
    incident_id  uuid        references incident.incident (id),
    suspended_by text        not null,
    suspended_at timestamptz not null,
    lifted_at    timestamptz,
    lifted_by    text
);
create unique index suspended_role_active on incident.suspended_role (role) where lifted_at is null;

create trigger suspended_role_changed after insert or update or delete on incident.suspended_role
    for each statement execute function incident.announce_containment_change();
alter table incident.suspended_role enable always trigger suspended_role_changed;

grant select, insert, update on incident.suspended_role to ${phi_role};
