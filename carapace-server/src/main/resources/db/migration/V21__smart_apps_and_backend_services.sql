-- SMART on FHIR (issue #18, docs/SMART.md, docs/adr/0022). Tables of the sign-in module (iam).

-- SMART apps are sign-in apps with a scope ceiling: the scopes (SMART 2.0 grammar) an app may
-- ask for at most. An app without scopes is a plain sign-in app (ADR 0007) and may ask for none.
-- A confidential app also has a client secret (Argon2id hash only); every app uses PKCE S256.
alter table iam.login_app add column scopes text[] not null default '{}';
alter table iam.login_app add column secret_hash text;
alter table iam.login_app add column launch_uri text;

-- EHR launch contexts: a signed-in person opens an app for a patient; the app brings the launch
-- id back to the authorization endpoint. Only the SHA-256 of the id is stored; single use.
create table iam.smart_launch (
    id_hash    bytea       primary key,
    client_id  text        not null,
    user_name  text        not null,
    patient    text        not null,
    expires_at timestamptz not null
);
create index smart_launch_expiry on iam.smart_launch (expires_at);

-- SMART Backend Services: a service client may authenticate with private_key_jwt (a JWKS given
-- at registration, or an https JWKS URL) instead of a secret, and has a scope ceiling too.
alter table iam.service_client alter column secret_hash drop not null;
alter table iam.service_client add column scopes text[] not null default '{}';
alter table iam.service_client add column jwks text;
alter table iam.service_client add column jwks_url text;

-- Client assertions already used (RFC 7523 §3 item 7): a jti is refused a second time, on every
-- node, until the assertion has expired; expired rows are pruned on insert.
create table iam.client_assertion (
    client_id  text        not null,
    jti        text        not null,
    expires_at timestamptz not null,
    primary key (client_id, jti)
);
create index client_assertion_expiry on iam.client_assertion (expires_at);

grant select, insert, delete on iam.smart_launch to ${phi_role};
grant select, insert, delete on iam.client_assertion to ${phi_role};
