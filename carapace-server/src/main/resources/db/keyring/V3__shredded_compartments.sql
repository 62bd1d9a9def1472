-- Crypto-shredding in the keyring (docs/adr/0011): the keyring's own record of compartments
-- whose data keys were destroyed, so that no node ever creates a new key for them, and the
-- DELETE grant that destroying a wrapped key needs.

create table keyring.shredded_compartment (
    compartment text        primary key,  -- 'Patient/<uuid>'
    request_id  uuid        not null,
    shredded_at timestamptz not null default now()
);

grant select, insert on keyring.shredded_compartment to ${keyring_role};
grant delete on keyring.wrapped_key to ${keyring_role};
