-- Carapace main database: encrypted records, their blind indexes, service clients.
-- Runs as the owner role; the application connects as ${phi_role}, which gets only DML here
-- and nothing at all in the keyring schema (which may live in another database).

create schema if not exists phi;
create schema if not exists phi_index;
create schema if not exists iam;

-- One row per resource: the current version. Metadata only; no PHI.
create table phi.resource (
    resource_type   text        not null,
    resource_id     uuid        not null,
    current_version bigint      not null,
    compartment     text        not null,   -- key reference: 'Patient/<uuid>' or 'shared'
    last_updated    timestamptz not null,   -- server write time, not a clinical date
    deleted         boolean     not null,
    primary key (resource_type, resource_id)
);
create index resource_compartment on phi.resource (compartment, resource_type);
create index resource_last_updated on phi.resource (resource_type, last_updated);

-- Every version, as ciphertext. AAD binds type/id/version, so rows cannot be swapped.
create table phi.resource_version (
    resource_type text        not null,
    resource_id   uuid        not null,
    version       bigint      not null,
    compartment   text        not null,
    last_updated  timestamptz not null,
    deleted       boolean     not null,
    ciphertext    bytea,                    -- null for a deletion marker
    primary key (resource_type, resource_id, version),
    check (deleted or ciphertext is not null)
);

-- Blind-index tokens (truncated keyed HMACs) of the current version of each resource.
create table phi_index.token (
    resource_type text    not null,
    resource_id   uuid    not null,
    index_name    text    not null,
    token         integer not null
);
create index token_lookup on phi_index.token (index_name, token);
create index token_owner on phi_index.token (resource_type, resource_id);

-- OAuth2 service clients (client-credentials grant). Only a hash of the secret is kept.
create table iam.service_client (
    client_id   text        primary key,
    name        text        not null,
    secret_hash text        not null,
    created_at  timestamptz not null default now(),
    disabled    boolean     not null default false
);

grant usage on schema phi, phi_index, iam to ${phi_role};
grant select, insert, update on phi.resource to ${phi_role};
grant select, insert on phi.resource_version to ${phi_role};
grant select, insert, delete on phi_index.token to ${phi_role};
grant select, insert, update on iam.service_client to ${phi_role};
