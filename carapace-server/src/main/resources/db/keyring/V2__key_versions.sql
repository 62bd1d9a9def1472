-- Key lifecycle (ADR 0010): versions of the KEK and of the index root key, per-key usage
-- counters, and the grants that rotation needs. No key material here except in wrapped_key.

-- One row per version of a top-level key. Exactly one 'active' version per kind: new wraps (kek)
-- and new index tokens (index-root) always use it. 'decrypt-only' versions are still usable for
-- unwrapping / searching while a rotation job moves everything off them (Vault's
-- min_decryption_version); 'retired' versions are refused.
create table keyring.key_version (
    kind        text        not null check (kind in ('kek', 'index-root')),
    version     integer     not null check (version > 0),
    key_id      text        not null unique,  -- 'pkcs11/<label>', 'dev-keystore/kek-<n>', 'index-root[/v<n>]'
    state       text        not null check (state in ('active', 'decrypt-only', 'retired')),
    created_at  timestamptz not null default now(),
    retired_at  timestamptz,
    encryptions bigint      not null default 0,  -- wraps performed under this version (KEK)
    primary key (kind, version)
);
create unique index key_version_one_active on keyring.key_version (kind) where state = 'active';

-- One row per key inside a compartment's Tink keyset (key_id = Tink's 32-bit key id, which is
-- also the ciphertext prefix). Counts encryptions so that no AES-GCM key nears 2^32 messages.
create table keyring.dek_key (
    key_ref      text        not null,   -- 'dek/Patient/<uuid>' or 'dek/shared'
    key_id       bigint      not null,
    created_at   timestamptz not null default now(),
    encryptions  bigint      not null default 0,
    destroyed_at timestamptz,            -- removed from the keyset once no ciphertext refers to it
    primary key (key_ref, key_id)
);

grant select, insert, update on keyring.key_version to ${keyring_role};
grant select, insert, update on keyring.dek_key to ${keyring_role};
-- Rotation rewrites a wrapped key in place (new KEK version, or a keyset with a new primary);
-- the key_ref and created_at of a row never change.
grant update (kek_id, wrapped) on keyring.wrapped_key to ${keyring_role};
