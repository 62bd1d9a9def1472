-- Telehealth (issue 16, docs/TELEHEALTH.md): video visits started from an Appointment. Nothing
-- here is PHI or key material: records are referenced by their server-assigned ids, people by
-- their principal, and a patient's join link only by its SHA-256 hash. Media keys and signaling
-- messages are never stored anywhere.

create schema if not exists telehealth;

-- One row per started visit (one per Appointment). 'ended' is final: no one joins again.
create table telehealth.visit (
    appointment_id uuid        primary key,
    patient        text        not null,   -- 'Patient/<uuid>': the compartment the visit is in
    encounter_id   uuid        not null,   -- the Encounter (class VR) $start-visit created
    clinicians     text[]      not null,   -- 'Practitioner/<uuid>' of the Appointment's participants
    started_by     text        not null,
    started_at     timestamptz not null,
    ended_at       timestamptz,
    ended_by       text
);

-- The patient's single-use join link: only its hash is kept. Used once (used_at), or revoked
-- (a new $start-visit, the visit's end), or expired: refused from then on.
create table telehealth.patient_link (
    link_hash      bytea       primary key check (length(link_hash) = 32),
    appointment_id uuid        not null references telehealth.visit (appointment_id),
    expires_at     timestamptz not null,
    used_at        timestamptz,
    revoked_at     timestamptz
);
create index patient_link_visit on telehealth.patient_link (appointment_id);

grant usage on schema telehealth to ${phi_role};
grant select, insert, update on telehealth.visit to ${phi_role};
grant select, insert, update on telehealth.patient_link to ${phi_role};
