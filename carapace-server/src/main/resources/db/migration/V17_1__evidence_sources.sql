-- What two modules' compliance checks read, in the schemas of the modules that own them
-- (issue #19; one migration so that the compliance work keeps its one version number).

-- audit: every run of the full verification (audit verify, and the server's periodic run), so
-- that the compliance report reads the last result instead of recomputing a year of trail.
-- Append-only like the rest of the audit schema.
create table audit.verification (
    id             bigint      generated always as identity primary key,
    finished_at    timestamptz not null,
    ok             boolean     not null,
    events_checked bigint      not null,
    heads_checked  bigint      not null,
    first_problem  text                  -- leaf index or tree size that failed; never an event body
);
create index verification_finished on audit.verification (finished_at);
create trigger verification_append_only before update or delete on audit.verification
    for each row execute function audit.refuse_change();
create trigger verification_no_truncate before truncate on audit.verification
    for each statement execute function audit.refuse_change();
grant select, insert on audit.verification to ${phi_role};

-- signin: the date a person's access must end (employment or contract end), set by an
-- administrator; the compliance check flags accounts still enabled, or holding a session, past it.
alter table iam.app_user add column access_ends_at timestamptz;

-- signin: the access reviews the server computes (unused permissions over 90 days take a pass
-- over the audit trail: seconds with a year of events), so that the compliance report reads a
-- recent one. The application role may only add rows.
create table iam.access_review (
    id              bigint      generated always as identity primary key,
    generated_at    timestamptz not null,
    days            integer     not null,
    principals      integer     not null,
    with_unused     text        not null,   -- 'name (n unused)', comma-separated: workforce and client names only
    undefined_roles text        not null    -- principals holding roles the policy does not define
);
create index access_review_generated on iam.access_review (generated_at);
grant select, insert on iam.access_review to ${phi_role};
