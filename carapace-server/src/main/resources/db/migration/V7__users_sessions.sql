-- Human users, their sign-in sessions, enrolment links, failed-login counters, and the
-- registered public clients (apps) through which people sign in (authorization code + PKCE).

create table iam.app_user (
    id              uuid        primary key,
    user_name       text        not null,
    password_hash   text,                   -- Argon2id; null until the enrolment link is used
    roles           text[]      not null default '{}',
    practitioner_id text,                   -- FHIR Practitioner the user acts as, or null
    disabled        boolean     not null default false,
    totp_sealed     bytea,                  -- TOTP seed, AES-GCM under a keyring secret; never in clear
    totp_enrolled_at timestamptz,
    totp_last_step  bigint,                 -- last accepted TOTP time step: a code is never accepted twice
    created_at      timestamptz not null default now()
);
-- One account per name, whatever the case.
create unique index app_user_name on iam.app_user (lower(user_name));

-- One-time enrolment links: only a SHA-256 of the 256-bit token is kept.
create table iam.enrolment (
    token_hash bytea       primary key,
    user_id    uuid        not null references iam.app_user (id),
    expires_at timestamptz not null,
    used_at    timestamptz
);

-- One row per completed login (password and TOTP). Access tokens carry its id as "sid"; every
-- request checks the row, so revocation, idle expiry and disabling act on the next request.
create table iam.session (
    id                  uuid        primary key,
    user_id             uuid        not null references iam.app_user (id),
    created_at          timestamptz not null,
    idle_expires_at     timestamptz not null,
    absolute_expires_at timestamptz not null,
    revoked_at          timestamptz
);
create index session_by_user on iam.session (user_id) where revoked_at is null;

-- Failed sign-in counters, per account and per client address. The key is a keyed hash (HMAC
-- under a keyring secret) so that a password typed into the user-name field is not stored.
create table iam.login_failure (
    key             bytea       primary key,
    failures        integer     not null,
    last_failure_at timestamptz not null,
    locked_until    timestamptz
);

-- Public clients for human sign-in (no secret; PKCE S256 required).
create table iam.login_app (
    client_id     text        primary key,
    name          text        not null,
    redirect_uris text[]      not null,
    created_at    timestamptz not null default now(),
    disabled      boolean     not null default false
);

grant select, insert, update on iam.app_user, iam.enrolment, iam.session, iam.login_app to ${phi_role};
grant select, insert, update, delete on iam.login_failure to ${phi_role};
