-- Bulk Data $export (issue #18, docs/BULK.md): jobs and their output files. No PHI here: patients
-- are not named, files hold ciphertext on disk (Tink streaming AEAD under a key of the export,
-- stored here wrapped by the KEK), and the request is kept as its parsed parameters.
create schema if not exists export;

create table export.job (
    id            uuid        primary key,
    client_id     text        not null,            -- the only principal that may poll, download or cancel
    app_scope     text[],                          -- the granted scopes of the kick-off token (null: roles only)
    client_address text       not null,            -- decisions use the kick-off's address (IP ranges)
    level         text        not null check (level in ('system', 'patient', 'group')),
    group_id      uuid,
    types         text[]      not null,
    since         timestamptz,
    request_url   text        not null,            -- the kick-off URL without its query string
    status        text        not null check (status in ('queued', 'running', 'complete', 'failed', 'cancelled', 'expired')),
    wrapped_key   bytea       not null,            -- the export's streaming AEAD keyset, encrypted by the KEK
    kek_id        text        not null,
    cursor_patient text,                           -- the last patient whose output is committed (resumable)
    part          integer     not null default 0,  -- output parts committed so far
    patients_done integer     not null default 0,
    heartbeat_at  timestamptz,
    created_at    timestamptz not null,
    completed_at  timestamptz,
    expires_at    timestamptz
);
create index job_status on export.job (status, created_at);

create table export.file (
    job_id    uuid    not null references export.job (id),
    name      text    not null,                    -- part-<n>-<Type>.ndjson.enc, never a patient
    type      text    not null,
    part      integer not null,
    resources integer not null,
    primary key (job_id, name)
);

grant usage on schema export to ${phi_role};
grant select, insert, update, delete on export.job, export.file to ${phi_role};
