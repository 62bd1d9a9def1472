-- Breach response (issue 15, docs/INCIDENTS.md): detector state, incidents and their timelines.
-- Nothing here is PHI: patients are 'Patient/<uuid>' references, people their principal, audit
-- events their ids, a user's family name only its blind-index token (never the name).

create schema if not exists incident;

-- Where the detectors have got to in the sealed audit trail (leaf order); one reader at a time
-- across nodes (advisory lock), moved forward in the transaction that stores what it found.
create table incident.reader_position (
    reader    text   primary key,
    last_leaf bigint not null
);

-- Set by a privacy officer (audited): the Patient a principal is (self-access) and the
-- blind-index token of the principal's family name (same-family-name), under the index key version.
create table incident.principal_link (
    principal            text        primary key,
    patient              text,
    family_token         integer,
    family_token_version integer,
    set_by               text        not null,
    set_at               timestamptz not null
);
create index principal_link_patient on incident.principal_link (patient);

-- Patients flagged by a privacy officer (audited): VIP, or an employee (coworker access).
create table incident.patient_flag (
    patient  text        primary key,
    vip      boolean     not null,
    employee boolean     not null,
    set_by   text        not null,
    set_at   timestamptz not null
);

-- The distinct patients each principal touched per hour: the volume detector's baseline (14 days).
create table incident.hour_patient (
    principal  text        not null,
    hour_start timestamptz not null,
    patient    text        not null,
    primary key (principal, hour_start, patient)
);

-- How many accesses each principal made at each hour of the day: the unusual-hours history.
create table incident.hour_of_day (
    principal text    not null,
    hour      integer not null check (hour between 0 and 23),
    accesses  bigint  not null,
    primary key (principal, hour)
);

-- One row per incident. dedup_key = detector + subject + window start: a detection in the same
-- window joins the incident instead of opening another.
create table incident.incident (
    id              uuid        primary key,
    dedup_key       text        not null unique,
    detector        text        not null,
    severity        text        not null,
    principal       text,
    address         text,
    state           text        not null,
    drill           boolean     not null default false,
    first_event_at  timestamptz not null,
    last_event_at   timestamptz not null,
    detected_at     timestamptz not null,
    events          integer     not null,
    acknowledged_at timestamptz,
    acknowledged_by text,
    contained_at    timestamptz,
    closed_at       timestamptz,
    resolution      text,
    breach          jsonb,     -- the privacy officer's breach determination: counts and dates only
    risk            jsonb,     -- the four-factor risk assessment of §164.402(2): enumerated answers
    risk_assessed_at timestamptz,
    alerted_at      timestamptz,
    escalated_at    timestamptz
);
create index incident_state on incident.incident (state, detected_at);

-- The references an incident holds (capped per incident): patients and audit events.
create table incident.incident_patient (
    incident_id uuid not null references incident.incident (id),
    patient     text not null,
    primary key (incident_id, patient)
);
create table incident.incident_event (
    incident_id uuid   not null references incident.incident (id),
    event_id    uuid   not null,
    leaf_index  bigint not null,
    primary key (incident_id, event_id)
);

-- Everything that happened to an incident, in order: detection, each transition, each action.
create table incident.timeline (
    id          bigint      generated always as identity primary key,
    incident_id uuid        not null references incident.incident (id),
    at          timestamptz not null,
    actor       text        not null,
    entry       text        not null,   -- a code: detected, acknowledged, contained:revoke-sessions, ...
    detail      text                    -- a short code or a count, never free text
);
create index timeline_incident on incident.timeline (incident_id, id);

grant usage on schema incident to ${phi_role};
grant select, insert, update on incident.reader_position, incident.principal_link, incident.patient_flag,
    incident.hour_of_day, incident.incident to ${phi_role};
grant select, insert, delete on incident.hour_patient to ${phi_role};
grant select, insert on incident.incident_patient, incident.incident_event, incident.timeline to ${phi_role};
