-- The installation's budget of HSM logins refused for the PIN (ADR 0049, review finding M4). An HSM
-- locks a token's user PIN after a few refused logins, and it counts every node, every restart and
-- every CLI command alike; so the count lives here, in the keyring every one of them shares, and each
-- login is reserved against it first (one UPDATE: check and increment together). A successful login
-- sets it back to 0; an operator who fixed the PIN resets it with ./carapace keys reset-hsm-logins.

create table keyring.hsm_login (
    token           text        primary key,          -- 'kek': the installation's one KEK token
    refused         integer     not null default 0,   -- refused logins since the last success or reset, plus logins under way
    last_attempt_at timestamptz,                      -- the last login reserved: the back-off counts from it
    last_code       text,                             -- the PKCS#11 return value's name of the last refusal (never the PIN)
    reset_at        timestamptz,
    reset_by        text                              -- the operating-system user who reset it
);
insert into keyring.hsm_login (token) values ('kek');

grant select, update on keyring.hsm_login to ${keyring_role};
