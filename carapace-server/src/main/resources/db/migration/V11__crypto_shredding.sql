-- Crypto-shredding (docs/adr/0011): dual-control requests to destroy a patient's data keys, and
-- the tombstone of each compartment whose keys were destroyed. Neither holds PHI: patients are
-- referenced by their server-assigned id, people by their principal, reasons are reference codes.

-- One request per attempt. A second administrator approves (or anyone refuses) before
-- expires_at; only an approved request destroys keys. 'approved' means the tombstone is written
-- and the keyring deletion is due (resumed after a crash); 'executed' means the keys are gone.
create table ops.shredding_request (
    request_id   uuid        primary key,
    compartment  text        not null,   -- 'Patient/<uuid>'
    reason       text        not null,   -- retention reference, e.g. 'RET-2019-0042' (no prose)
    requested_by text        not null,
    requested_at timestamptz not null,
    expires_at   timestamptz not null,
    state        text        not null check (state in ('pending', 'expired', 'approved', 'refused', 'executed')),
    decided_by   text,
    decided_at   timestamptz,
    executed_at  timestamptz,
    check (state in ('pending', 'expired') or decided_by is not null),
    -- dual control, in the database too: nobody approves their own request (withdrawing it is fine)
    check (decided_by is null or decided_by <> requested_by or state = 'refused')
);
-- At most one open request per patient.
create unique index shredding_request_open on ops.shredding_request (compartment) where state = 'pending';

-- The tombstone: this compartment's keys are destroyed. Written in the approval's transaction,
-- before the keys are deleted from the keyring, and read by every record read and write (a
-- join on the primary key), so every node refuses the compartment at once, whatever it has
-- cached.
create table phi.shredded_compartment (
    compartment text        primary key,
    request_id  uuid        not null,
    shredded_at timestamptz not null,
    requested_by text       not null,
    approved_by text        not null
);

grant select, insert, update on ops.shredding_request to ${phi_role};
grant select, insert on phi.shredded_compartment to ${phi_role};
