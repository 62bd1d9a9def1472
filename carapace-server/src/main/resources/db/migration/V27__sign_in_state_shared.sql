-- Sign-in state shared by every node (issue #21, ADR 0030): any node serves any step of a
-- sign-in, and a restart signs nobody out.

-- Issued authorizations (codes, access and refresh tokens with what they were issued for). The
-- whole authorization is sealed (AES-256-GCM under a keyring key, its id as associated data):
-- a copy of the database yields neither a token nor a code.
create table iam.authorization_grant (
    id          text        primary key,
    expires_at  timestamptz not null,
    sealed      bytea       not null
);
create index authorization_grant_expiry on iam.authorization_grant (expires_at);

-- How a presented token finds its authorization: by the token's SHA-256 only. A rotated refresh
-- token stays listed (retired) until it would have expired, so that its return is recognised as
-- a replay and ends the session.
create table iam.authorization_token (
    token_hash        bytea       primary key,
    authorization_id  text        not null references iam.authorization_grant (id) on delete cascade,
    kind              text        not null check (kind in ('code', 'access', 'refresh')),
    retired           boolean     not null default false,
    expires_at        timestamptz not null
);
create index authorization_token_authorization on iam.authorization_token (authorization_id);
create index authorization_token_expiry on iam.authorization_token (expires_at);

-- The sign-in pages' browser session (Spring Session JDBC's PostgreSQL schema). Attribute values
-- are sealed before they reach this table; the browser's cookie carries the session id sealed
-- too, so the id stored here alone does not resume anyone's sign-in. No principal name is kept.
create table iam.sign_in_session (
    primary_id             char(36)     not null,
    session_id             char(36)     not null,
    creation_time          bigint       not null,
    last_access_time       bigint       not null,
    max_inactive_interval  int          not null,
    expiry_time            bigint       not null,
    principal_name         varchar(100),
    constraint sign_in_session_pk primary key (primary_id)
);
create unique index sign_in_session_ix1 on iam.sign_in_session (session_id);
create index sign_in_session_ix2 on iam.sign_in_session (expiry_time);
create index sign_in_session_ix3 on iam.sign_in_session (principal_name);

create table iam.sign_in_session_attributes (
    session_primary_id  char(36)     not null,
    attribute_name      varchar(200) not null,
    attribute_bytes     bytea        not null,
    constraint sign_in_session_attributes_pk primary key (session_primary_id, attribute_name),
    constraint sign_in_session_attributes_fk foreign key (session_primary_id)
        references iam.sign_in_session (primary_id) on delete cascade
);

grant select, insert, update, delete on iam.authorization_grant, iam.authorization_token,
    iam.sign_in_session, iam.sign_in_session_attributes to ${phi_role};
