-- Keyring: wrapped keys only. Reached through its own pool as ${keyring_role}; the PHI role
-- has no grant here (and in production this schema may live in a separate database).

-- Flyway creates the schema (it is the configured default schema); nobody else gets usage.
revoke all on schema keyring from public;

create table keyring.wrapped_key (
    key_ref    text        primary key,  -- 'dek/Patient/<uuid>', 'dek/shared', 'index-root', 'secret/<name>'
    kek_id     text        not null,     -- which KEK wrapped it
    wrapped    bytea       not null,     -- Tink encrypted keyset or KEK-sealed secret; AAD = key_ref
    created_at timestamptz not null default now()
);

grant usage on schema keyring to ${keyring_role};
grant select, insert on keyring.wrapped_key to ${keyring_role};
