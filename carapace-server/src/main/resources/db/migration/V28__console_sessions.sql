-- The privacy officer's console (issue #20, ADR 0031). The console is a sign-in app like any
-- other; it keeps the tokens it was issued here, server-side, never in the browser. The browser
-- holds only a random session key; the table holds its SHA-256, so the table alone resumes no
-- session, and the tokens are sealed (AES-256-GCM under a keyring key, the key's hash as
-- associated data), so a copy of the database yields no token either.
create schema if not exists console;

create table console.session (
    key_hash         bytea       primary key,
    sealed           bytea       not null,
    created_at       timestamptz not null,
    idle_expires_at  timestamptz not null
);
create index session_idle_expiry on console.session (idle_expires_at);

grant usage on schema console to ${phi_role};
grant select, insert, update, delete on console.session to ${phi_role};

-- The audit explorer pages newest first by keyset (recorded_at, id), filtered by patient
-- (event_patient, V2), by nothing (event_recorded, V2) or by principal: this index. Each index
-- costs every audit insert, so only this one is added (docs/CONSOLE.md shows the plans). The
-- audit module's table; the console reads it only through the audit module's queries.
create index event_actor on audit.event (actor, recorded_at);
