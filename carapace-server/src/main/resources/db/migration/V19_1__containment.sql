-- Containment (issue 15): blocked addresses and the lockdown, read on every request by every node
-- (cached, dropped on the announcement below; read afresh when the announcement channel is not
-- proven alive). References and network ranges only.

create table incident.blocked_range (
    id          uuid        primary key,
    range       cidr        not null,
    incident_id uuid        references incident.incident (id),
    blocked_by  text        not null,
    blocked_at  timestamptz not null,
    lifted_at   timestamptz,
    lifted_by   text
);

-- One row: whether PHI requests are locked down, and the named administrators still let through.
create table incident.lockdown (
    singleton   boolean     primary key default true check (singleton),
    active      boolean     not null,
    allowed     text[]      not null,
    incident_id uuid        references incident.incident (id),
    changed_by  text        not null,
    changed_at  timestamptz not null
);

-- Every change moves this counter and is announced, so each node's cache knows it is stale.
create table incident.containment_version (
    singleton boolean primary key default true check (singleton),
    version   bigint  not null
);
insert into incident.containment_version values (true, 0);

create function incident.announce_containment_change() returns trigger language plpgsql as $$
begin
    update incident.containment_version set version = version + 1;
    perform pg_notify('carapace_containment_change', '');
    return null;
end $$;

create trigger blocked_range_changed after insert or update or delete on incident.blocked_range
    for each statement execute function incident.announce_containment_change();
create trigger lockdown_changed after insert or update or delete on incident.lockdown
    for each statement execute function incident.announce_containment_change();
alter table incident.blocked_range enable always trigger blocked_range_changed;
alter table incident.lockdown enable always trigger lockdown_changed;

grant select, insert, update on incident.blocked_range, incident.lockdown to ${phi_role};
grant select, update on incident.containment_version to ${phi_role};
