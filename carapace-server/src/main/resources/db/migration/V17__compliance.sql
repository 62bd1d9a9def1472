-- Compliance evidence (docs/COMPLIANCE.md): signed reports and the record of vulnerability scans.
-- Append-only like the audit trail: the application role may INSERT and SELECT; triggers refuse
-- UPDATE, DELETE and TRUNCATE for everyone. A superuser can still disable triggers, which is why
-- each report is signed (Ed25519 under the KEK) and names the SHA-256 of the report before it:
-- an edited report fails verification, a removed one breaks the chain.

create schema if not exists compliance;

create table compliance.report (
    id           uuid        primary key,
    measured_at  timestamptz not null,
    overall      text        not null check (overall in ('pass', 'fail', 'unknown')),
    key_id       text        not null,
    signed       bytea       not null,   -- the signed report file, exactly as handed to an auditor
    sha256       bytea       not null    -- SHA-256 of the report bytes (after the signature line)
);
create index report_measured on compliance.report (measured_at);

-- One row per scan of the running server by the outside scanners (wapiti, testssl.sh), as the
-- gate judged it. Target is a loopback URL (the CLI refuses anything else); summary is the
-- gate's own text (counts and finding ids, never a response body).
create table compliance.scan (
    id          bigint      generated always as identity primary key,
    finished_at timestamptz not null,
    target      text        not null,
    passed      boolean     not null,
    findings    integer     not null,
    summary     text        not null
);
create index scan_finished on compliance.scan (finished_at);

create function compliance.refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'compliance evidence is append-only (% on %)', tg_op, tg_table_name;
end $$;

create trigger report_append_only before update or delete on compliance.report
    for each row execute function compliance.refuse_change();
create trigger report_no_truncate before truncate on compliance.report
    for each statement execute function compliance.refuse_change();
create trigger scan_append_only before update or delete on compliance.scan
    for each row execute function compliance.refuse_change();
create trigger scan_no_truncate before truncate on compliance.scan
    for each statement execute function compliance.refuse_change();

grant usage on schema compliance to ${phi_role};
grant select, insert on compliance.report, compliance.scan to ${phi_role};
