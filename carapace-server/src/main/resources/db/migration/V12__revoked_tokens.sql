-- Access tokens revoked before they expire (RFC 7009, docs/adr/0013). Access tokens are signed
-- JWTs that every node verifies on its own; their "jti" is looked up here on every request, in
-- the same query as the principal, so a revocation holds on the next request on every node and
-- survives a restart. A row is useless once its token has expired: expired rows are pruned.
create table iam.revoked_token (
    jti        text        primary key,
    expires_at timestamptz not null
);
create index revoked_token_expiry on iam.revoked_token (expires_at);

grant select, insert, delete on iam.revoked_token to ${phi_role};
