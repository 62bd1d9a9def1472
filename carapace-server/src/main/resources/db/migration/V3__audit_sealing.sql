-- Merkle sealing of the audit trail (RFC 6962). The sealer gives committed events contiguous
-- leaf indexes in commit-visible order and signs tree heads at a fixed cadence. Append-only,
-- like audit.event; the application role may INSERT and SELECT.

create table audit.leaf (
    leaf_index bigint primary key,           -- 0, 1, 2, ... with no gaps
    event_id   bigint not null unique,       -- audit.event.id (identity values can have gaps)
    leaf_hash  bytea  not null               -- SHA-256(0x00 || event body)
);

create table audit.tree_head (
    tree_size  bigint      primary key,
    root_hash  bytea       not null,
    signed_at  timestamptz not null,
    key_id     text        not null,
    signature  bytea       not null,         -- Ed25519 over the canonical tree-head encoding
    peaks      bytea       not null          -- roots of the perfect subtrees: lets the sealer resume
);

create trigger leaf_append_only before update or delete on audit.leaf
    for each row execute function audit.refuse_change();
create trigger leaf_no_truncate before truncate on audit.leaf
    for each statement execute function audit.refuse_change();
create trigger tree_head_append_only before update or delete on audit.tree_head
    for each row execute function audit.refuse_change();
create trigger tree_head_no_truncate before truncate on audit.tree_head
    for each statement execute function audit.refuse_change();

grant select, insert on audit.leaf, audit.tree_head to ${phi_role};
