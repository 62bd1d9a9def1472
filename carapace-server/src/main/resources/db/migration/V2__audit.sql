-- Audit trail: append-only. The application role may INSERT and SELECT; triggers refuse
-- UPDATE, DELETE and TRUNCATE for everyone (a superuser can disable triggers, which is why the
-- Merkle tree and signed tree heads exist: such edits are detected, not prevented).

create schema if not exists audit;

-- One row per event. body holds the event's canonical JSON: the exact bytes hashed into its
-- Merkle leaf. The other columns repeat fields of the body for queries (verify checks them).
create table audit.event (
    id          bigint      generated always as identity primary key,
    event_id    uuid        not null unique,
    recorded_at timestamptz not null,
    actor       text        not null,
    action      text        not null,
    outcome     text        not null,
    patient     text,
    body        bytea       not null
);
create index event_patient on audit.event (patient, recorded_at);
create index event_recorded on audit.event (recorded_at);

create function audit.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit records are append-only (% on %)', tg_op, tg_table_name;
end $$;

create trigger event_append_only before update or delete on audit.event
    for each row execute function audit.refuse_change();
create trigger event_no_truncate before truncate on audit.event
    for each statement execute function audit.refuse_change();

grant usage on schema audit to ${phi_role};
grant select, insert on audit.event to ${phi_role};
